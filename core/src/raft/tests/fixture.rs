//! Builders for unit tests: a follower of a three-voter cluster and a leader elected in it.

use crate::ids::{IoToken, LogIndex, NodeId, Term};
use crate::raft::{
    Action, AppendRequest, AppendResponse, AppendResult, Config, Entry, EntryPayload, HardState,
    LogWrite, Membership, Message, Raft, Recovered, VoteResponse,
};
use crate::rand::Rng;
use crate::time::Instant;

pub(crate) fn config(id: u64) -> Config {
    let mut c = Config::new(NodeId(id));
    c.trailing_entries = 0;
    c
}

pub(crate) fn three_voters() -> Membership {
    Membership::voters((1..=3).map(|i| (NodeId(i), format!("n{i}"))))
}

pub(crate) fn drain(raft: &mut Raft) -> Vec<Action> {
    std::iter::from_fn(|| raft.poll_action()).collect()
}

/// The token of the one `Persist` in `actions`.
pub(crate) fn persist_token(actions: &[Action]) -> IoToken {
    let tokens: Vec<IoToken> = actions
        .iter()
        .filter_map(|a| match a {
            Action::Persist { token, .. } => Some(*token),
            _ => None,
        })
        .collect();
    assert_eq!(
        tokens.len(),
        1,
        "expected exactly one persist in {actions:?}"
    );
    tokens[0]
}

pub(crate) fn entry(index: u64, term: u64, payload: EntryPayload) -> Entry {
    Entry {
        index: LogIndex(index),
        term: Term(term),
        payload,
    }
}

pub(crate) fn command(index: u64, term: u64, data: &'static str) -> Entry {
    entry(
        index,
        term,
        EntryPayload::Command(bytes::Bytes::from_static(data.as_bytes())),
    )
}

pub(crate) fn config_entry() -> Entry {
    entry(1, 1, EntryPayload::Membership(three_voters()))
}

/// A node recovered with the bootstrap config at 1/1 (term 1), nothing pending.
pub(crate) fn follower_with(id: u64, config: Config, extra: Vec<Entry>) -> Raft {
    let mut entries = vec![config_entry()];
    entries.extend(extra);
    let hard_state = HardState {
        term: Term(1),
        vote: None,
        commit: LogIndex(0),
    };
    let recovered = Recovered {
        hard_state,
        snapshot: None,
        entries,
    };
    let mut raft = Raft::new(config, recovered, Rng::for_node(7, id), Instant::ZERO);
    assert_eq!(drain(&mut raft), vec![]);
    raft
}

pub(crate) fn follower(id: u64) -> Raft {
    follower_with(id, config(id), Vec::new())
}

pub(crate) fn append(term: u64, prev: (u64, u64), entries: Vec<Entry>, commit: u64) -> Message {
    Message::Append(AppendRequest {
        term: Term(term),
        prev_log_index: LogIndex(prev.0),
        prev_log_term: Term(prev.1),
        entries,
        leader_commit: LogIndex(commit),
        round: 1,
    })
}

pub(crate) fn append_ok(term: u64, round: u64, match_index: u64) -> Message {
    Message::AppendResponse(AppendResponse {
        term: Term(term),
        round,
        result: AppendResult::Success {
            match_index: LogIndex(match_index),
        },
    })
}

pub(crate) fn persist(token: u64, write: LogWrite) -> Action {
    Action::Persist {
        token: IoToken(token),
        write,
    }
}

pub(crate) fn send(to: u64, msg: Message) -> Action {
    Action::Send {
        to: NodeId(to),
        msg,
    }
}

pub(crate) fn hard_state(term: u64, vote: Option<u64>, commit: u64) -> Option<HardState> {
    Some(HardState {
        term: Term(term),
        vote: vote.map(NodeId),
        commit: LogIndex(commit),
    })
}

/// Node 1 elected leader of term 2 with node 2's vote; its Blank (2/2) is committed.
pub(crate) fn leader_with(config: Config) -> (Raft, Instant) {
    let mut raft = follower_with(1, config, Vec::new());
    let now = raft.poll_timeout().unwrap_or(Instant::ZERO);
    raft.handle_timeout(now);
    let granted = VoteResponse {
        term: Term(2),
        granted: true,
    };
    raft.handle_message(now, NodeId(2), Message::PreVoteResponse(granted.clone()));
    let token = persist_token(&drain(&mut raft));
    raft.handle_persisted(now, token);
    raft.handle_message(now, NodeId(2), Message::VoteResponse(granted));
    let token = persist_token(&drain(&mut raft));
    raft.handle_persisted(now, token);
    raft.handle_message(now, NodeId(2), append_ok(2, 1, 2));
    drain(&mut raft);
    assert_eq!(raft.commit_index(), LogIndex(2));
    (raft, now)
}

pub(crate) fn leader() -> (Raft, Instant) {
    leader_with(config(1))
}
