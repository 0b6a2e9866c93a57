//! Leadership transfer.

use crate::ids::{NodeId, Term};
use crate::raft::tests::fixture::*;
use crate::raft::{Message, ProposeError, ReadError};

#[test]
fn transfer_to_caught_up_voter_sends_timeout_now_and_blocks_proposals() {
    let (mut r, now) = leader();
    assert_eq!(r.transfer_leadership(now, NodeId(2)), Ok(()));
    assert_eq!(
        drain(&mut r),
        vec![send(2, Message::TimeoutNow { term: Term(2) })]
    );
    assert_eq!(
        r.propose(now, bytes::Bytes::new()),
        Err(ProposeError::TransferInProgress)
    );
    assert_eq!(r.lease_read(now), Err(ReadError::LeaseExpired));
}

#[test]
fn transfer_is_abandoned_after_an_election_timeout() {
    let (mut r, now) = leader();
    r.transfer_leadership(now, NodeId(3)).ok();
    drain(&mut r);
    let timeout = crate::raft::Config::new(NodeId(1)).election_timeout;
    // Node 2 keeps answering, so check-quorum keeps us leader; node 3 never catches up.
    r.handle_message(now + timeout / 2, NodeId(2), append_ok(2, 1, 2));
    let later = now + timeout;
    r.handle_timeout(later);
    drain(&mut r);
    assert!(r.propose(later, bytes::Bytes::new()).is_ok());
}

#[test]
fn follower_campaigns_at_once_on_timeout_now_from_its_leader() {
    let mut r = follower(2);
    let now = r.poll_timeout().unwrap();
    r.handle_message(now, NodeId(1), append(1, (1, 1), vec![], 0));
    drain(&mut r);
    r.handle_message(now, NodeId(1), Message::TimeoutNow { term: Term(1) });
    assert_eq!(r.role(), crate::raft::Role::Candidate);
    assert_eq!(r.term(), Term(2));
}
