//! The data Raft exchanges with its driver: log entries, durable state, membership, snapshots,
//! and the actions it asks the driver to carry out.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::ids::{IoToken, LogIndex, NodeId, ReadId, Term};
use crate::raft::message::Message;

/// One log entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Position in the log.
    pub index: LogIndex,
    /// Term of the leader that created it.
    pub term: Term,
    /// What it carries.
    pub payload: EntryPayload,
}

/// What a log entry carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntryPayload {
    /// Appended by a new leader to commit entries of earlier terms (Raft §5.4.2).
    Blank,
    /// An opaque state-machine command.
    Command(Bytes),
    /// A new cluster configuration; takes effect as soon as it is in the log (§4.1 of the thesis).
    Membership(Membership),
}

/// Whether a server votes.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Suffrage {
    /// Counts towards quorums, may become leader.
    Voter,
    /// Receives the log but does not vote (a server catching up before promotion).
    Learner,
}

/// One server of the configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerInfo {
    /// Address the other servers use to reach it (host:port of its RPC listener).
    pub addr: String,
    /// Voter or learner.
    pub suffrage: Suffrage,
}

/// The set of servers of a cluster. Ordered, so iteration is deterministic.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    /// Every server, by id.
    pub servers: BTreeMap<NodeId, ServerInfo>,
}

impl Membership {
    /// A configuration whose servers all vote.
    pub fn voters<I: IntoIterator<Item = (NodeId, String)>>(servers: I) -> Self {
        Membership {
            servers: servers
                .into_iter()
                .map(|(id, addr)| {
                    let info = ServerInfo {
                        addr,
                        suffrage: Suffrage::Voter,
                    };
                    (id, info)
                })
                .collect(),
        }
    }

    /// Whether `id` is a voter.
    pub fn is_voter(&self, id: NodeId) -> bool {
        self.servers
            .get(&id)
            .is_some_and(|s| s.suffrage == Suffrage::Voter)
    }

    /// Voter ids in ascending order.
    pub fn voter_ids(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.servers
            .iter()
            .filter(|(_, s)| s.suffrage == Suffrage::Voter)
            .map(|(id, _)| *id)
    }

    /// Number of votes that make a majority.
    pub fn quorum(&self) -> usize {
        self.voter_ids().count() / 2 + 1
    }
}

/// State that must be durable before any message that depends on it leaves the node.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HardState {
    /// Current term.
    pub term: Term,
    /// Who this node voted for in `term`.
    pub vote: Option<NodeId>,
    /// Highest index known committed (persisted so restarts apply no less than before).
    pub commit: LogIndex,
}

/// Identifies a snapshot: the last entry it covers and the configuration as of that entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotMeta {
    /// Index of the last entry the snapshot includes.
    pub last_index: LogIndex,
    /// Term of that entry.
    pub last_term: Term,
    /// Membership as of `last_index`.
    pub membership: Membership,
}

/// A snapshot of the state machine.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// What it covers.
    pub meta: SnapshotMeta,
    /// The serialized state machine.
    pub data: Bytes,
}

/// What the driver loaded from disk at start-up.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovered {
    /// Last durable hard state.
    pub hard_state: HardState,
    /// Latest durable snapshot, if any.
    pub snapshot: Option<Snapshot>,
    /// Durable log entries after the snapshot, contiguous and in order.
    pub entries: Vec<Entry>,
}

/// One batch of writes the driver must make durable, in this order: snapshot, truncation,
/// entries, hard state, compaction. Then it reports `Persisted(token)`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogWrite {
    /// Install this snapshot (atomically: temp file, fsync, rename, fsync dir).
    pub snapshot: Option<Snapshot>,
    /// Remove every entry with index ≥ this before appending (a follower's conflicting suffix).
    pub truncate_from: Option<LogIndex>,
    /// Append these, contiguous and in order.
    pub entries: Vec<Entry>,
    /// Replace the hard state.
    pub hard_state: Option<HardState>,
    /// Entries with index ≤ this are covered by a durable snapshot and may be deleted.
    pub compact_through: Option<LogIndex>,
}

impl LogWrite {
    /// Whether the write changes nothing.
    pub fn is_empty(&self) -> bool {
        self.snapshot.is_none()
            && self.truncate_from.is_none()
            && self.entries.is_empty()
            && self.hard_state.is_none()
            && self.compact_through.is_none()
    }
}

/// The role a node plays in its current term.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// Follows a leader (or waits for one).
    Follower,
    /// Asking for pre-votes without raising its term.
    PreCandidate,
    /// Asking for votes in a new term.
    Candidate,
    /// Replicates the log.
    Leader,
}

