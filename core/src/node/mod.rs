//! The composition root: Raft + the replicated state, behind the one API a driver sees.
//!
//! Contract (same as every machine in core): call a `handle_*` with `now`, then drain
//! [`Node::poll_action`] until `None`, then sleep until [`Node::poll_timeout`].
//!
//! The node turns client requests into Raft proposals and reads, applies committed entries to
//! the [`State`], and answers each request exactly once: a write after its entry is applied, a
//! read once the state has caught up with the index its consistency mode requires. A follower
//! forwards its clients' writes and non-stale reads to the leader it knows and relays the answer
//! (see `forward`).

mod api;
mod forward;
mod requests;

#[cfg(test)]
mod forward_tests;
#[cfg(test)]
mod tests;

pub use api::*;

use bytes::Bytes;
use std::collections::VecDeque;

use crate::ids::{LogIndex, NodeId, ReadId};
use crate::raft::{self, Membership, Raft, Recovered};
use crate::rand::Rng;
use crate::state::watch::{WatchId, WatchTarget};
use crate::state::{self, State, WatchStatus};
use crate::time::Instant;
use crate::wire::{Body, Envelope, decode_envelope, encode_envelope};
use forward::Forwarded;
use requests::Pending;

/// One synod server.
#[derive(Debug)]
pub struct Node {
    config: NodeConfig,
    raft: Raft,
    state: State,
    /// Requests waiting for Raft (proposals, read-index rounds) or for the state to catch up.
    pending: Pending,
    next_read: u64,
    /// Client requests handed to the leader, by forward id.
    forwarded: Forwarded,
    /// Last index covered by a snapshot (taken or restored).
    snapshot_index: LogIndex,
    /// No snapshot is taken before this (see [`NodeConfig::snapshot_interval`]).
    next_snapshot_check: Instant,
    /// Draws the snapshot interval's jitter.
    snapshot_rng: Rng,
    out: VecDeque<Action>,
}

impl Node {
    /// A node starting from recovered disk state; `seed` feeds its generator.
    ///
    /// Fails only when the recovered snapshot cannot be decoded (disk damage or a format from an
    /// incompatible version): starting anyway would silently drop committed data.
    pub fn new(
        config: NodeConfig,
        recovered: Recovered,
        seed: u64,
        now: Instant,
    ) -> Result<Self, NodeError> {
        let mut rng = Rng::for_node(seed, config.raft.id.0);
        let (state, snapshot_index) = match &recovered.snapshot {
            Some(snap) => {
                let state = State::restore(&snap.data).map_err(|e| NodeError::BadSnapshot {
                    index: snap.meta.last_index,
                    reason: e.to_string(),
                })?;
                (state, snap.meta.last_index)
            }
            None => (State::default(), LogIndex(0)),
        };
        let raft = Raft::new(config.raft.clone(), recovered, rng.fork(), now);
        let forwarded = Forwarded::starting_at(rng.next_u64());
        let mut snapshot_rng = rng.fork();
        let next_snapshot_check = snapshot_check_after(&config, &mut snapshot_rng, now);
        let mut node = Node {
            config,
            raft,
            state,
            pending: Pending::default(),
            next_read: 0,
            forwarded,
            snapshot_index,
            next_snapshot_check,
            snapshot_rng,
            out: VecDeque::new(),
        };
        node.pump(now);
        Ok(node)
    }

    /// Start a new cluster with `membership` (see [`Raft::bootstrap`]).
    pub fn bootstrap(
        &mut self,
        now: Instant,
        membership: Membership,
    ) -> Result<(), raft::ProposeError> {
        let result = self.raft.bootstrap(now, membership);
        self.pump(now);
        result
    }

    /// Feed one input.
    pub fn handle_input(&mut self, now: Instant, input: Input) {
        match input {
            Input::Frame(frame) => self.handle_frame(now, &frame),
            Input::Persisted(token) => self.raft.handle_persisted(now, token),
            Input::Request { id, request } => self.handle_client_request(now, id, request),
        }
        self.pump(now);
    }

