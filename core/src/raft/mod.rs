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
//!
//! Durability is in the action stream: writes staged since the last drain go out together as
//! an `Action::Persist` (issued when `poll_action` runs dry), and anything that promises durable state (an append ack, a vote grant, a snapshot
//! ack, counting the candidate's own vote, restoring a received snapshot) is held until
//! `handle_persisted` reports that write. The leader sends new entries while persisting them
//! and counts its own copy only once durable. `Apply` carries only committed, durable entries.
//!
//! One concern per file, each an `impl Raft` block over the shared state (openraft-style
//! handlers): `election`, `replication`, `commit`, `persist`, `snapshot`, `membership`,
//! `read`, `transfer`; `log` (entries after the snapshot base) and `progress` (the leader's
//! view of each follower) are plain data structures.

mod durable_image;
pub mod message;
pub mod types;

pub use durable_image::LogWriteError;
pub use message::*;
pub use types::*;

mod commit;
mod election;
mod log;
mod membership;
mod persist;
mod progress;
mod read;
mod recovery;
mod replication;
mod snapshot;
mod transfer;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, VecDeque};

use bytes::Bytes;

use crate::ids::{IoToken, LogIndex, NodeId, ReadId, Term};
use crate::rand::Rng;
use crate::time::{Duration, Instant};

use self::log::RaftLog;
use self::membership::ConfigLog;
use self::persist::{PendingWrite, Staged};
use self::progress::Progress;
use self::read::{PendingRead, Rounds};
use self::snapshot::IncomingSnapshot;
use self::transfer::Transfer;

/// One Raft server.
#[derive(Debug)]
pub struct Raft {
    config: Config,
    rng: Rng,
    /// Latest time seen (inputs are clamped so time never runs backwards).
    now: Instant,

    // Durable state (as this node believes it; `persist` tracks what reached the disk).
    term: Term,
    vote: Option<NodeId>,
    commit: LogIndex,
    log: RaftLog,
    configs: ConfigLog,
    /// Latest durable snapshot, kept to send to followers.
    snapshot: Option<Snapshot>,

    // Volatile state.
    role: Role,
    leader: Option<NodeId>,
    applied: LogIndex,
    /// This node was in a configuration and then left it: it no longer campaigns.
    removed: bool,
    /// The randomized election timeout in force until the next role change.
    election_timeout: Duration,
    election_deadline: Instant,
    last_leader_contact: Option<Instant>,
    /// Grants received in the current (pre-)campaign, by voter.
    votes: BTreeMap<NodeId, bool>,
    /// The candidate's own vote counts once its HardState is durable.
    self_vote_durable: bool,

    // Leader state.
    progress: BTreeMap<NodeId, Progress>,
    heartbeat_deadline: Instant,
    /// New entries wait to be sent until the driver drains actions (batches proposals).
    replicate_pending: bool,
    rounds: Rounds,
    reads: VecDeque<PendingRead>,
    transfer: Option<Transfer>,
    /// Lease reads are refused until then (a transfer may elect someone ignoring our lease).
    lease_blocked_until: Instant,

    // Follower state.
    incoming_snapshot: Option<IncomingSnapshot>,

    // Output.
    actions: VecDeque<Action>,
    staged: Staged,
    pending: VecDeque<PendingWrite>,
    next_token: u64,
}

