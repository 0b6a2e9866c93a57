//! One simulated run: the world state, its event loop, and the phases.

use std::collections::BTreeMap;

use bytes::Bytes;
use synod_core::ids::{IoToken, NodeId, RequestId};
use synod_core::node::{
    Action, ClientRequest, ClientResponse, Consistency, Input, Node, NodeConfig, NodeEvent,
};
use synod_core::raft::{self, Membership, Role};
use synod_core::rand::{Rng, splitmix64};
use synod_core::state::kv_types::KvQuery;
use synod_core::time::{Duration, Instant};

use super::clock::NodeClock;
use super::disk::Disk;
use super::framing::deframe;
use super::network::Network;
use super::options::Options;
use super::queue::EventQueue;
use super::trace::TraceHash;
use super::workload::{Client, Reaction, found_entry};
use crate::checker::{History, InvariantChecker, OpId, Outcome, check_history};

/// Operations each client must see answered after the heal before the run may finish.
const LIVENESS_OPS: usize = 3;
/// Steps at one instant after which time is considered stuck (a timer that never advances).
const MAX_STEPS_AT_ONE_INSTANT: u64 = 100_000;
/// Steps between whole-log comparisons of every pair of nodes.
const FULL_LOG_CHECK_PERIOD: u64 = 2_000;

/// Why a run failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// Global simulated time of the failure, µs.
    pub at_us: u64,
    /// What went wrong.
    pub reason: String,
}

/// Counters of one run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Events handled.
    pub steps: u64,
    /// Frames handed to the network.
    pub messages_sent: u64,
    /// Frames delivered.
    pub messages_delivered: u64,
    /// Disk writes completed.
    pub persists: u64,
    /// Crashes injected.
    pub crashes: u64,
    /// Client operations started.
    pub ops: u64,
    /// Client operations whose outcome stayed unknown.
    pub ops_unknown: u64,
    /// Distinct leader terms observed.
    pub leader_terms: u64,
    /// Simulated time reached, µs.
    pub simulated_us: u64,
}

/// The result of one run.
#[derive(Clone, Debug)]
pub struct Report {
    /// The options the seed gave.
    pub options: Options,
    /// FNV-1a over every delivered event.
    pub trace_hash: u64,
    /// Counters.
    pub stats: Stats,
    /// The first failure, if any.
    pub failure: Option<Failure>,
}

/// Runs the seed's world to the end.
pub fn run_seed(seed: u64) -> Report {
    run_options(Options::from_seed(seed))
}

/// Runs a world with explicit options (benchmarks tune them).
pub fn run_options(options: Options) -> Report {
    World::new(options).run()
}

