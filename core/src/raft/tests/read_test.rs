//! ReadIndex and lease reads.

use crate::ids::{LogIndex, NodeId, ReadId};
use crate::raft::tests::fixture::*;
use crate::raft::{Action, ReadError};
use crate::time::Duration;

#[test]
fn follower_read_index_fails_with_leader_hint() {
    let mut r = follower(2);
    let now = r.poll_timeout().unwrap();
    r.handle_message(now, NodeId(1), append(1, (1, 1), vec![], 0));
    drain(&mut r);
    r.read_index(now, ReadId(1));
    let error = ReadError::NotLeader {
        leader: Some(NodeId(1)),
    };
    assert_eq!(
        drain(&mut r),
        vec![Action::ReadFailed {
            id: ReadId(1),
            error
        }]
    );
}

#[test]
fn read_index_waits_for_a_quorum_ack_of_a_new_round() {
    let (mut r, now) = leader();
    r.read_index(now, ReadId(5));
    let actions = drain(&mut r);
    assert_eq!(actions.len(), 2, "one heartbeat per follower: {actions:?}");
    // An ack of an older round proves nothing.
    r.handle_message(now, NodeId(2), append_ok(2, 1, 2));
    assert_eq!(drain(&mut r), vec![]);
    r.handle_message(now, NodeId(3), append_ok(2, 2, 2));
    assert_eq!(
        drain(&mut r),
        vec![Action::ReadReady {
            id: ReadId(5),
            index: LogIndex(2)
        }]
    );
}

#[test]
fn lease_read_is_valid_only_shortly_after_a_quorum_ack() {
    let (r, now) = leader();
    assert_eq!(r.lease_read(now), Ok(LogIndex(2)));
    let timeout = crate::raft::Config::new(NodeId(1)).election_timeout;
    assert_eq!(r.lease_read(now + timeout), Err(ReadError::LeaseExpired));
    assert_eq!(
        r.lease_read(now + (timeout - Duration::from_millis(50))),
        Err(ReadError::LeaseExpired)
    );
}

#[test]
fn lease_read_requires_check_quorum() {
    let mut cfg = config(1);
    cfg.check_quorum = false;
    let (r, now) = leader_with(cfg);
    assert_eq!(r.lease_read(now), Err(ReadError::LeaseExpired));
}
