//! Randomized safety: seeded runs with message loss, reordering and duplication, partitions,
//! crashes that lose unpersisted writes, snapshots and leadership transfers. After every step
//! the Raft invariants are checked; at the end, with faults off, the cluster must converge.

use std::collections::BTreeMap;

use bytes::Bytes;

use crate::cluster::Disk;
use synod_core::ids::{IoToken, LogIndex, NodeId, ReadId, Term};
use synod_core::raft::{
    Action, Config, EntryPayload, Event, LogWrite, Membership, Message, Raft, Role,
};
use synod_core::rand::Rng;
use synod_core::time::{Duration, Instant};

struct SimNode {
    raft: Raft,
    disk: Disk,
    persists: Vec<(IoToken, LogWrite)>,
    /// Commands applied, in order (a snapshot restore replaces it).
    state: Vec<String>,
    up: bool,
}

struct Sim {
    rng: Rng,
    now: Instant,
    nodes: BTreeMap<NodeId, SimNode>,
    network: Vec<(NodeId, NodeId, Message)>,
    /// Pairs that cannot talk.
    cut: Vec<(NodeId, NodeId)>,
    /// Every leader seen, by term (election safety).
    leaders: BTreeMap<Term, NodeId>,
    /// Every entry applied anywhere, by index (state machine safety).
    applied: BTreeMap<LogIndex, (Term, String)>,
    /// For each applied index, a term no earlier than the one it was committed in.
    commit_term_bound: BTreeMap<LogIndex, Term>,
    proposals: u64,
    /// Pending reads and the commit index they must at least see.
    reads: BTreeMap<ReadId, LogIndex>,
    /// Bootstrapped servers; one more (`size + 1`) starts empty and may be added.
    size: u64,
    /// What the run exercised, so the test can tell it was not vacuous.
    seen: Coverage,
    /// Which of pre-vote / check-quorum are on (see `config`).
    variant: u64,
    seed: u64,
    /// Per-node clock rate in thousandths.
    clock_rate: BTreeMap<NodeId, u64>,
}

#[derive(Debug, Default)]
struct Coverage {
    reads_served: u64,
    leases_served: u64,
    snapshots_restored: u64,
    membership_changes: u64,
    elections: u64,
}

/// `variant` picks pre-vote (bit 0 clear) and check-quorum (bit 1 clear).
fn config(id: NodeId, variant: u64) -> Config {
    let mut c = Config::new(id);
    c.pre_vote = variant & 1 == 0;
    c.check_quorum = variant & 2 == 0;
    c.max_inflight = 3;
    c.max_append_entries = 4;
    c.snapshot_chunk_bytes = 256;
    c.trailing_entries = 16;
    // Short timers so a run of a few thousand steps sees many elections.
    c.heartbeat_interval = Duration::from_millis(10);
    c.election_timeout = Duration::from_millis(100);
    c
}

impl Sim {
    fn new(seed: u64, size: u64, variant: u64) -> Self {
        let mut rng = Rng::new(seed);
        let clock_rate = (1..=size + 1)
            .map(|i| (NodeId(i), rng.range(970, 1031)))
            .collect();
        let membership = Membership::voters((1..=size).map(|i| (NodeId(i), format!("n{i}"))));
        let mut nodes = BTreeMap::new();
        for i in 1..=size {
            let id = NodeId(i);
            let rng = Rng::for_node(seed, i);
            let mut raft = Raft::new(config(id, variant), Default::default(), rng, Instant::ZERO);
            assert_eq!(raft.bootstrap(Instant::ZERO, membership.clone()), Ok(()));
            let node = SimNode {
                raft,
                disk: Disk::default(),
                persists: Vec::new(),
                state: Vec::new(),
                up: true,
            };
            nodes.insert(id, node);
        }
        let spare = NodeId(size + 1);
        let node = SimNode {
            raft: Raft::new(
                config(spare, variant),
                Default::default(),
                Rng::for_node(seed, spare.0),
                Instant::ZERO,
            ),
            disk: Disk::default(),
            persists: Vec::new(),
            state: Vec::new(),
            up: true,
        };
        nodes.insert(spare, node);
        Sim {
            rng,
            now: Instant::ZERO,
            nodes,
            network: Vec::new(),
            cut: Vec::new(),
            leaders: BTreeMap::new(),
            applied: BTreeMap::new(),
            commit_term_bound: BTreeMap::new(),
            proposals: 0,
            reads: BTreeMap::new(),
            size,
            seen: Coverage::default(),
            variant,
            seed,
            clock_rate,
        }
    }

