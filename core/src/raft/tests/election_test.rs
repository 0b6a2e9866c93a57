//! Elections: pre-vote, votes, durability of grants, leases, timeouts.

use crate::ids::{LogIndex, NodeId, Term};
use crate::raft::tests::fixture::*;
use crate::raft::{
    Action, EntryPayload, Event, LogWrite, Message, Role, VoteRequest, VoteResponse,
};

fn vote_request(term: u64, last: (u64, u64), transfer: bool) -> VoteRequest {
    VoteRequest {
        term: Term(term),
        last_log_index: LogIndex(last.0),
        last_log_term: Term(last.1),
        transfer,
    }
}

#[test]
fn follower_times_out_into_pre_vote_without_raising_term() {
    let mut r = follower(1);
    let deadline = r.poll_timeout().unwrap();
    r.handle_timeout(deadline);
    let req = vote_request(2, (1, 1), false);
    assert_eq!(
        drain(&mut r),
        vec![
            Action::Event(Event::RoleChanged {
                role: Role::PreCandidate,
                term: Term(1)
            }),
            send(2, Message::PreVote(req.clone())),
            send(3, Message::PreVote(req)),
        ]
    );
    assert_eq!(r.term(), Term(1));
}

#[test]
fn early_timeout_does_nothing() {
    let mut r = follower(1);
    let deadline = r.poll_timeout().unwrap();
    r.handle_timeout(crate::time::Instant::from_micros(deadline.as_micros() - 1));
    assert_eq!(drain(&mut r), vec![]);
    assert_eq!(r.role(), Role::Follower);
}

#[test]
fn pre_vote_quorum_starts_real_election_and_persists_own_vote() {
    let mut r = follower(1);
    let now = r.poll_timeout().unwrap();
    r.handle_timeout(now);
    drain(&mut r);
    let granted = VoteResponse {
        term: Term(2),
        granted: true,
    };
    r.handle_message(now, NodeId(2), Message::PreVoteResponse(granted));
    let req = vote_request(2, (1, 1), false);
    assert_eq!(
        drain(&mut r),
        vec![
            Action::Event(Event::RoleChanged {
                role: Role::Candidate,
                term: Term(2)
            }),
            send(2, Message::Vote(req.clone())),
            send(3, Message::Vote(req)),
            persist(
                1,
                LogWrite {
                    hard_state: hard_state(2, Some(1), 0),
                    ..LogWrite::default()
                }
            ),
        ]
    );
}

#[test]
fn candidate_counts_own_vote_only_after_it_is_durable() {
    let mut r = follower(1);
    let now = r.poll_timeout().unwrap();
    r.handle_timeout(now);
    let granted = VoteResponse {
        term: Term(2),
        granted: true,
    };
    r.handle_message(now, NodeId(2), Message::PreVoteResponse(granted.clone()));
    let token = persist_token(&drain(&mut r));
    // Node 2's grant alone is not a quorum while our own vote is not on disk.
    r.handle_message(now, NodeId(2), Message::VoteResponse(granted));
    assert_eq!(drain(&mut r), vec![]);
    assert_eq!(r.role(), Role::Candidate);
    r.handle_persisted(now, token);
    let blank = entry(2, 2, EntryPayload::Blank);
    let append_blank = append(2, (1, 1), vec![blank.clone()], 0);
    assert_eq!(
        drain(&mut r),
        vec![
            Action::Event(Event::RoleChanged {
                role: Role::Leader,
                term: Term(2)
            }),
            Action::Event(Event::LeaderChanged {
                leader: Some(NodeId(1)),
                term: Term(2)
            }),
            send(2, append_blank.clone()),
            send(3, append_blank),
            persist(
                2,
                LogWrite {
                    entries: vec![blank],
                    ..LogWrite::default()
                }
            ),
        ]
    );
}

