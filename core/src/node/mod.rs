//! The composition root: Raft + the replicated state, behind the one API a driver sees.
//!
//! Contract (same as every machine in core): call a `handle_*` with `now`, then drain
//! [`Node::poll_action`] until `None`, then sleep until [`Node::poll_timeout`].

use bytes::Bytes;

use crate::ids::{IoToken, LogIndex, NodeId, RequestId};
use crate::raft::{self, LogWrite, Membership, Raft, Recovered};
use crate::state::kv_types::{KvCommand, KvCommandResult, KvQuery, KvQueryResult};
use crate::time::Instant;

/// Node settings.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// Raft settings (holds this node's id).
    pub raft: raft::Config,
    /// Take a snapshot once this many entries were applied since the last one.
    pub snapshot_threshold: u64,
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
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Consistency {
    /// The leader answers while its lease holds.
    Default,
    /// ReadIndex round before answering.
    Consistent,
    /// Any server answers from what it has applied.
    Stale,
}

/// A client's request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientRequest {
    /// A replicated KV write.
    Write(KvCommand),
    /// A KV read.
    Read {
        /// What to read.
        query: KvQuery,
        /// How fresh.
        consistency: Consistency,
    },
}

/// The answer to a client request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientResponse {
    /// The write committed and was applied at `index`.
    Written {
        /// Raft index of the write.
        index: LogIndex,
        /// What it did.
        result: KvCommandResult,
    },
    /// The read's result, as of state index `index`.
    Read {
        /// X-Consul-Index for this result.
        index: u64,
        /// What was found.
        result: KvQueryResult,
    },
    /// The request failed.
    Failed(ClientError),
}

/// Why a client request failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientError {
    /// Not the leader; retry at `leader` (if known). The request had no effect.
    NotLeader {
        /// Known leader.
        leader: Option<NodeId>,
    },
    /// Leadership was lost before the write committed: it may or may not take effect.
    LeadershipLost,
    /// The leader cannot serve this read yet (no entry of its term committed); retry.
    NotReady,
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
    Event(raft::Event),
}

/// One synod server.
#[derive(Debug)]
pub struct Node {
    raft: Raft,
}

impl Node {
    /// A node starting from recovered disk state; `seed` feeds its generator.
    pub fn new(config: NodeConfig, recovered: Recovered, seed: u64, now: Instant) -> Self {
        let _ = (config, recovered, seed, now);
        unimplemented!("skeleton")
    }
    /// Start a new cluster with `membership` (see [`Raft::bootstrap`]).
    pub fn bootstrap(
        &mut self,
        now: Instant,
        membership: Membership,
    ) -> Result<(), raft::ProposeError> {
        self.raft.bootstrap(now, membership)
    }
    /// Feed one input.
    pub fn handle_input(&mut self, now: Instant, input: Input) {
        let _ = (now, input);
        unimplemented!("skeleton")
    }
    /// The deadline from `poll_timeout` passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.raft.handle_timeout(now)
    }
    /// Next action, or `None` when drained.
    #[must_use]
    pub fn poll_action(&mut self) -> Option<Action> {
        unimplemented!("skeleton")
    }
    /// Next deadline.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.raft.poll_timeout()
    }
    /// The Raft machine (read-only view).
    pub fn raft(&self) -> &Raft {
        &self.raft
    }
}