#[derive(Clone, Debug)]
enum Event {
    Deliver {
        from: NodeId,
        to: NodeId,
        frame: Bytes,
    },
    DiskDone {
        node: usize,
        incarnation: u64,
        token: IoToken,
    },
    Timer {
        node: usize,
        incarnation: u64,
        generation: u64,
    },
    FaultTick,
    Restart {
        node: usize,
    },
    Heal,
    LivenessDeadline,
    ClientIssue {
        client: usize,
    },
    ClientTimeout {
        client: usize,
        op: OpId,
    },
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Phase {
    /// Faults on, clients running.
    Safety,
    /// Healed; clients must each get answers.
    Liveness,
    /// A verifier reads every key linearizably.
    FinalReads,
    /// Waiting for every log, commit and applied index to agree.
    Converging,
    /// Reading every key from every node's own state.
    StaleReads,
    /// Finished.
    Done,
}

/// Who is waiting for a request's answer.
#[derive(Copy, Clone, Debug)]
enum Asker {
    Client(usize),
    StaleRead { key: usize },
}

struct Slot {
    id: NodeId,
    node: Option<Node>,
    incarnation: u64,
    clock: NodeClock,
    disk: Disk,
    last_now: Instant,
    timer: Option<u64>,
    timer_generation: u64,
}

struct World {
    options: Options,
    rng: Rng,
    now: u64,
    queue: EventQueue<Event>,
    slots: Vec<Slot>,
    membership: Membership,
    network: Network,
    phase: Phase,
    /// Workload clients, then the verifier.
    clients: Vec<Client>,
    /// The request each client has in flight.
    attempts: Vec<Option<RequestId>>,
    keys: Vec<String>,
    keys_to_verify: Vec<String>,
    history: History,
    in_flight: BTreeMap<RequestId, (Asker, usize)>,
    next_request: u64,
    final_values: BTreeMap<String, Option<(Bytes, u64)>>,
    stale_values: BTreeMap<(usize, usize), Option<(Bytes, u64)>>,
    checker: InvariantChecker,
    trace: TraceHash,
    stats: Stats,
    failure: Option<Failure>,
    steps_at_now: u64,
}

impl World {
    fn new(options: Options) -> Self {
        let mut rng = Rng::new(options.seed ^ 0x5157_0000_0000_0001);
        let ids: Vec<NodeId> = (1..=options.nodes as u64).map(NodeId).collect();
        let membership =
            Membership::voters(ids.iter().map(|id| (*id, format!("10.0.0.{id}:8300"))));
        let drift = options.clock_drift_ppm;
        let slots = ids
            .iter()
            .map(|&id| Slot {
                id,
                node: None,
                incarnation: 0,
                clock: NodeClock {
                    offset_us: rng.below(options.clock_offset.as_micros() as u64 + 1),
                    drift_ppm: rng.range(0, 2 * drift as u64 + 1) as i64 - drift,
                },
                disk: Disk::default(),
                last_now: Instant::ZERO,
                timer: None,
                timer_generation: 0,
            })
            .collect();
        let clients = (0..=options.workload.clients).map(Client::new).collect();
        World {
            network: Network::new(options.network.clone(), ids),
            keys: (0..options.workload.keys)
                .map(|k| format!("key/{k}"))
                .collect(),
            attempts: vec![None; options.workload.clients + 1],
            options,
            rng,
            now: 0,
            queue: EventQueue::default(),
            slots,
            membership,
            phase: Phase::Safety,
            clients,
            keys_to_verify: Vec::new(),
            history: History::new(),
            in_flight: BTreeMap::new(),
            next_request: 0,
            final_values: BTreeMap::new(),
            stale_values: BTreeMap::new(),
            checker: InvariantChecker::new(),
            trace: TraceHash::default(),
            stats: Stats::default(),
            failure: None,
            steps_at_now: 0,
        }
    }

    fn run(mut self) -> Report {
        for i in 0..self.slots.len() {
            self.boot(i);
        }
        self.queue
            .push(micros(self.options.fault_tick), Event::FaultTick);
        self.queue
            .push(micros(self.options.safety_duration), Event::Heal);
        for client in 0..self.options.workload.clients {
            let think = self.think_time();
            self.queue.push(think, Event::ClientIssue { client });
        }
        while self.failure.is_none() && self.phase != Phase::Done {
            let Some((at, event)) = self.queue.pop() else {
                self.fail(format!("nothing left to happen in phase {:?}", self.phase));
                break;
            };
            self.advance_to(at);
            self.handle(event);
            self.stats.steps += 1;
            if self.stats.steps.is_multiple_of(FULL_LOG_CHECK_PERIOD) {
                self.check_full_logs();
            }
            self.advance_phase();
        }
        if self.failure.is_none() {
            self.check_full_logs();
        }
        if self.failure.is_none()
            && let Err(e) = check_history(&self.history)
        {
            self.fail(e.to_string());
        }
        self.stats.simulated_us = self.now;
        Report {
            options: self.options,
            trace_hash: self.trace.value(),
            stats: self.stats,
            failure: self.failure,
        }
    }

    fn advance_to(&mut self, at: u64) {
        if at == self.now {
            self.steps_at_now += 1;
            if self.steps_at_now > MAX_STEPS_AT_ONE_INSTANT {
                self.fail("simulated time stopped advancing (a timer keeps firing now)".into());
            }
        } else {
            self.steps_at_now = 0;
            self.now = at;
        }
    }

