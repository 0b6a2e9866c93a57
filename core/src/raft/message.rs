//! Messages between Raft servers (our own protocol; encoded with postcard by `wire`).

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::ids::{LogIndex, Term};
use crate::raft::types::{Entry, SnapshotMeta};

/// A Raft message. The sender is carried by the envelope, not the message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// "Would you vote for me in `term`?" — sent without raising the sender's own term.
    PreVote(VoteRequest),
    /// Answer to a pre-vote.
    PreVoteResponse(VoteResponse),
    /// Request a vote in `term`.
    Vote(VoteRequest),
    /// Answer to a vote.
    VoteResponse(VoteResponse),
    /// Replicate entries (or heartbeat when empty).
    Append(AppendRequest),
    /// Answer to an append.
    AppendResponse(AppendResponse),
    /// One chunk of a snapshot.
    InstallSnapshot(SnapshotChunk),
    /// Answer to a snapshot chunk.
    InstallSnapshotResponse(SnapshotChunkResponse),
    /// Leadership transfer: the receiver should start an election at once, skipping pre-vote.
    TimeoutNow {
        /// Leader's term.
        term: Term,
    },
}

impl Message {
    /// The term the message was sent in.
    pub fn term(&self) -> Term {
        match self {
            Message::PreVote(r) | Message::Vote(r) => r.term,
            Message::PreVoteResponse(r) | Message::VoteResponse(r) => r.term,
            Message::Append(r) => r.term,
            Message::AppendResponse(r) => r.term,
            Message::InstallSnapshot(r) => r.term,
            Message::InstallSnapshotResponse(r) => r.term,
            Message::TimeoutNow { term } => *term,
        }
    }
}

/// A (pre-)vote request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteRequest {
    /// The term the candidate is (or would be) in.
    pub term: Term,
    /// Candidate's last log index.
    pub last_log_index: LogIndex,
    /// Candidate's last log term.
    pub last_log_term: Term,
    /// Set for an election started by `TimeoutNow`: voters ignore their leader lease.
    pub transfer: bool,
}

/// A (pre-)vote answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteResponse {
    /// The voter's term (for a pre-vote grant: the term asked about).
    pub term: Term,
    /// Whether the vote was granted.
    pub granted: bool,
}

/// AppendEntries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendRequest {
    /// Leader's term.
    pub term: Term,
    /// Index of the entry before `entries`.
    pub prev_log_index: LogIndex,
    /// Term of that entry.
    pub prev_log_term: Term,
    /// Entries to store (empty for a heartbeat).
    pub entries: Vec<Entry>,
    /// Leader's commit index.
    pub leader_commit: LogIndex,
    /// Leader-chosen round number echoed by the response; confirms leadership for ReadIndex.
    pub round: u64,
}

/// Answer to AppendEntries; sent only after the appended entries are durable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendResponse {
    /// Follower's term.
    pub term: Term,
    /// Echo of the request's round.
    pub round: u64,
    /// The outcome.
    pub result: AppendResult,
}

/// Outcome of an append.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AppendResult {
    /// The follower's log matches the leader's through `match_index` (and it is durable).
    Success {
        /// Highest index known to match.
        match_index: LogIndex,
    },
    /// `prev_log_index` did not match. Hints let the leader skip a whole term at once.
    Conflict {
        /// The follower's last log index.
        last_index: LogIndex,
        /// Term of the follower's entry at `prev_log_index`, if it has one.
        conflict_term: Option<Term>,
        /// First index the follower holds for `conflict_term` (or `last_index + 1`).
        conflict_index: LogIndex,
    },
}

/// One chunk of InstallSnapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotChunk {
    /// Leader's term.
    pub term: Term,
    /// Which snapshot.
    pub meta: SnapshotMeta,
    /// Byte offset of `data` in the snapshot.
    pub offset: u64,
    /// The bytes.
    pub data: Bytes,
    /// Whether this is the last chunk.
    pub done: bool,
}

/// Answer to a snapshot chunk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotChunkResponse {
    /// Follower's term.
    pub term: Term,
    /// Which snapshot (its last index).
    pub last_index: LogIndex,
    /// The offset the follower expects next (restart at 0 when it lost track).
    pub next_offset: u64,
    /// Whether the whole snapshot is installed and durable.
    pub done: bool,
}
