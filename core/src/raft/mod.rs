//! Raft consensus as a sans-IO state machine.
//!
//! Inputs are `handle_*` calls and local triggers (`propose`, `read_index`, ...), each taking
//! `now`; outputs are drained with [`Raft::poll_action`] until `None`, and the next deadline is
//! [`Raft::poll_timeout`]. Raft never reads a clock, a disk or a socket.
//!
//! Features: pre-vote and check-quorum; pipelined, batched replication with conflict hints;
//! commit only by a quorum of durable matches and only of current-term entries directly;
//! snapshots sent in chunks; single-server membership changes with learners; leadership transfer;
//! ReadIndex and lease reads.

pub mod message;
pub mod types;

pub use message::*;
pub use types::*;

use bytes::Bytes;

use crate::ids::{LogIndex, NodeId, ReadId, Term};
use crate::rand::Rng;
use crate::time::{Duration, Instant};

/// One Raft server.
#[derive(Debug)]
pub struct Raft {
    _private: (),
}

impl Raft {
    /// A server starting from what was recovered from disk (empty for a brand-new server).
    /// The election timeout is drawn from `rng`.
    pub fn new(config: Config, recovered: Recovered, rng: Rng, now: Instant) -> Self {
        let _ = (config, recovered, rng, now);
        unimplemented!("skeleton")
    }

    /// Start a brand-new cluster with `membership` as its first configuration (index 1).
    /// Only valid on a server with an empty log and term 0.
    pub fn bootstrap(&mut self, now: Instant, membership: Membership) -> Result<(), ProposeError> {
        let _ = (now, membership);
        unimplemented!("skeleton")
    }

    /// A message from `from` arrived.
    pub fn handle_message(&mut self, now: Instant, from: crate::ids::NodeId, msg: Message) {
        let _ = (now, from, msg);
        unimplemented!("skeleton")
    }

    /// The deadline from `poll_timeout` passed (or any time: early calls are harmless).
    pub fn handle_timeout(&mut self, now: Instant) {
        let _ = now;
        unimplemented!("skeleton")
    }

    /// The write of `Action::Persist { token, .. }` is durable.
    pub fn handle_persisted(&mut self, now: Instant, token: crate::ids::IoToken) {
        let _ = (now, token);
        unimplemented!("skeleton")
    }

    /// Append a command (leader only). Returns the index it will have if committed.
    pub fn propose(&mut self, now: Instant, command: Bytes) -> Result<LogIndex, ProposeError> {
        let _ = (now, command);
        unimplemented!("skeleton")
    }

    /// Add `id` as a learner; it is promoted to voter automatically once caught up.
    pub fn add_server(&mut self, now: Instant, id: NodeId, addr: String) -> Result<LogIndex, ProposeError> {
        let _ = (now, id, addr);
        unimplemented!("skeleton")
    }

    /// Remove `id` (possibly this leader, which steps down once the removal commits).
    pub fn remove_server(&mut self, now: Instant, id: NodeId) -> Result<LogIndex, ProposeError> {
        let _ = (now, id);
        unimplemented!("skeleton")
    }

    /// Hand leadership to `to` (leader only): catch it up, then send it `TimeoutNow`.
    pub fn transfer_leadership(&mut self, now: Instant, to: NodeId) -> Result<(), ProposeError> {
        let _ = (now, to);
        unimplemented!("skeleton")
    }

    /// Start a ReadIndex round; the answer comes as `Action::ReadReady` or `Action::ReadFailed`.
    pub fn read_index(&mut self, now: Instant, id: ReadId) {
        let _ = (now, id);
        unimplemented!("skeleton")
    }

    /// A lease read (leader only, check-quorum on): the commit index to wait for before reading.
    pub fn lease_read(&self, now: Instant) -> Result<LogIndex, ReadError> {
        let _ = now;
        unimplemented!("skeleton")
    }

    /// The state machine has captured a snapshot through `last_index` (which must be applied).
    /// Raft persists it and compacts the log up to it.
    pub fn snapshot_taken(&mut self, now: Instant, last_index: LogIndex, data: Bytes) {
        let _ = (now, last_index, data);
        unimplemented!("skeleton")
    }

    /// The next action for the driver, or `None` when drained.
    #[must_use]
    pub fn poll_action(&mut self) -> Option<Action> {
        unimplemented!("skeleton")
    }

    /// The single next deadline at which `handle_timeout` must be called.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        unimplemented!("skeleton")
    }

    /// This server's id.
    pub fn id(&self) -> NodeId {
        unimplemented!("skeleton")
    }
    /// Current role.
    pub fn role(&self) -> Role {
        unimplemented!("skeleton")
    }
    /// Current term.
    pub fn term(&self) -> Term {
        unimplemented!("skeleton")
    }
    /// The leader known in the current term.
    pub fn leader(&self) -> Option<NodeId> {
        unimplemented!("skeleton")
    }
    /// Highest committed index known.
    pub fn commit_index(&self) -> LogIndex {
        unimplemented!("skeleton")
    }
    /// Highest index handed out in `Action::Apply` (or restored from a snapshot).
    pub fn applied_index(&self) -> LogIndex {
        unimplemented!("skeleton")
    }
    /// Last index in the log.
    pub fn last_index(&self) -> LogIndex {
        unimplemented!("skeleton")
    }
    /// Term of the entry at `index`, if it is in the log or is the snapshot's last entry.
    pub fn term_at(&self, index: LogIndex) -> Option<Term> {
        let _ = index;
        unimplemented!("skeleton")
    }
    /// The configuration in effect (the latest in the log, committed or not).
    pub fn membership(&self) -> &Membership {
        unimplemented!("skeleton")
    }
    /// Time since this node last heard from a leader (zero on the leader itself).
    pub fn last_contact(&self, now: Instant) -> Option<Duration> {
        let _ = now;
        unimplemented!("skeleton")
    }
}