    fn fail(&mut self, reason: String) {
        if self.failure.is_none() {
            self.failure = Some(Failure {
                at_us: self.now,
                reason,
            });
        }
    }

    fn think_time(&mut self) -> u64 {
        self.now
            + micros(
                self.rng
                    .duration(Duration::ZERO, self.options.workload.think_max),
            )
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Deliver { from, to, frame } => self.deliver(from, to, frame),
            Event::DiskDone {
                node,
                incarnation,
                token,
            } => {
                if self.slots[node].incarnation != incarnation || self.slots[node].node.is_none() {
                    return;
                }
                let before = self.slots[node].disk.image().hard_state;
                if let Err(e) = self.slots[node].disk.complete(token) {
                    return self.fail(format!("node {}: {}", self.slots[node].id, e.0));
                }
                let after = self.slots[node].disk.image().hard_state;
                let voted =
                    after.vote.is_some() && (after.term, after.vote) != (before.term, before.vote);
                self.stats.persists += 1;
                self.trace
                    .event(self.now, node as u64, 2, &token.0.to_le_bytes());
                self.input(node, Input::Persisted(token));
                if voted
                    && self.phase == Phase::Safety
                    && self.rng.chance(self.options.crash.crash_after_vote)
                {
                    let downtime = Duration::from_micros(self.rng.range(100, 5_000));
                    self.crash(node, downtime);
                }
            }
            Event::Timer {
                node,
                incarnation,
                generation,
            } => {
                let slot = &mut self.slots[node];
                if slot.incarnation != incarnation || slot.timer_generation != generation {
                    return;
                }
                slot.timer = None;
                self.trace.event(self.now, node as u64, 3, &[]);
                let now = self.local_now(node);
                if let Some(n) = self.slots[node].node.as_mut() {
                    n.handle_timeout(now);
                }
                self.after_input(node);
            }
            Event::FaultTick => self.fault_tick(),
            Event::Restart { node } => {
                if self.phase == Phase::Safety && self.slots[node].node.is_none() {
                    self.boot(node);
                }
            }
            Event::Heal => self.heal(),
            Event::LivenessDeadline => {
                if self.phase != Phase::Done {
                    let status = self.describe();
                    self.fail(format!(
                        "liveness: still in phase {:?} {:?} after healing\n{status}",
                        self.phase, self.options.liveness_bound
                    ));
                }
            }
            Event::ClientIssue { client } => self.issue(client),
            Event::ClientTimeout { client, op } => {
                if self.clients[client]
                    .pending
                    .as_ref()
                    .is_some_and(|p| p.op == op)
                {
                    self.clients[client].pending = None;
                    if let Some(id) = self.attempts[client].take() {
                        self.in_flight.remove(&id);
                    }
                    self.stats.ops_unknown += 1;
                    let at = self.think_time();
                    self.queue.push(at, Event::ClientIssue { client });
                }
            }
        }
    }

    // ----- nodes -----

    fn local_now(&mut self, i: usize) -> Instant {
        let slot = &mut self.slots[i];
        slot.last_now = slot.clock.local(self.now).max(slot.last_now);
        slot.last_now
    }

    fn node_config(&self, id: NodeId) -> NodeConfig {
        let o = &self.options.node;
        NodeConfig {
            raft: raft::Config {
                max_inflight: o.max_inflight,
                max_append_entries: o.max_append_entries,
                snapshot_chunk_bytes: o.snapshot_chunk_bytes,
                election_timeout: o.election_timeout,
                heartbeat_interval: o.heartbeat_interval,
                ..raft::Config::new(id)
            },
            snapshot_threshold: o.snapshot_threshold,
            snapshot_interval: synod_core::time::Duration::ZERO,
        }
    }