    fn drain(&mut self, id: NodeId) {
        let Some(node) = self.nodes.get_mut(&id) else {
            return;
        };
        while let Some(action) = node.raft.poll_action() {
            match action {
                Action::Send { to, msg } => self.network.push((id, to, msg)),
                Action::Persist { token, write } => node.persists.push((token, write)),
                Action::Apply { entries } => {
                    for e in entries {
                        let payload = match &e.payload {
                            EntryPayload::Command(c) => String::from_utf8_lossy(c).into_owned(),
                            other => format!("{other:?}"),
                        };
                        if matches!(e.payload, EntryPayload::Command(_)) {
                            node.state.push(payload.clone());
                        }
                        // The commit happened in a term no later than the applier's current one.
                        let bound = self
                            .commit_term_bound
                            .entry(e.index)
                            .or_insert(node.raft.term());
                        *bound = (*bound).min(node.raft.term());
                        let seen = self
                            .applied
                            .entry(e.index)
                            .or_insert((e.term, payload.clone()));
                        assert_eq!(
                            *seen,
                            (e.term, payload),
                            "two different entries applied at {}",
                            e.index
                        );
                    }
                }
                Action::RestoreSnapshot(s) => {
                    self.seen.snapshots_restored += 1;
                    let data = String::from_utf8_lossy(&s.data).into_owned();
                    node.state = data
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect();
                }
                Action::ReadReady { id: read, index } => {
                    let floor = self.reads.remove(&read).unwrap_or_default();
                    assert!(
                        index >= floor,
                        "read {read} at {index} misses commit {floor}"
                    );
                    self.seen.reads_served += 1;
                }
                Action::ReadFailed { id: read, .. } => {
                    self.reads.remove(&read);
                }
                Action::Event(Event::MembershipChanged(_)) => self.seen.membership_changes += 1,
                Action::Event(Event::RoleChanged {
                    role: Role::Leader, ..
                }) => self.seen.elections += 1,
                Action::Event(_) => {}
            }
        }
    }

    fn check(&mut self) {
        // A crashed node's state is gone; only running nodes are checked.
        for (id, node) in self.nodes.iter().filter(|(_, n)| n.up) {
            let r = &node.raft;
            if r.role() == Role::Leader {
                let previous = self.leaders.insert(r.term(), *id);
                assert!(
                    previous.is_none_or(|p| p == *id),
                    "two leaders in term {}",
                    r.term()
                );
                // Leader completeness: a leader of a term after an entry's commit holds it.
                // (The most recent ones: checking all would make the run quadratic.)
                for (index, (term, _)) in self.applied.range(..=r.last_index()).rev().take(64) {
                    let committed_before = self
                        .commit_term_bound
                        .get(index)
                        .is_some_and(|bound| *bound < r.term());
                    if let Some(t) = r.term_at(*index).filter(|_| committed_before) {
                        assert_eq!(
                            t,
                            *term,
                            "seed {}: leader {id} of term {} lacks applied entry {index}",
                            self.seed,
                            r.term()
                        );
                    }
                }
            }
            assert!(
                r.applied_index() <= r.commit_index(),
                "applied beyond commit on {id}"
            );
            assert!(
                r.commit_index() <= r.last_index(),
                "commit beyond log on {id}"
            );
        }
    }

    /// Node `id`'s clock: its rate differs from the others' by up to 3% (well inside the
    /// lease's drift margin).
    fn clock(&self, id: NodeId) -> Instant {
        let rate = self.clock_rate.get(&id).copied().unwrap_or(1000);
        Instant::from_micros(self.now.as_micros() / 1000 * rate)
    }

    fn linked(&self, a: NodeId, b: NodeId) -> bool {
        !self.cut.contains(&(a, b)) && !self.cut.contains(&(b, a))
    }