    /// The deadline from `poll_timeout` passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.raft.handle_timeout(now);
        self.expire_forwards(now);
        self.pump(now);
    }

    /// Add a server to the cluster (leader only); it joins as a learner and is promoted once
    /// caught up.
    pub fn add_server(
        &mut self,
        now: Instant,
        id: NodeId,
        addr: String,
    ) -> Result<LogIndex, raft::ProposeError> {
        let result = self.raft.add_server(now, id, addr);
        self.pump(now);
        result
    }

    /// Remove a server from the cluster (leader only).
    pub fn remove_server(
        &mut self,
        now: Instant,
        id: NodeId,
    ) -> Result<LogIndex, raft::ProposeError> {
        let result = self.raft.remove_server(now, id);
        self.pump(now);
        result
    }

    /// Hand leadership to another voter (leader only).
    pub fn transfer_leadership(
        &mut self,
        now: Instant,
        to: NodeId,
    ) -> Result<(), raft::ProposeError> {
        let result = self.raft.transfer_leadership(now, to);
        self.pump(now);
        result
    }

    /// Next action, or `None` when drained.
    #[must_use]
    pub fn poll_action(&mut self) -> Option<Action> {
        self.out.pop_front()
    }

    /// Next deadline.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let forward = self.forwarded.next_deadline();
        match (self.raft.poll_timeout(), forward) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The Raft machine (read-only view).
    pub fn raft(&self) -> &Raft {
        &self.raft
    }

    /// The replicated state as applied on this node (read-only view).
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Parks blocking query `id` on `target` in the state's watch registry (see
    /// [`State::watch`]); its id comes out of [`Node::take_woken`] once the target changes
    /// past `min_index`.
    pub fn watch(&mut self, id: WatchId, target: WatchTarget, min_index: u64) -> WatchStatus {
        self.state.watch(id, target, min_index)
    }

    /// Unparks `id` (its client went away or timed out); false when it was not parked.
    pub fn cancel_watch(&mut self, id: WatchId) -> bool {
        self.state.cancel_watch(id)
    }

    /// Watches woken by the entries applied since the last call, in ascending id order.
    pub fn take_woken(&mut self) -> Vec<WatchId> {
        self.state.take_woken()
    }

    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.config.raft.id
    }

    fn handle_frame(&mut self, now: Instant, frame: &[u8]) {
        // Undecodable or misaddressed frames are dropped: Raft tolerates loss, and remote bytes
        // must never disturb the node.
        let Ok(Envelope { from, to, body }) = decode_envelope(frame) else {
            return;
        };
        if to != self.id() {
            return;
        }
        match body {
            Body::Raft(msg) => self.raft.handle_message(now, from, msg),
            Body::Forward { id, request } => self.handle_forwarded(now, from, id, request),
            Body::ForwardReply { id, response } => self.forward_replied(from, id, response),
            // Client connections are split off by the driver before frames reach the node.
            Body::ClientHello { .. } => {}
        }
    }

    fn next_read_id(&mut self) -> ReadId {
        self.next_read += 1;
        ReadId(self.next_read)
    }

    /// Moves Raft's actions out, applying, answering and translating them, until Raft is drained.
    fn pump(&mut self, now: Instant) {
        while let Some(action) = self.raft.poll_action() {
            match action {
                raft::Action::Send { to, msg } => self.send(to, Body::Raft(msg)),
                raft::Action::Persist { token, write } => {
                    self.out.push_back(Action::Persist { token, write });
                }
                raft::Action::Apply { entries } => self.apply(now, entries),
                raft::Action::RestoreSnapshot(snapshot) => self.restore(snapshot),
                raft::Action::ReadReady { id, index } => self.read_ready(id, index),
                raft::Action::ReadFailed { id, error } => self.read_failed(id, error),
                raft::Action::Event(event) => {
                    if let raft::Event::RoleChanged { role, .. } = &event
                        && *role != raft::Role::Leader
                    {
                        self.fail_unconfirmed_writes();
                        self.retry_reads_awaiting_leader(now);
                    }
                    self.out.push_back(Action::Event(NodeEvent::Raft(event)));
                }
            }
        }
        self.fail_forwards_to_former_leader();
    }

    fn send(&mut self, to: NodeId, body: Body) {
        let envelope = Envelope {
            from: self.id(),
            to,
            body,
        };
        let frame = encode_envelope(&envelope);
        self.out.push_back(Action::Send { to, frame });
    }

    fn apply(&mut self, now: Instant, entries: Vec<raft::Entry>) {
        for entry in entries {
            let index = entry.index;
            let result = match &entry.payload {
                raft::EntryPayload::Command(bytes) => match state::decode_command(bytes) {
                    Ok(command) => Some(self.state.apply(index.0, &command)),
                    Err(e) => {
                        // Every node decodes the same bytes the same way, so skipping keeps the
                        // replicas identical; the event makes the damage visible.
                        self.out
                            .push_back(Action::Event(NodeEvent::UndecodableEntry {
                                index,
                                reason: e.to_string(),
                            }));
                        self.state.apply_noop(index.0);
                        None
                    }
                },
                raft::EntryPayload::Blank | raft::EntryPayload::Membership(_) => {
                    self.state.apply_noop(index.0);
                    None
                }
            };
            self.answer_write(index, entry.term, result);
        }
        self.serve_caught_up_reads();
        self.retry_reads_awaiting_leader(now);
        self.maybe_snapshot(now);
    }

    fn restore(&mut self, snapshot: raft::Snapshot) {
        match State::restore(&snapshot.data) {
            Ok(state) => {
                self.state.install(state);
                self.snapshot_index = snapshot.meta.last_index;
                // Writes covered by the snapshot committed or were overwritten by a new leader;
                // from here we cannot tell which.
                self.fail_writes_through(snapshot.meta.last_index);
                self.serve_caught_up_reads();
            }
            Err(e) => self.out.push_back(Action::Event(NodeEvent::BadSnapshot {
                index: snapshot.meta.last_index,
                reason: e.to_string(),
            })),
        }
    }

    fn maybe_snapshot(&mut self, now: Instant) {
        let applied = LogIndex(self.state.index());
        let due = applied.0.saturating_sub(self.snapshot_index.0) >= self.config.snapshot_threshold;
        if due && now >= self.next_snapshot_check {
            let data: Bytes = self.state.snapshot();
            self.raft.snapshot_taken(now, applied, data);
            self.snapshot_index = applied;
            self.next_snapshot_check =
                snapshot_check_after(&self.config, &mut self.snapshot_rng, now);
        }
    }
}

/// When the next snapshot may be taken: between one and two snapshot intervals after `now`
/// (at once when the interval is zero).
fn snapshot_check_after(config: &NodeConfig, rng: &mut Rng, now: Instant) -> Instant {
    let interval = config.snapshot_interval;
    if interval.is_zero() {
        return now;
    }
    now.saturating_add(rng.duration(interval, interval * 2))
}