    /// Starts node `i` from its disk (bootstrapping it if the disk is blank).
    fn boot(&mut self, i: usize) {
        let id = self.slots[i].id;
        let image = self.slots[i].disk.image();
        let (recovered, blank) = (image.clone(), super::disk::is_blank(image));
        let durable = recovered.hard_state;
        let mut seed_state =
            self.options.seed ^ id.0.wrapping_mul(0x9E37_79B9) ^ self.slots[i].incarnation << 40;
        let seed = splitmix64(&mut seed_state);
        let now = self.local_now(i);
        let mut node = match Node::new(self.node_config(id), recovered, seed, now) {
            Ok(node) => node,
            Err(e) => return self.fail(format!("node {id} cannot restart: {e}")),
        };
        if blank && let Err(e) = node.bootstrap(now, self.membership.clone()) {
            return self.fail(format!("node {id}: bootstrap refused: {e:?}"));
        }
        if let Err(v) = self
            .checker
            .restarted(node.raft(), durable.term, durable.commit)
        {
            return self.fail(v.0);
        }
        self.slots[i].node = Some(node);
        self.trace.event(self.now, i as u64, 6, &[]);
        self.after_input(i);
    }

    fn input(&mut self, i: usize, input: Input) {
        let now = self.local_now(i);
        if let Some(node) = self.slots[i].node.as_mut() {
            node.handle_input(now, input);
        }
        self.after_input(i);
    }

    /// The driver contract: drain every action, then track the deadline; then check invariants.
    fn after_input(&mut self, i: usize) {
        let mut actions = Vec::new();
        if let Some(node) = self.slots[i].node.as_mut() {
            while let Some(action) = node.poll_action() {
                actions.push(action);
            }
        }
        for action in actions {
            self.perform(i, action);
        }
        self.schedule_timer(i);
        self.check_node(i);
    }

    fn perform(&mut self, i: usize, action: Action) {
        let from = self.slots[i].id;
        match action {
            Action::Send { to, frame } => {
                self.stats.messages_sent += 1;
                for delay in self.network.send(&mut self.rng, from, to) {
                    let at = self.now + micros(delay);
                    let frame = frame.clone();
                    self.queue.push(at, Event::Deliver { from, to, frame });
                }
            }
            Action::Persist { token, write } => {
                let disk = &self.options.disk;
                let latency = micros(self.rng.duration(disk.latency_min, disk.latency_max));
                let slot = &mut self.slots[i];
                let done = slot.disk.submit(token, write, self.now, latency);
                let incarnation = slot.incarnation;
                self.queue.push(
                    done,
                    Event::DiskDone {
                        node: i,
                        incarnation,
                        token,
                    },
                );
            }
            Action::Respond { id, response } => self.on_response(id, response),
            Action::Event(NodeEvent::Raft(raft::Event::RoleChanged {
                role: Role::Leader, ..
            })) => self.stats.leader_terms += 1,
            Action::Event(NodeEvent::Raft(_)) => {}
            // Nothing in the simulation damages data: either event is a bug.
            Action::Event(damage) => self.fail(format!("node {from}: {damage:?}")),
        }
    }

    fn schedule_timer(&mut self, i: usize) {
        let slot = &mut self.slots[i];
        let deadline = slot.node.as_ref().and_then(Node::poll_timeout);
        let at = deadline.map(|d| slot.clock.global_at(d).max(self.now));
        if at == slot.timer {
            return;
        }
        slot.timer = at;
        slot.timer_generation += 1;
        if let Some(at) = at {
            let event = Event::Timer {
                node: i,
                incarnation: slot.incarnation,
                generation: slot.timer_generation,
            };
            self.queue.push(at, event);
        }
    }

    fn check_node(&mut self, i: usize) {
        let Some(node) = self.slots[i].node.as_ref() else {
            return;
        };
        let peers: Vec<&raft::Raft> = self
            .slots
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .filter_map(|(_, s)| s.node.as_ref().map(Node::raft))
            .collect();
        if let Err(v) = self.checker.check_step(node.raft(), &peers) {
            self.fail(v.0);
        }
    }