    fn step(&mut self, faults: bool) {
        let ids: Vec<NodeId> = self.nodes.keys().copied().collect();
        let pick = |rng: &mut Rng| ids[rng.below(ids.len() as u64) as usize];
        match self.rng.below(120) {
            0..=39 if !self.network.is_empty() => {
                let i = self.rng.below(self.network.len() as u64) as usize;
                let (from, to, msg) = self.network.swap_remove(i);
                if faults && self.rng.chance(0.05) {
                    return;
                }
                if faults && self.rng.chance(0.03) {
                    self.network.push((from, to, msg.clone()));
                }
                let up = self.nodes.get(&to).is_some_and(|n| n.up);
                if up && self.linked(from, to) {
                    let now = self.clock(to);
                    if let Some(node) = self.nodes.get_mut(&to) {
                        node.raft.handle_message(now, from, msg);
                    }
                    self.drain(to);
                }
            }
            40..=59 => {
                let id = pick(&mut self.rng);
                let now = self.clock(id);
                // A driver syncs whatever has queued up, then reports the last token.
                if let Some(node) = self.nodes.get_mut(&id).filter(|n| n.up) {
                    let count = self.rng.range(1, node.persists.len() as u64 + 1) as usize;
                    let batch: Vec<_> = node
                        .persists
                        .drain(..count.min(node.persists.len()))
                        .collect();
                    let last = batch.last().map(|(token, _)| *token);
                    for (_, write) in batch {
                        node.disk.write(write);
                    }
                    if let Some(token) = last {
                        node.raft.handle_persisted(now, token);
                    }
                }
                self.drain(id);
            }
            60..=74 => {
                self.now += Duration::from_millis(self.rng.below(8));
                for id in &ids {
                    let now = self.clock(*id);
                    if let Some(node) = self.nodes.get_mut(id).filter(|n| n.up) {
                        node.raft.handle_timeout(now);
                    }
                    self.drain(*id);
                }
            }
            75..=86 if faults => {
                // Clients stop once the leader is far ahead of its commit index.
                let leader = self.nodes.iter().find(|(_, n)| {
                    n.up && n.raft.role() == Role::Leader
                        && n.raft.last_index().0 < n.raft.commit_index().0 + 64
                });
                if let Some((&id, _)) = leader {
                    self.proposals += 1;
                    let data = Bytes::from(format!("c{}", self.proposals));
                    let now = self.clock(id);
                    if let Some(node) = self.nodes.get_mut(&id) {
                        let _ = node.raft.propose(now, data);
                    }
                    self.drain(id);
                }
            }
            87..=89 => {
                let id = pick(&mut self.rng);
                let now = self.clock(id);
                if let Some(node) = self.nodes.get_mut(&id).filter(|n| n.up) {
                    let applied = node.raft.applied_index();
                    let data = Bytes::from(node.state.join(","));
                    node.raft.snapshot_taken(now, applied, data);
                }
                self.drain(id);
            }
            90..=91 if faults => {
                let from = pick(&mut self.rng);
                let to = pick(&mut self.rng);
                let now = self.clock(from);
                if let Some(node) = self.nodes.get_mut(&from).filter(|n| n.up) {
                    let _ = node.raft.transfer_leadership(now, to);
                }
                self.drain(from);
            }
            92..=94 if faults => {
                let (a, b) = (pick(&mut self.rng), pick(&mut self.rng));
                if a != b {
                    self.cut.push((a, b));
                }
            }
            95..=96 => self.cut.clear(),
            97 if faults => {
                let id = pick(&mut self.rng);
                self.crash(id);
            }
            97..=99 => {
                let id = pick(&mut self.rng);
                self.restart(id);
            }
            100..=104 if faults => self.change_membership(),
            // Without faults: no new load, so the cluster can settle.
            75..=104 => {}
            105..=114 => {
                let id = pick(&mut self.rng);
                self.read_index(id);
            }
            _ => self.check_lease_read(),
        }
        self.check();
    }

    /// The highest index any node knows committed: a linearizable read must see at least it.
    fn max_commit(&self) -> LogIndex {
        self.nodes
            .values()
            .map(|n| n.raft.commit_index())
            .max()
            .unwrap_or_default()
    }

    fn read_index(&mut self, id: NodeId) {
        let read = ReadId(self.rng.next_u64());
        let floor = self.max_commit();
        self.reads.insert(read, floor);
        let now = self.clock(id);
        if let Some(node) = self.nodes.get_mut(&id).filter(|n| n.up) {
            node.raft.read_index(now, read);
        }
        self.drain(id);
    }

    fn check_lease_read(&mut self) {
        let floor = self.max_commit();
        for (id, node) in self.nodes.iter().filter(|(_, n)| n.up) {
            if let Ok(index) = node.raft.lease_read(self.clock(*id)) {
                assert!(
                    index >= floor,
                    "lease read at {index} misses commit {floor}"
                );
                self.seen.leases_served += 1;
            }
        }
    }

