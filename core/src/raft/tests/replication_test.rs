//! Replication: the follower's append handling and the leader's pipelining and back-off.

use crate::ids::{IoToken, LogIndex, NodeId, Term};
use crate::raft::tests::fixture::*;
use crate::raft::{Action, AppendResponse, AppendResult, EntryPayload, Event, LogWrite, Message};

fn conflict(
    term: u64,
    round: u64,
    last: u64,
    conflict_term: Option<u64>,
    conflict_index: u64,
) -> Message {
    Message::AppendResponse(AppendResponse {
        term: Term(term),
        round,
        result: AppendResult::Conflict {
            last_index: LogIndex(last),
            conflict_term: conflict_term.map(Term),
            conflict_index: LogIndex(conflict_index),
        },
    })
}

#[test]
fn follower_persists_append_then_acks_and_applies() {
    let mut r = follower(2);
    let now = r.poll_timeout().unwrap();
    let blank = entry(2, 2, EntryPayload::Blank);
    r.handle_message(now, NodeId(1), append(2, (1, 1), vec![blank.clone()], 2));
    assert_eq!(
        drain(&mut r),
        vec![
            Action::Event(Event::LeaderChanged {
                leader: Some(NodeId(1)),
                term: Term(2)
            }),
            // 1/1 was already durable and is now known committed.
            Action::Apply {
                entries: vec![config_entry()]
            },
            persist(
                1,
                LogWrite {
                    entries: vec![blank.clone()],
                    hard_state: hard_state(2, None, 2),
                    ..LogWrite::default()
                }
            ),
        ]
    );
    r.handle_persisted(now, IoToken(1));
    assert_eq!(
        drain(&mut r),
        vec![
            send(1, append_ok(2, 1, 2)),
            Action::Apply {
                entries: vec![blank]
            },
        ]
    );
}

#[test]
fn follower_acks_and_applies_only_after_the_entries_are_durable() {
    let mut r = follower(2);
    let now = r.poll_timeout().unwrap();
    let blank = entry(2, 2, EntryPayload::Blank);
    r.handle_message(now, NodeId(1), append(2, (1, 1), vec![blank], 2));
    let token = persist_token(&drain(&mut r));
    r.handle_persisted(now, token);
    drain(&mut r);
    let a = command(3, 2, "a");
    r.handle_message(now, NodeId(1), append(2, (2, 2), vec![a.clone()], 3));
    assert_eq!(
        drain(&mut r),
        vec![persist(
            2,
            LogWrite {
                entries: vec![a.clone()],
                hard_state: hard_state(2, None, 3),
                ..LogWrite::default()
            }
        )]
    );
    r.handle_persisted(now, IoToken(2));
    assert_eq!(
        drain(&mut r),
        vec![
            send(1, append_ok(2, 1, 3)),
            Action::Apply { entries: vec![a] },
        ]
    );
}

#[test]
fn follower_rejects_stale_term_append_with_its_term() {
    let mut r = follower(2);
    let now = r.poll_timeout().unwrap();
    r.handle_message(now, NodeId(3), append(3, (1, 1), vec![], 0));
    drain(&mut r);
    r.handle_message(now, NodeId(1), append(2, (1, 1), vec![], 0));
    assert_eq!(drain(&mut r), vec![send(1, conflict(3, 0, 1, None, 2))]);
}

#[test]
fn follower_rejects_mismatched_prev_with_conflict_term_hint() {
    let extra = vec![command(2, 1, "a"), command(3, 1, "b")];
    let mut r = follower_with(2, config(2), extra);
    let now = r.poll_timeout().unwrap();
    r.handle_message(now, NodeId(1), append(1, (3, 2), vec![], 0));
    assert_eq!(
        drain(&mut r),
        vec![
            Action::Event(Event::LeaderChanged {
                leader: Some(NodeId(1)),
                term: Term(1)
            }),
            send(1, conflict(1, 1, 3, Some(1), 1)),
        ]
    );
}

#[test]
fn follower_truncates_conflicting_suffix_before_appending() {
    let extra = vec![command(2, 1, "a"), command(3, 1, "b")];
    let mut r = follower_with(2, config(2), extra);
    let now = r.poll_timeout().unwrap();
    let new = command(3, 2, "c");
    r.handle_message(now, NodeId(1), append(2, (2, 1), vec![new.clone()], 0));
    let actions = drain(&mut r);
    assert_eq!(
        actions[1..],
        [persist(
            1,
            LogWrite {
                truncate_from: Some(LogIndex(3)),
                entries: vec![new],
                hard_state: hard_state(2, None, 0),
                ..LogWrite::default()
            }
        )]
    );
    assert_eq!(r.term_at(LogIndex(3)), Some(Term(2)));
}

#[test]
fn leader_sends_new_entries_in_parallel_with_persisting_them() {
    let (mut r, now) = leader();
    let index = r.propose(now, bytes::Bytes::from_static(b"x"));
    assert_eq!(index, Ok(LogIndex(3)));
    let e = command(3, 2, "x");
    assert_eq!(
        drain(&mut r),
        vec![
            // Node 3 is still being probed (its first append is unanswered): nothing for it.
            send(2, append(2, (2, 2), vec![e.clone()], 2)),
            // The blank entry's commit rides along with this write rather than costing its own.
            persist(
                3,
                LogWrite {
                    entries: vec![e],
                    hard_state: hard_state(2, Some(1), 2),
                    ..LogWrite::default()
                }
            ),
        ]
    );
}

#[test]
fn leader_batches_proposals_until_drained_and_caps_inflight() {
    let mut cfg = config(1);
    cfg.max_inflight = 2;
    cfg.max_append_entries = 2;
    let (mut r, now) = leader_with(cfg);
    for _ in 0..7 {
        r.propose(now, bytes::Bytes::from_static(b"x")).ok();
    }
    let to_two: Vec<(u64, usize)> = drain(&mut r)
        .into_iter()
        .filter_map(|a| match a {
            Action::Send {
                to: NodeId(2),
                msg: Message::Append(req),
            } => Some((req.prev_log_index.0, req.entries.len())),
            _ => None,
        })
        .collect();
    // Two appends of two entries each, then the window is full.
    assert_eq!(to_two, vec![(2, 2), (4, 2)]);
    r.handle_message(now, NodeId(2), append_ok(2, 1, 4));
    let next: Vec<u64> = drain(&mut r)
        .into_iter()
        .filter_map(|a| match a {
            Action::Send {
                msg: Message::Append(req),
                ..
            } => Some(req.prev_log_index.0),
            _ => None,
        })
        .collect();
    assert_eq!(next, vec![6]);
}

#[test]
fn leader_backs_off_past_a_whole_conflicting_term() {
    let (mut r, now) = leader();
    for _ in 0..3 {
        r.propose(now, bytes::Bytes::from_static(b"x")).ok();
    }
    drain(&mut r);
    // Node 3 has entries of term 1 up to 4: the leader has no term-1 entry after 1, so it
    // restarts right after its last term-1 entry.
    r.handle_message(now, NodeId(3), conflict(2, 1, 4, Some(1), 2));
    let actions = drain(&mut r);
    let e2 = entry(2, 2, EntryPayload::Blank);
    let rest: Vec<_> = (3..=5).map(|i| command(i, 2, "x")).collect();
    let mut expected = vec![e2];
    expected.extend(rest);
    assert_eq!(actions, vec![send(3, append(2, (1, 1), expected, 2))]);
}
