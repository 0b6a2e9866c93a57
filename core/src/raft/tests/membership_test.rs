//! Membership changes: one at a time, learners, invalid requests.

use crate::ids::{LogIndex, NodeId};
use crate::raft::tests::fixture::*;
use crate::raft::{ProposeError, Suffrage};

#[test]
fn second_membership_change_waits_for_the_first_to_commit() {
    let (mut r, now) = leader();
    assert_eq!(r.add_server(now, NodeId(4), "n4".into()), Ok(LogIndex(3)));
    assert_eq!(
        r.membership().servers[&NodeId(4)].suffrage,
        Suffrage::Learner
    );
    assert_eq!(
        r.remove_server(now, NodeId(2)),
        Err(ProposeError::MembershipChangePending)
    );
}

#[test]
fn invalid_membership_changes_are_refused_without_effect() {
    let (mut r, now) = leader();
    assert!(matches!(
        r.add_server(now, NodeId(2), "n2".into()),
        Err(ProposeError::InvalidMembershipChange(_))
    ));
    assert!(matches!(
        r.remove_server(now, NodeId(9)),
        Err(ProposeError::InvalidMembershipChange(_))
    ));
    assert_eq!(r.last_index(), LogIndex(2));
}

#[test]
fn learner_is_promoted_once_within_catch_up_margin() {
    let (mut r, now) = leader();
    r.add_server(now, NodeId(4), "n4".into()).ok();
    let token = persist_token(&drain(&mut r));
    r.handle_persisted(now, token);
    r.handle_message(now, NodeId(2), append_ok(2, 1, 3));
    drain(&mut r);
    assert_eq!(r.commit_index(), LogIndex(3));
    r.handle_message(now, NodeId(4), append_ok(2, 1, 3));
    drain(&mut r);
    assert_eq!(r.last_index(), LogIndex(4));
    assert!(r.membership().is_voter(NodeId(4)));
}

#[test]
fn non_leader_cannot_change_membership() {
    let mut r = follower(2);
    assert_eq!(
        r.add_server(crate::time::Instant::ZERO, NodeId(4), "n4".into()),
        Err(ProposeError::NotLeader { leader: None })
    );
}

#[test]
fn new_leader_changes_membership_only_after_committing_in_its_term() {
    let mut r = follower(1);
    let now = r.poll_timeout().unwrap();
    r.handle_timeout(now);
    let granted = crate::raft::VoteResponse {
        term: crate::ids::Term(2),
        granted: true,
    };
    r.handle_message(
        now,
        NodeId(2),
        crate::raft::Message::PreVoteResponse(granted.clone()),
    );
    let token = persist_token(&drain(&mut r));
    r.handle_persisted(now, token);
    r.handle_message(now, NodeId(2), crate::raft::Message::VoteResponse(granted));
    let token = persist_token(&drain(&mut r));
    r.handle_persisted(now, token);
    // Leader, but its Blank is not committed: an older config could still be in flight.
    assert_eq!(
        r.add_server(now, NodeId(4), "n4".into()),
        Err(ProposeError::MembershipChangePending)
    );
    r.handle_message(now, NodeId(2), append_ok(2, 1, 2));
    drain(&mut r);
    assert_eq!(r.add_server(now, NodeId(4), "n4".into()), Ok(LogIndex(3)));
}