    /// Add the spare server, or remove a random follower (keeping at least three voters).
    fn change_membership(&mut self) {
        let leader = self
            .nodes
            .iter()
            .find(|(_, n)| n.up && n.raft.role() == Role::Leader);
        let Some(id) = leader.map(|(id, _)| *id) else {
            return;
        };
        let now = self.clock(id);
        let Some(leader) = self.nodes.get_mut(&id) else {
            return;
        };
        let members: Vec<NodeId> = leader.raft.membership().servers.keys().copied().collect();
        let spare = (1..=self.size + 1)
            .map(NodeId)
            .find(|n| !members.contains(n));
        if let Some(spare) = spare.filter(|_| self.rng.chance(0.5)) {
            let _ = leader.raft.add_server(now, spare, format!("n{spare}"));
        } else if leader.raft.membership().voter_ids().count() > 3 {
            let victim = members[self.rng.below(members.len() as u64) as usize];
            if victim != id {
                let _ = leader.raft.remove_server(now, victim);
            }
        }
        self.drain(id);
    }

    /// Lose everything not yet durable.
    fn crash(&mut self, id: NodeId) {
        if let Some(node) = self.nodes.get_mut(&id) {
            node.up = false;
            node.persists.clear();
        }
        self.network.retain(|(_, to, _)| *to != id);
    }

    fn restart(&mut self, id: NodeId) {
        let seed = self.rng.next_u64();
        let now = self.clock(id);
        let config = config(id, self.variant);
        if let Some(node) = self.nodes.get_mut(&id).filter(|n| !n.up) {
            node.state.clear();
            node.raft = Raft::new(config, node.disk.recovered(), Rng::new(seed), now);
            node.up = true;
        }
        self.drain(id);
    }
}

fn run(seed: u64, size: u64) -> Coverage {
    let mut sim = Sim::new(seed, size, seed / 2 % 4);
    for id in sim.nodes.keys().copied().collect::<Vec<_>>() {
        sim.drain(id);
    }
    for _ in 0..5000 {
        sim.step(true);
    }
    // Liveness: faults off, everyone up and connected; a proposal must reach every node.
    sim.cut.clear();
    for id in sim.nodes.keys().copied().collect::<Vec<_>>() {
        sim.restart(id);
    }
    // Faults off: within a bounded time some leader must have committed everything it has,
    // and every node must have applied it.
    let mut converged = false;
    for _ in 0..30_000 {
        sim.step(false);
        let leader = sim.nodes.values().find(|n| n.raft.role() == Role::Leader);
        if let Some(leader) = leader.filter(|l| l.raft.commit_index() == l.raft.last_index()) {
            let target = leader.raft.commit_index();
            let members = &leader.raft.membership().servers;
            let mut in_config = sim.nodes.iter().filter(|(id, _)| members.contains_key(id));
            if in_config.all(|(_, n)| n.raft.applied_index() >= target) {
                converged = true;
                break;
            }
        }
    }
    assert!(
        converged,
        "seed {seed}: no convergence: {:?}",
        sim.nodes
            .values()
            .map(|n| format!(
                "\n{} {:?} t{} applied={} commit={} last={} base={} persists={} up={} conf{} removed={} timeout={:?}\n{:?}",
                n.raft.id(), n.raft.role(), n.raft.term(), n.raft.applied_index(), n.raft.commit_index(),
                n.raft.last_index(), n.raft.log_base(), n.persists.len(), n.up,
                crate::format::membership(n.raft.membership()), n.raft.is_removed(), n.raft.poll_timeout(),
                n.raft
            ))
            .collect::<Vec<_>>()
    );
    let leader = sim.nodes.values().find(|n| n.raft.role() == Role::Leader);
    let members = leader
        .map(|l| l.raft.membership().servers.clone())
        .unwrap_or_default();
    let states: Vec<&Vec<String>> = sim
        .nodes
        .iter()
        .filter(|(id, _)| members.contains_key(id))
        .map(|(_, n)| &n.state)
        .collect();
    assert!(
        states.windows(2).all(|w| w[0] == w[1]),
        "seed {seed}: state machines differ"
    );
    sim.seen
}

#[test]
fn random_faults_never_break_safety_and_cluster_converges() {
    let mut total = Coverage::default();
    for seed in 0..40 {
        let seen = run(seed, if seed % 2 == 0 { 3 } else { 5 });
        total.reads_served += seen.reads_served;
        total.leases_served += seen.leases_served;
        total.snapshots_restored += seen.snapshots_restored;
        total.membership_changes += seen.membership_changes;
        total.elections += seen.elections;
    }
    let Coverage {
        reads_served,
        leases_served,
        snapshots_restored,
        membership_changes,
        elections,
    } = total;
    assert!(
        reads_served > 0
            && leases_served > 0
            && snapshots_restored > 0
            && membership_changes > 0
            && elections > 40,
        "the runs did not exercise every feature: {total:?}"
    );
}