impl Raft {
    /// A server starting from what was recovered from disk (empty for a brand-new server).
    /// The election timeout is drawn from `rng`. A recovered snapshot is handed back as
    /// `Action::RestoreSnapshot`, and committed entries after it as `Action::Apply`.
    pub fn new(config: Config, recovered: Recovered, rng: Rng, now: Instant) -> Self {
        let Recovered {
            hard_state,
            snapshot,
            entries,
        } = recovered;
        let (base_index, base_term, base_membership) = match &snapshot {
            Some(s) => (
                s.meta.last_index,
                s.meta.last_term,
                s.meta.membership.clone(),
            ),
            None => (LogIndex(0), Term(0), Membership::default()),
        };
        let log = RaftLog::recovered(base_index, base_term, entries);
        let mut configs = ConfigLog::new(base_index, base_membership);
        for index in (base_index.0 + 1)..=log.last_index().0 {
            if let Some(Entry {
                payload: EntryPayload::Membership(m),
                ..
            }) = log.get(LogIndex(index))
            {
                configs.push(LogIndex(index), m.clone());
            }
        }
        let commit = hard_state.commit.max(base_index).min(log.last_index());
        let mut raft = Raft {
            election_timeout: config.election_timeout,
            config,
            rng,
            now,
            term: hard_state.term,
            vote: hard_state.vote,
            commit,
            log,
            configs,
            snapshot: None,
            role: Role::Follower,
            leader: None,
            applied: LogIndex(0),
            removed: false,
            election_deadline: now,
            last_leader_contact: None,
            votes: BTreeMap::new(),
            self_vote_durable: false,
            progress: BTreeMap::new(),
            heartbeat_deadline: Instant::MAX,
            replicate_pending: false,
            rounds: Rounds::default(),
            reads: VecDeque::new(),
            transfer: None,
            lease_blocked_until: Instant::ZERO,
            incoming_snapshot: None,
            actions: VecDeque::new(),
            staged: Staged::default(),
            pending: VecDeque::new(),
            next_token: 1,
        };
        raft.removed = raft.was_removed();
        raft.reset_election_timer(true);
        if let Some(snapshot) = snapshot {
            raft.applied = snapshot.meta.last_index;
            raft.actions
                .push_back(Action::RestoreSnapshot(snapshot.clone()));
            raft.snapshot = Some(snapshot);
        }
        raft.apply_ready();
        raft
    }

    /// Start a brand-new cluster with `membership` as its first configuration (index 1).
    /// Only valid on a server with an empty log and term 0.
    pub fn bootstrap(&mut self, now: Instant, membership: Membership) -> Result<(), ProposeError> {
        self.observe(now);
        if self.term != Term(0) || self.log.last_index() != LogIndex(0) {
            return Err(ProposeError::InvalidMembershipChange("already initialized"));
        }
        if !membership.is_voter(self.config.id) {
            return Err(ProposeError::InvalidMembershipChange(
                "bootstrap membership must include this server as a voter",
            ));
        }
        self.term = Term(1);
        self.stage_hard_state();
        self.append_local(EntryPayload::Membership(membership));
        self.reset_election_timer(true);
        Ok(())
    }

    /// A message from `from` arrived.
    pub fn handle_message(&mut self, now: Instant, from: NodeId, msg: Message) {
        self.observe(now);
        if from == self.config.id {
            return;
        }
        if !self.accept_term(from, &msg) {
            return;
        }
        match msg {
            Message::PreVote(req) => self.handle_pre_vote(from, req),
            Message::PreVoteResponse(resp) => self.handle_pre_vote_response(from, resp),
            Message::Vote(req) => self.handle_vote(from, req),
            Message::VoteResponse(resp) => self.handle_vote_response(from, resp),
            Message::Append(req) => self.handle_append(from, req),
            Message::AppendResponse(resp) => self.handle_append_response(from, resp),
            Message::InstallSnapshot(chunk) => self.handle_snapshot_chunk(from, chunk),
            Message::InstallSnapshotResponse(resp) => self.handle_snapshot_response(from, resp),
            Message::TimeoutNow { .. } => self.handle_timeout_now(from),
        }
    }

