//! Snapshots: compaction after persist, follower install after persist.

use bytes::Bytes;

use crate::ids::{IoToken, LogIndex, NodeId, Term};
use crate::raft::tests::fixture::*;
use crate::raft::{
    Action, Event, LogWrite, Message, Snapshot, SnapshotChunk, SnapshotChunkResponse, SnapshotMeta,
};

#[test]
fn snapshot_is_persisted_before_the_log_is_compacted() {
    let (mut r, now) = leader();
    r.snapshot_taken(now, LogIndex(2), Bytes::from_static(b"state"));
    let snapshot = Snapshot {
        meta: SnapshotMeta {
            last_index: LogIndex(2),
            last_term: Term(2),
            membership: three_voters(),
        },
        data: Bytes::from_static(b"state"),
    };
    assert_eq!(
        drain(&mut r),
        vec![persist(
            3,
            LogWrite {
                snapshot: Some(snapshot),
                hard_state: hard_state(2, Some(1), 2),
                compact_through: Some(LogIndex(2)),
                ..LogWrite::default()
            }
        )]
    );
    assert_eq!(r.term_at(LogIndex(1)), Some(Term(1)));
    r.handle_persisted(now, IoToken(3));
    assert_eq!(r.term_at(LogIndex(1)), None);
    assert_eq!(r.term_at(LogIndex(2)), Some(Term(2)));
}

#[test]
fn snapshot_beyond_applied_index_is_refused() {
    let (mut r, now) = leader();
    r.snapshot_taken(now, LogIndex(5), Bytes::new());
    assert_eq!(drain(&mut r), vec![]);
}

#[test]
fn snapshot_older_than_one_still_being_written_is_refused() {
    // Found by the VOPR (seeds 846, 1616, ...): a snapshot taken while a newer one was not yet
    // durable was written after it, replacing it and leaving a gap in the log.
    let (mut r, now) = leader();
    r.propose(now, Bytes::from_static(b"x")).ok();
    let token = persist_token(&drain(&mut r));
    r.handle_persisted(now, token);
    r.handle_message(now, NodeId(2), append_ok(2, 1, 3));
    drain(&mut r);
    assert_eq!(r.applied_index(), LogIndex(3));
    r.snapshot_taken(now, LogIndex(3), Bytes::from_static(b"at 3"));
    let newer = persist_token(&drain(&mut r));
    r.snapshot_taken(now, LogIndex(2), Bytes::from_static(b"at 2"));
    assert_eq!(drain(&mut r), vec![]);
    r.handle_persisted(now, newer);
    assert_eq!(r.term_at(LogIndex(3)), Some(Term(2)));
    assert_eq!(
        r.term_at(LogIndex(2)),
        None,
        "compacted through the newer snapshot"
    );
}

fn chunk(offset: u64, data: &'static [u8], done: bool) -> Message {
    Message::InstallSnapshot(SnapshotChunk {
        term: Term(2),
        meta: SnapshotMeta {
            last_index: LogIndex(9),
            last_term: Term(2),
            membership: three_voters(),
        },
        offset,
        data: Bytes::from_static(data),
        done,
    })
}

fn chunk_ack(next_offset: u64, done: bool) -> Message {
    Message::InstallSnapshotResponse(SnapshotChunkResponse {
        term: Term(2),
        last_index: LogIndex(9),
        next_offset,
        done,
    })
}

#[test]
fn follower_that_lost_track_of_a_stream_asks_for_offset_zero() {
    let mut r = follower(2);
    let now = r.poll_timeout().unwrap();
    r.handle_message(now, NodeId(1), chunk(2, b"cd", false));
    let actions = drain(&mut r);
    assert_eq!(actions[1], send(1, chunk_ack(0, false)));
}

#[test]
fn follower_restores_and_acks_snapshot_only_after_it_is_durable() {
    let mut r = follower(2);
    let now = r.poll_timeout().unwrap();
    r.handle_message(now, NodeId(1), chunk(0, b"ab", false));
    assert_eq!(
        drain(&mut r),
        vec![
            Action::Event(Event::LeaderChanged {
                leader: Some(NodeId(1)),
                term: Term(2)
            }),
            send(1, chunk_ack(2, false)),
            persist(
                1,
                LogWrite {
                    hard_state: hard_state(2, None, 0),
                    ..LogWrite::default()
                }
            ),
        ]
    );
    // A gap: ask for exactly what is missing.
    r.handle_message(now, NodeId(1), chunk(5, b"xy", false));
    assert_eq!(drain(&mut r), vec![send(1, chunk_ack(2, false))]);
    // A duplicate of the first chunk changes nothing.
    r.handle_message(now, NodeId(1), chunk(0, b"ab", false));
    assert_eq!(drain(&mut r), vec![send(1, chunk_ack(2, false))]);
    r.handle_message(now, NodeId(1), chunk(2, b"cd", true));
    let snapshot = Snapshot {
        meta: SnapshotMeta {
            last_index: LogIndex(9),
            last_term: Term(2),
            membership: three_voters(),
        },
        data: Bytes::from_static(b"abcd"),
    };
    assert_eq!(
        drain(&mut r),
        vec![persist(
            2,
            LogWrite {
                snapshot: Some(snapshot.clone()),
                truncate_from: Some(LogIndex(1)),
                hard_state: hard_state(2, None, 9),
                compact_through: Some(LogIndex(9)),
                ..LogWrite::default()
            }
        )]
    );
    r.handle_persisted(now, IoToken(1));
    assert_eq!(drain(&mut r), vec![]);
    r.handle_persisted(now, IoToken(2));
    assert_eq!(
        drain(&mut r),
        vec![
            Action::RestoreSnapshot(snapshot),
            send(1, chunk_ack(4, true))
        ]
    );
    assert_eq!(r.applied_index(), LogIndex(9));
    assert_eq!(r.last_index(), LogIndex(9));
}
