//! The types a driver exchanges with a [`super::Node`].

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::ids::{IoToken, LogIndex, NodeId, RequestId};
use crate::raft::{self, LogWrite};
use crate::state::{Command, CommandResult, Query, QueryResult};
use crate::time::Duration;

/// Node settings.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// Raft settings (holds this node's id).
    pub raft: raft::Config,
    /// Take a snapshot once this many entries were applied since the last one.
    pub snapshot_threshold: u64,
    /// Consider a snapshot at most this often, each wait drawn between one and two intervals
    /// (Consul's `raft_snapshot_interval`, 30 s): a write burst then costs one snapshot rather
    /// than one per `snapshot_threshold` entries, each of which stalls the loop for an encoding
    /// of the whole state, and servers do not snapshot in step. Zero: as soon as the threshold
    /// is reached.
    pub snapshot_interval: Duration,
}

/// Something that happened to the node.
#[derive(Clone, Debug)]
pub enum Input {
    /// One de-framed message from a peer (a `wire` envelope).
    Frame(Bytes),
    /// The write of `Action::Persist { token, .. }` is durable.
    Persisted(IoToken),
    /// A client request; answered by `Action::Respond` with the same id.
    Request {
        /// Echoed in the response.
        id: RequestId,
        /// What the client asks.
        request: ClientRequest,
    },
}

/// How fresh a read must be.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Consistency {
    /// The leader answers while its lease holds.
    Default,
    /// ReadIndex round before answering.
    Consistent,
    /// Any server answers from what it has applied.
    Stale,
}

/// A client's request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientRequest {
    /// A replicated write (KV or catalog).
    Write(Command),
    /// A read of any table.
    Read {
        /// What to read.
        query: Query,
        /// How fresh.
        consistency: Consistency,
    },
}

/// The answer to a client request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientResponse {
    /// The write committed and was applied at `index`.
    Written {
        /// Raft index of the write.
        index: LogIndex,
        /// What it did.
        result: CommandResult,
    },
    /// The read's result, as of state index `index`.
    Read {
        /// X-Consul-Index for this result.
        index: u64,
        /// What was found.
        result: QueryResult,
    },
    /// The request failed.
    Failed(ClientError),
}

/// Why a client request failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientError {
    /// Not served: no leader is known (`None`: "No cluster leader"), or the request reached a
    /// server that no longer leads; retry at `leader` if known. The request had no effect.
    NotLeader {
        /// Known leader.
        leader: Option<NodeId>,
    },
    /// Leadership was lost before the write committed, or the leader a follower forwarded it to
    /// changed or did not answer in time: it may or may not take effect.
    LeadershipLost,
    /// The leader cannot serve this yet (no entry of its term committed, or a leadership
    /// transfer or membership change in progress), or a read forwarded to it was not answered
    /// in time; retry shortly. The request had no effect.
    NotReady,
    /// A client agent knows no server it can reach (Consul's "No known Consul servers"). The
    /// request had no effect.
    NoServers,
}

/// Work for the driver.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Write this frame to peer `to` (already framed by `wire`).
    Send {
        /// Destination.
        to: NodeId,
        /// Frame bytes.
        frame: Bytes,
    },
    /// Make durable, then feed `Input::Persisted(token)`.
    Persist {
        /// Echo this back.
        token: IoToken,
        /// What to write.
        write: LogWrite,
    },
    /// Answer a client request.
    Respond {
        /// The request's id.
        id: RequestId,
        /// The answer.
        response: ClientResponse,
    },
    /// Log-worthy change.
    Event(NodeEvent),
}

/// Something a driver should log or count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeEvent {
    /// Raft's own events (leader and role changes, membership).
    Raft(raft::Event),
    /// A committed command could not be decoded; it was skipped on every replica alike.
    UndecodableEntry {
        /// Where.
        index: LogIndex,
        /// Why.
        reason: String,
    },
    /// A snapshot from the leader could not be decoded; the state was left as it was.
    BadSnapshot {
        /// Its last index.
        index: LogIndex,
        /// Why.
        reason: String,
    },
}

/// Why a node could not start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeError {
    /// The recovered snapshot does not decode.
    BadSnapshot {
        /// Its last index.
        index: LogIndex,
        /// Why.
        reason: String,
    },
}

impl core::fmt::Display for NodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            NodeError::BadSnapshot { index, reason } => {
                write!(
                    f,
                    "snapshot through index {index} cannot be decoded: {reason}"
                )
            }
        }
    }
}

impl std::error::Error for NodeError {}