    /// The deadline from `poll_timeout` passed (or any time: early calls are harmless).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.observe(now);
        if self.role == Role::Leader {
            if self.now >= self.heartbeat_deadline {
                self.heartbeat_tick();
            }
            self.check_transfer_deadline();
        } else if self.can_campaign() && self.now >= self.election_deadline {
            self.campaign(false);
        }
    }

    /// The write of `Action::Persist { token, .. }` is durable.
    pub fn handle_persisted(&mut self, now: Instant, token: IoToken) {
        self.observe(now);
        self.complete_persist(token);
    }

    /// Append a command (leader only). Returns the index it will have if committed.
    pub fn propose(&mut self, now: Instant, command: Bytes) -> Result<LogIndex, ProposeError> {
        self.observe(now);
        self.check_can_propose()?;
        Ok(self.append_local(EntryPayload::Command(command)))
    }

    /// Add `id` as a learner; it is promoted to voter automatically once caught up.
    pub fn add_server(
        &mut self,
        now: Instant,
        id: NodeId,
        addr: String,
    ) -> Result<LogIndex, ProposeError> {
        self.observe(now);
        self.propose_add_server(id, addr)
    }

    /// Remove `id` (possibly this leader, which steps down once the removal commits).
    pub fn remove_server(&mut self, now: Instant, id: NodeId) -> Result<LogIndex, ProposeError> {
        self.observe(now);
        self.propose_remove_server(id)
    }

    /// Hand leadership to `to` (leader only): catch it up, then send it `TimeoutNow`.
    pub fn transfer_leadership(&mut self, now: Instant, to: NodeId) -> Result<(), ProposeError> {
        self.observe(now);
        self.start_transfer(to)
    }

    /// Start a ReadIndex round; the answer comes as `Action::ReadReady` or `Action::ReadFailed`.
    pub fn read_index(&mut self, now: Instant, id: ReadId) {
        self.observe(now);
        self.start_read(id);
    }

    /// A lease read (leader only, check-quorum on): the commit index to wait for before reading.
    pub fn lease_read(&self, now: Instant) -> Result<LogIndex, ReadError> {
        self.check_lease(now.max(self.now))
    }

    /// The state machine has captured a snapshot through `last_index` (which must be applied).
    /// Raft persists it and compacts the log up to it.
    pub fn snapshot_taken(&mut self, now: Instant, last_index: LogIndex, data: Bytes) {
        self.observe(now);
        self.take_snapshot(last_index, data);
    }

    /// The next action for the driver, or `None` when drained.
    #[must_use]
    pub fn poll_action(&mut self) -> Option<Action> {
        if self.actions.is_empty() {
            self.flush();
        }
        self.actions.pop_front()
    }

    /// The single next deadline at which `handle_timeout` must be called.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.role == Role::Leader {
            let transfer = self.transfer.as_ref().map_or(Instant::MAX, |t| t.deadline);
            Some(self.heartbeat_deadline.min(transfer))
        } else if self.can_campaign() {
            Some(self.election_deadline)
        } else {
            None
        }
    }

    /// This server's id.
    pub fn id(&self) -> NodeId {
        self.config.id
    }
    /// Current role.
    pub fn role(&self) -> Role {
        self.role
    }
    /// Current term.
    pub fn term(&self) -> Term {
        self.term
    }
    /// The leader known in the current term.
    pub fn leader(&self) -> Option<NodeId> {
        self.leader
    }
    /// Highest committed index known.
    pub fn commit_index(&self) -> LogIndex {
        self.commit
    }
    /// Highest index handed out in `Action::Apply` (or restored from a snapshot).
    pub fn applied_index(&self) -> LogIndex {
        self.applied
    }
    /// Last index in the log.
    pub fn last_index(&self) -> LogIndex {
        self.log.last_index()
    }
    /// Term of the entry at `index`, if it is in the log or is the snapshot's last entry.
    pub fn term_at(&self, index: LogIndex) -> Option<Term> {
        self.log.term_at(index)
    }
    /// The configuration in effect (the latest in the log, committed or not).
    pub fn membership(&self) -> &Membership {
        self.configs.current()
    }
    /// Entries up to here are compacted away (covered by a snapshot); the in-memory log
    /// starts right after.
    pub fn log_base(&self) -> LogIndex {
        self.log.base_index()
    }
    /// Last index covered by the durable snapshot (zero without one).
    pub fn snapshot_index(&self) -> LogIndex {
        self.snapshot
            .as_ref()
            .map_or(LogIndex(0), |s| s.meta.last_index)
    }
    /// Copies of the in-memory entries in `[from, through]` (clamped to what the log holds).
    pub fn entries(&self, from: LogIndex, through: LogIndex) -> Vec<Entry> {
        let from = from.max(self.log.base_index().next());
        self.log.range(from, through.min(self.log.last_index()))
    }
    /// Whether this server was removed from the configuration and stopped taking part.
    pub fn is_removed(&self) -> bool {
        self.removed
    }
    /// Time since this node last heard from a leader (zero on the leader itself).
    pub fn last_contact(&self, now: Instant) -> Option<Duration> {
        if self.role == Role::Leader {
            return Some(Duration::ZERO);
        }
        self.last_leader_contact
            .map(|t| now.max(self.now).saturating_since(t))
    }

    /// Clamp time so it never runs backwards, whatever the driver passes.
    fn observe(&mut self, now: Instant) {
        self.now = self.now.max(now);
    }

    /// Term rules shared by every message (Raft §5.1, plus pre-vote and check-quorum leases).
    /// Returns whether the message should be handled further.
    fn accept_term(&mut self, from: NodeId, msg: &Message) -> bool {
        let msg_term = msg.term();
        if msg_term > self.term {
            match msg {
                Message::PreVote(_) => return true,
                // A pre-vote grant echoes the term asked about: not a newer term.
                Message::PreVoteResponse(r) if r.granted => return true,
                Message::Vote(r)
                    if !r.transfer && self.config.check_quorum && self.in_leader_lease() =>
                {
                    // A live leader exists: a disruptive candidate must not raise our term.
                    self.send(
                        from,
                        Message::VoteResponse(VoteResponse {
                            term: self.term,
                            granted: false,
                        }),
                    );
                    return false;
                }
                _ => {}
            }
            let leader = match msg {
                Message::Append(_) | Message::InstallSnapshot(_) => Some(from),
                _ => None,
            };
            self.become_follower(msg_term, leader);
            return true;
        }
        if msg_term < self.term {
            match msg {
                // Tell a stale leader about the newer term so it steps down.
                Message::Append(_) | Message::InstallSnapshot(_) => {
                    let result = AppendResult::Conflict {
                        last_index: self.log.last_index(),
                        conflict_term: None,
                        conflict_index: self.log.last_index().next(),
                    };
                    let resp = AppendResponse {
                        term: self.term,
                        round: 0,
                        result,
                    };
                    self.send(from, Message::AppendResponse(resp));
                }
                Message::PreVote(_) => {
                    let resp = VoteResponse {
                        term: self.term,
                        granted: false,
                    };
                    self.send(from, Message::PreVoteResponse(resp));
                }
                _ => {}
            }
            return false;
        }
        true
    }

    fn send(&mut self, to: NodeId, msg: Message) {
        self.actions.push_back(Action::Send { to, msg });
    }

    fn emit(&mut self, event: Event) {
        self.actions.push_back(Action::Event(event));
    }

    fn set_role(&mut self, role: Role) {
        if self.role != role {
            self.role = role;
            self.emit(Event::RoleChanged {
                role,
                term: self.term,
            });
        }
    }

    fn set_leader(&mut self, leader: Option<NodeId>) {
        if self.leader != leader {
            self.leader = leader;
            self.emit(Event::LeaderChanged {
                leader,
                term: self.term,
            });
        }
    }

    fn hard_state(&self) -> HardState {
        HardState {
            term: self.term,
            vote: self.vote,
            commit: self.commit,
        }
    }
}
