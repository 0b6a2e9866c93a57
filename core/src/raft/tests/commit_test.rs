//! Commit: quorum of durable matches, the leader's own persist, current-term entries only.

use crate::ids::{IoToken, LogIndex, NodeId};
use crate::raft::tests::fixture::*;
use crate::raft::{Action, EntryPayload, Role};

#[test]
fn leader_counts_itself_only_after_its_own_persist() {
    let (mut r, now) = leader();
    r.propose(now, bytes::Bytes::from_static(b"x")).ok();
    let token = persist_token(&drain(&mut r));
    r.handle_message(now, NodeId(2), append_ok(2, 1, 3));
    // Node 2 holds 3 durably but the leader's copy is not on disk yet: no quorum.
    assert_eq!(drain(&mut r), vec![]);
    assert_eq!(r.commit_index(), LogIndex(2));
    r.handle_persisted(now, token);
    assert_eq!(
        drain(&mut r),
        vec![Action::Apply {
            entries: vec![command(3, 2, "x")]
        },]
    );
    // The new commit index costs no write of its own: it rides along with the next one.
    r.propose(now, bytes::Bytes::from_static(b"y")).ok();
    let next = drain(&mut r);
    let write = next
        .iter()
        .find_map(|a| match a {
            Action::Persist { write, .. } => Some(write.clone()),
            _ => None,
        })
        .expect("the next proposal is persisted");
    assert_eq!(write.hard_state, hard_state(2, Some(1), 3));
    assert_eq!(write.entries, vec![command(4, 2, "y")]);
}

#[test]
fn new_leader_commits_old_term_entries_only_through_its_blank() {
    // Node 1 holds 2/1 from term 1; as leader of term 2 it appends Blank 3/2.
    let extra = vec![command(2, 1, "old")];
    let mut r = follower_with(1, config(1), extra);
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
    assert_eq!(r.role(), Role::Leader);
    // A quorum holds 2/1, but it is of an earlier term: nothing commits.
    r.handle_message(now, NodeId(2), append_ok(2, 1, 2));
    let blank = entry(3, 2, EntryPayload::Blank);
    assert_eq!(
        drain(&mut r),
        vec![send(2, append(2, (2, 1), vec![blank], 0))]
    );
    assert_eq!(r.commit_index(), LogIndex(0));
    r.handle_message(now, NodeId(2), append_ok(2, 1, 3));
    assert_eq!(
        drain(&mut r),
        vec![Action::Apply {
            entries: vec![
                config_entry(),
                command(2, 1, "old"),
                entry(3, 2, EntryPayload::Blank)
            ]
        },]
    );
}

#[test]
fn unknown_persist_token_is_ignored() {
    let (mut r, now) = leader();
    r.handle_persisted(now, IoToken(999));
    assert_eq!(drain(&mut r), vec![]);
}