    fn check_full_logs(&mut self) {
        let rafts: Vec<&raft::Raft> = self
            .slots
            .iter()
            .filter_map(|s| s.node.as_ref().map(Node::raft))
            .collect();
        for (a, x) in rafts.iter().enumerate() {
            for y in &rafts[a + 1..] {
                if let Err(v) = InvariantChecker::check_log_matching_full(*x, *y) {
                    return self.fail(v.0);
                }
            }
        }
    }

    fn deliver(&mut self, from: NodeId, to: NodeId, frame: Bytes) {
        let Some(j) = self.slots.iter().position(|s| s.id == to) else {
            return self.fail(format!("node {from} sent a frame to unknown node {to}"));
        };
        if self.slots[j].node.is_none() || !self.network.link_up(from, to) {
            return;
        }
        let payload = match deframe(&frame) {
            Ok(payload) => payload,
            Err(e) => return self.fail(format!("node {from} sent a bad frame: {e}")),
        };
        self.stats.messages_delivered += 1;
        self.trace.event(self.now, j as u64, 1, &frame);
        self.input(j, Input::Frame(payload));
    }

    // ----- faults and phases -----

    fn fault_tick(&mut self) {
        if self.phase != Phase::Safety {
            return;
        }
        let leader = self.leader_slot();
        self.network
            .tick(&mut self.rng, leader.map(|i| self.slots[i].id));
        if self.rng.chance(self.options.crash.crash_probability) {
            let up: Vec<usize> = (0..self.slots.len())
                .filter(|&i| self.slots[i].node.is_some())
                .collect();
            // Half the crashes hit the leader: leadership changes are where the bugs hide.
            let victim = match leader {
                Some(leader) if self.rng.chance(0.5) => Some(leader),
                _ if up.is_empty() => None,
                _ => Some(up[self.rng.below(up.len() as u64) as usize]),
            };
            if let Some(victim) = victim {
                let crash = &self.options.crash;
                let downtime = self.rng.duration(crash.downtime_min, crash.downtime_max);
                self.crash(victim, downtime);
            }
        }
        let at = self.now + micros(self.options.fault_tick);
        self.queue.push(at, Event::FaultTick);
    }

    /// The running node that believes it leads in the highest term, if any.
    fn leader_slot(&self) -> Option<usize> {
        (0..self.slots.len())
            .filter_map(|i| self.slots[i].node.as_ref().map(|n| (n.raft(), i)))
            .filter(|(r, _)| r.role() == Role::Leader)
            .max_by_key(|(r, _)| r.term())
            .map(|(_, i)| i)
    }

    /// Power loss on node `i`; it restarts after `downtime`.
    fn crash(&mut self, i: usize, downtime: Duration) {
        let torn_write = self.rng.chance(self.options.disk.torn_write);
        let slot = &mut self.slots[i];
        let torn = match slot.disk.in_progress_entries() {
            Some(n) if torn_write => Some(self.rng.range(0, n as u64 + 1) as usize),
            _ => None,
        };
        slot.node = None;
        slot.incarnation += 1;
        slot.timer = None;
        if let Err(e) = slot.disk.crash(torn) {
            let id = slot.id;
            return self.fail(format!("node {id}: torn write: {}", e.0));
        }
        self.stats.crashes += 1;
        self.trace.event(self.now, i as u64, 5, &[]);
        self.queue
            .push(self.now + micros(downtime), Event::Restart { node: i });
    }

    fn heal(&mut self) {
        self.network.heal_all();
        self.phase = Phase::Liveness;
        for i in 0..self.slots.len() {
            if self.slots[i].node.is_none() {
                self.boot(i);
            }
        }
        let deadline = self.now + micros(self.options.liveness_bound);
        self.queue.push(deadline, Event::LivenessDeadline);
    }