#[test]
fn vote_grant_is_sent_only_after_the_vote_is_durable() {
    let mut r = follower(2);
    let now = r.poll_timeout().unwrap();
    r.handle_message(
        now,
        NodeId(1),
        Message::Vote(vote_request(2, (1, 1), false)),
    );
    assert_eq!(
        drain(&mut r),
        vec![persist(
            1,
            LogWrite {
                hard_state: hard_state(2, Some(1), 0),
                ..LogWrite::default()
            }
        )]
    );
    r.handle_persisted(now, crate::ids::IoToken(1));
    let grant = VoteResponse {
        term: Term(2),
        granted: true,
    };
    assert_eq!(drain(&mut r), vec![send(1, Message::VoteResponse(grant))]);
}

#[test]
fn voter_rejects_candidate_with_stale_log() {
    let mut r = follower_with(2, config(2), vec![command(2, 1, "a")]);
    let now = r.poll_timeout().unwrap();
    r.handle_message(
        now,
        NodeId(1),
        Message::Vote(vote_request(2, (1, 1), false)),
    );
    let reject = VoteResponse {
        term: Term(2),
        granted: false,
    };
    assert_eq!(
        drain(&mut r),
        vec![
            send(1, Message::VoteResponse(reject)),
            persist(
                1,
                LogWrite {
                    hard_state: hard_state(2, None, 0),
                    ..LogWrite::default()
                }
            ),
        ]
    );
}

#[test]
fn follower_with_live_leader_rejects_pre_vote_and_vote_without_changing_term() {
    let mut r = follower(2);
    let now = r.poll_timeout().unwrap();
    r.handle_message(now, NodeId(1), append(2, (1, 1), vec![], 0));
    drain(&mut r);
    r.handle_message(
        now,
        NodeId(3),
        Message::PreVote(vote_request(3, (5, 2), false)),
    );
    r.handle_message(
        now,
        NodeId(3),
        Message::Vote(vote_request(3, (5, 2), false)),
    );
    let reject = VoteResponse {
        term: Term(2),
        granted: false,
    };
    assert_eq!(
        drain(&mut r),
        vec![
            send(3, Message::PreVoteResponse(reject.clone())),
            send(3, Message::VoteResponse(reject)),
        ]
    );
    assert_eq!(r.term(), Term(2));
}

#[test]
fn transfer_election_ignores_the_leader_lease() {
    let mut r = follower(2);
    let now = r.poll_timeout().unwrap();
    r.handle_message(now, NodeId(1), append(2, (1, 1), vec![], 0));
    drain(&mut r);
    r.handle_message(now, NodeId(3), Message::Vote(vote_request(3, (1, 1), true)));
    assert_eq!(
        drain(&mut r),
        vec![
            Action::Event(Event::LeaderChanged {
                leader: None,
                term: Term(3)
            }),
            persist(
                2,
                LogWrite {
                    hard_state: hard_state(3, Some(3), 0),
                    ..LogWrite::default()
                }
            ),
        ]
    );
}

#[test]
fn election_timeout_is_redrawn_within_t_to_2t_on_every_role_change() {
    let mut r = follower(1);
    let t = config(1).election_timeout;
    let mut waits = Vec::new();
    let mut now = crate::time::Instant::ZERO;
    for _ in 0..5 {
        let deadline = r.poll_timeout().unwrap();
        let wait = deadline - now;
        assert!(
            wait >= t && wait < t * 2,
            "timeout {wait:?} outside [t, 2t)"
        );
        waits.push(wait);
        now = deadline;
        r.handle_timeout(now);
        drain(&mut r);
    }
    waits.dedup();
    assert_eq!(waits.len(), 5, "timeouts were not redrawn: {waits:?}");
}

#[test]
fn nodes_draw_different_election_timeouts() {
    let deadlines: Vec<_> = (1..=3).map(|id| follower(id).poll_timeout()).collect();
    assert_ne!(deadlines[0], deadlines[1]);
    assert_ne!(deadlines[1], deadlines[2]);
}