/// Something a driver should log or react to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The known leader (or its absence) changed.
    LeaderChanged {
        /// The leader now known, if any.
        leader: Option<NodeId>,
        /// In this term.
        term: Term,
    },
    /// This node's role changed.
    RoleChanged {
        /// New role.
        role: Role,
        /// In this term.
        term: Term,
    },
    /// The configuration in effect changed.
    MembershipChanged(Membership),
    /// This node was removed from the configuration and stopped taking part.
    Removed,
}

/// Work Raft hands to its driver. Drain with `poll_action` until `None` after every input.
///
/// Only messages that are safe to send *now* appear as [`Action::Send`]: anything that depends on
/// a pending write (a vote, an append ack) is held inside Raft and released by `handle_persisted`.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Send `msg` to `to`; may be lost, duplicated or reordered.
    Send {
        /// Destination server.
        to: NodeId,
        /// The message.
        msg: Message,
    },
    /// Make `write` durable (fdatasync), then call `handle_persisted(token)`.
    Persist {
        /// Echo this back.
        token: IoToken,
        /// What to write.
        write: LogWrite,
    },
    /// Apply these committed, locally durable entries to the state machine, in order.
    Apply {
        /// Entries, contiguous, starting right after the last applied one.
        entries: Vec<Entry>,
    },
    /// Replace the state machine with this (durable) snapshot.
    RestoreSnapshot(Snapshot),
    /// A read-index request is confirmed: the read is linearizable once `applied ≥ index`.
    ReadReady {
        /// The request.
        id: ReadId,
        /// Commit index at the time leadership was confirmed.
        index: LogIndex,
    },
    /// A read-index request cannot be served (no longer leader, or leadership not confirmed).
    ReadFailed {
        /// The request.
        id: ReadId,
        /// Why.
        error: ReadError,
    },
    /// Log-worthy change.
    Event(Event),
}

/// Timing and flow-control settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// This server's id.
    pub id: NodeId,
    /// Leader heartbeat period.
    pub heartbeat_interval: crate::time::Duration,
    /// Base election timeout; each wait is drawn uniformly from `[t, t + election_jitter)`.
    pub election_timeout: crate::time::Duration,
    /// Width of the random part of each election wait; `None` means `t`, i.e. `[t, 2t)` as
    /// etcd and hashicorp/raft draw it. Narrower means faster failover (the first follower
    /// times out sooner after a leader dies) at a slightly higher chance of a split vote.
    pub election_jitter: Option<crate::time::Duration>,
    /// Ask for pre-votes before raising the term (a rejoining partitioned node disturbs no one).
    pub pre_vote: bool,
    /// A leader that has not heard from a quorum within an election timeout steps down; enables
    /// lease reads.
    pub check_quorum: bool,
    /// AppendEntries in flight per follower before waiting for acks.
    pub max_inflight: usize,
    /// Entries per AppendEntries at most.
    pub max_append_entries: usize,
    /// Payload bytes per AppendEntries at most (at least one entry is always sent).
    pub max_append_bytes: usize,
    /// Bytes per InstallSnapshot chunk.
    pub snapshot_chunk_bytes: usize,
    /// A learner within this many entries of the leader's last index is caught up.
    pub catch_up_margin: u64,
    /// Entries kept in the log before a snapshot this node takes, so a follower lagging by
    /// less than this catches up from the log instead of needing the whole snapshot.
    pub trailing_entries: u64,
}

impl Config {
    /// Defaults matching Consul's Raft timing at `raft_multiplier = 1`.
    pub fn new(id: NodeId) -> Self {
        Config {
            id,
            heartbeat_interval: crate::time::Duration::from_millis(100),
            election_timeout: crate::time::Duration::from_millis(1000),
            election_jitter: None,
            pre_vote: true,
            check_quorum: true,
            max_inflight: 8,
            max_append_entries: 512,
            max_append_bytes: 1 << 20,
            snapshot_chunk_bytes: 256 << 10,
            catch_up_margin: 64,
            trailing_entries: 1024,
        }
    }
}

/// Why a proposal was not accepted. None of these change Raft's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProposeError {
    /// This node is not the leader; `leader` is the one it knows of, if any.
    NotLeader {
        /// Known leader.
        leader: Option<NodeId>,
    },
    /// A leadership transfer is in progress; retry shortly.
    TransferInProgress,
    /// A membership change is still uncommitted; one at a time.
    MembershipChangePending,
    /// The requested membership change makes no sense (unknown server, already a member, ...).
    InvalidMembershipChange(&'static str),
}

/// Why a read could not be served as asked. None of these change Raft's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// This node is not the leader; `leader` is the one it knows of, if any.
    NotLeader {
        /// Known leader.
        leader: Option<NodeId>,
    },
    /// The leader has not yet committed an entry of its own term, so its commit index may lag.
    NotReady,
    /// The lease is not valid (check-quorum off or the quorum was not heard from recently).
    LeaseExpired,
}