    fn advance_phase(&mut self) {
        match self.phase {
            Phase::Safety | Phase::StaleReads | Phase::Done => {}
            Phase::Liveness => {
                let workload = &self.clients[..self.options.workload.clients];
                if workload
                    .iter()
                    .all(|c| c.answered_after_heal >= LIVENESS_OPS && c.pending.is_none())
                {
                    self.phase = Phase::FinalReads;
                    self.keys_to_verify = self.keys.iter().rev().cloned().collect();
                    let verifier = self.options.workload.clients;
                    self.queue
                        .push(self.now, Event::ClientIssue { client: verifier });
                }
            }
            Phase::FinalReads => {
                if self.keys_to_verify.is_empty() {
                    self.phase = Phase::Converging;
                }
            }
            Phase::Converging => {
                if self.converged() {
                    self.phase = Phase::StaleReads;
                    self.read_every_node();
                }
            }
        }
    }

    /// Every node runs, one leader leads, and every log, commit and applied index agree.
    fn converged(&self) -> bool {
        let rafts: Vec<&raft::Raft> = self
            .slots
            .iter()
            .filter_map(|s| s.node.as_ref().map(Node::raft))
            .collect();
        let Some(first) = rafts.first() else {
            return false;
        };
        let last = first.last_index();
        rafts.len() == self.slots.len()
            && rafts.iter().filter(|r| r.role() == Role::Leader).count() == 1
            && rafts.iter().all(|r| {
                r.last_index() == last
                    && r.commit_index() == last
                    && r.applied_index() == last
                    && r.term_at(last) == first.term_at(last)
            })
    }

    fn read_every_node(&mut self) {
        for i in 0..self.slots.len() {
            for key in 0..self.keys.len() {
                let id = self.new_request_id();
                self.in_flight.insert(id, (Asker::StaleRead { key }, i));
                let request = ClientRequest::Read {
                    query: KvQuery::Get {
                        key: self.keys[key].clone(),
                    }
                    .into(),
                    consistency: Consistency::Stale,
                };
                self.trace.event(self.now, i as u64, 4, &id.0.to_le_bytes());
                self.input(i, Input::Request { id, request });
            }
        }
    }

    fn finish_stale_reads(&mut self) {
        for (&(node, key), found) in &self.stale_values {
            let key_name = &self.keys[key];
            let linearized = self.final_values.get(key_name).cloned().flatten();
            if *found != linearized {
                let id = self.slots[node].id;
                let reason = format!(
                    "node {id} holds {found:?} for {key_name:?} after convergence, but the final \
                     linearizable read saw {linearized:?}"
                );
                return self.fail(reason);
            }
        }
        self.phase = Phase::Done;
    }

    // ----- clients -----

    fn new_request_id(&mut self) -> RequestId {
        self.next_request += 1;
        RequestId(self.next_request)
    }

    fn is_verifier(&self, client: usize) -> bool {
        client == self.options.workload.clients
    }

    /// Starts the client's next operation if it has none, then sends it (unless one is in flight).
    fn issue(&mut self, client: usize) {
        if self.attempts[client].is_some() {
            return;
        }
        if self.clients[client].pending.is_none() && !self.start_next(client) {
            return;
        }
        let Some(pending) = self.clients[client].pending.clone() else {
            return;
        };
        let target = match self.clients[client].leader_hint {
            Some(id) => self.slots.iter().position(|s| s.id == id).unwrap_or(0),
            None => self.rng.below(self.slots.len() as u64) as usize,
        };
        if self.slots[target].node.is_none() {
            // Connection refused: no effect; try elsewhere shortly.
            self.clients[client].leader_hint = None;
            let at = self.now + self.rng.range(5_000, 50_000);
            return self.queue.push(at, Event::ClientIssue { client });
        }
        let id = self.new_request_id();
        self.in_flight.insert(id, (Asker::Client(client), target));
        self.attempts[client] = Some(id);
        self.trace
            .event(self.now, target as u64, 4, &id.0.to_le_bytes());
        let request = pending.request;
        self.input(target, Input::Request { id, request });
    }

    /// Draws the client's next operation; false when it has nothing left to do.
    fn start_next(&mut self, client: usize) -> bool {
        let deadline = self.now + micros(self.options.workload.request_timeout);
        let op = if self.is_verifier(client) {
            if self.phase != Phase::FinalReads {
                return false;
            }
            let Some(key) = self.keys_to_verify.last().cloned() else {
                return false;
            };
            let c = &mut self.clients[client];
            c.start_read(&mut self.history, key, Consistency::Consistent, deadline)
                .op
        } else {
            let active = match self.phase {
                Phase::Safety => true,
                Phase::Liveness => self.clients[client].answered_after_heal < LIVENESS_OPS,
                _ => false,
            };
            if !active {
                return false;
            }
            let c = &mut self.clients[client];
            let options = &self.options.workload;
            c.start_random(
                &mut self.rng,
                options,
                &self.keys,
                &mut self.history,
                deadline,
            )
            .op
        };
        self.stats.ops += 1;
        self.queue
            .push(deadline, Event::ClientTimeout { client, op });
        true
    }

    fn on_response(&mut self, id: RequestId, response: ClientResponse) {
        // Answers to abandoned requests are ignored: their outcome stays unknown.
        let Some((asker, target)) = self.in_flight.remove(&id) else {
            return;
        };
        match asker {
            Asker::StaleRead { key } => {
                let found = match &response {
                    ClientResponse::Read { result, .. } => found_entry(&self.keys[key], result),
                    other => Err(format!("stale read answered {other:?}")),
                };
                match found {
                    Ok(found) => {
                        self.stale_values.insert((target, key), found);
                    }
                    Err(e) => return self.fail(e),
                }
                if self.stale_values.len() == self.slots.len() * self.keys.len() {
                    self.finish_stale_reads();
                }
            }
            Asker::Client(client) => {
                self.attempts[client] = None;
                let node = self.slots[target].id;
                match self.clients[client].react(node, &response) {
                    Err(e) => self.fail(format!("client {client}: {e}")),
                    Ok(Reaction::Retry { .. }) => {
                        let at = self.now + self.rng.range(5_000, 50_000);
                        self.queue.push(at, Event::ClientIssue { client });
                    }
                    Ok(Reaction::Completed(outcome)) => self.complete(client, outcome),
                    Ok(Reaction::Unknown) => {
                        self.clients[client].pending = None;
                        self.stats.ops_unknown += 1;
                        let at = self.think_time();
                        self.queue.push(at, Event::ClientIssue { client });
                    }
                }
            }
        }
    }

    fn complete(&mut self, client: usize, outcome: Outcome) {
        let Some(pending) = self.clients[client].pending.take() else {
            return;
        };
        if self.is_verifier(client)
            && let Outcome::Read(found) = &outcome
        {
            self.final_values.insert(pending.key.clone(), found.clone());
            self.keys_to_verify.pop();
        }
        self.history.complete(pending.op, outcome);
        if self.phase != Phase::Safety {
            self.clients[client].answered_after_heal += 1;
        }
        let at = if self.is_verifier(client) {
            self.now
        } else {
            self.think_time()
        };
        self.queue.push(at, Event::ClientIssue { client });
    }

    fn describe(&self) -> String {
        let mut out = String::new();
        for slot in &self.slots {
            match &slot.node {
                None => out.push_str(&format!("  node {}: down\n", slot.id)),
                Some(node) => {
                    let r = node.raft();
                    out.push_str(&format!(
                        "  node {}: {:?} term {} leader {:?} last {} commit {} applied {}\n",
                        slot.id,
                        r.role(),
                        r.term(),
                        r.leader(),
                        r.last_index(),
                        r.commit_index(),
                        r.applied_index()
                    ));
                }
            }
        }
        for (i, c) in self.clients.iter().enumerate() {
            out.push_str(&format!(
                "  client {i}: answered after heal {}, pending {:?}\n",
                c.answered_after_heal,
                c.pending.as_ref().map(|p| &p.request)
            ));
        }
        out
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}
