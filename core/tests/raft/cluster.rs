//! An in-memory cluster for scenario tests: per-node clocks, disks that only change when a
//! persist is completed, and a network that holds messages until they are delivered.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use bytes::Bytes;

use crate::format;
use synod_core::ids::{IoToken, NodeId};
use synod_core::raft::{
    Action, Config, Entry, EntryPayload, HardState, LogWrite, Membership, Message, Raft, Recovered,
    Snapshot,
};
use synod_core::rand::Rng;
use synod_core::time::{Duration, Instant};

/// What a node's disk holds: only completed persists change it.
#[derive(Debug, Default)]
pub(crate) struct Disk {
    hard_state: HardState,
    snapshot: Option<Snapshot>,
    entries: Vec<Entry>,
}

impl Disk {
    pub(crate) fn write(&mut self, w: LogWrite) {
        if let Some(s) = w.snapshot {
            self.snapshot = Some(s);
        }
        if let Some(from) = w.truncate_from {
            self.entries.retain(|e| e.index < from);
        }
        self.entries.extend(w.entries);
        if let Some(hs) = w.hard_state {
            self.hard_state = hs;
        }
        if let Some(through) = w.compact_through {
            self.entries.retain(|e| e.index > through);
        }
    }

    pub(crate) fn recovered(&self) -> Recovered {
        Recovered {
            hard_state: self.hard_state,
            snapshot: self.snapshot.clone(),
            entries: self.entries.clone(),
        }
    }
}

/// One server under test.
pub(crate) struct TestNode {
    pub(crate) raft: Raft,
    pub(crate) now: Instant,
    config: Config,
    persists: VecDeque<(IoToken, LogWrite)>,
    disk: Disk,
    /// The state machine: commands applied, in order.
    pub(crate) state: Vec<String>,
}

pub(crate) struct Cluster {
    pub(crate) nodes: BTreeMap<NodeId, TestNode>,
    /// Messages sent and not yet delivered, in send order.
    network: VecDeque<(NodeId, NodeId, Message)>,
    /// Links that drop everything (both directions are listed).
    cut: BTreeSet<(NodeId, NodeId)>,
    seed: u64,
}

impl Cluster {
    pub(crate) fn new(seed: u64) -> Self {
        Cluster {
            nodes: BTreeMap::new(),
            network: VecDeque::new(),
            cut: BTreeSet::new(),
            seed,
        }
    }

    pub(crate) fn add_node(
        &mut self,
        config: Config,
        bootstrap: Option<&Membership>,
    ) -> Vec<String> {
        let id = config.id;
        let rng = Rng::for_node(self.seed, id.0);
        let mut raft = Raft::new(config.clone(), Recovered::default(), rng, Instant::ZERO);
        if let Some(Err(e)) = bootstrap.map(|m| raft.bootstrap(Instant::ZERO, m.clone())) {
            return vec![format!("{id}: bootstrap failed: {e:?}")];
        }
        let node = TestNode {
            raft,
            now: Instant::ZERO,
            config,
            persists: VecDeque::new(),
            disk: Disk::default(),
            state: Vec::new(),
        };
        self.nodes.insert(id, node);
        self.process(id)
    }

    /// (Re)create a node whose disk holds `recovered`.
    pub(crate) fn load_node(&mut self, config: Config, recovered: Recovered) -> Vec<String> {
        let id = config.id;
        let rng = Rng::for_node(self.seed, id.0);
        let raft = Raft::new(config.clone(), recovered.clone(), rng, Instant::ZERO);
        let disk = Disk {
            hard_state: recovered.hard_state,
            snapshot: recovered.snapshot,
            entries: recovered.entries,
        };
        let node = TestNode {
            raft,
            now: Instant::ZERO,
            config,
            persists: VecDeque::new(),
            disk,
            state: Vec::new(),
        };
        self.nodes.insert(id, node);
        self.process(id)
    }

    /// Drain `id`'s actions: sends go to the network, persists wait, applies reach the state.
    pub(crate) fn process(&mut self, id: NodeId) -> Vec<String> {
        let mut out = Vec::new();
        let Some(node) = self.nodes.get_mut(&id) else {
            return out;
        };
        while let Some(action) = node.raft.poll_action() {
            out.push(format!("{id}: {}", format::action(&action)));
            match action {
                Action::Send { to, msg } => {
                    if self.cut.contains(&(id, to)) {
                        out.push(format!("{id}: dropped (partitioned from {to})"));
                    } else {
                        self.network.push_back((id, to, msg));
                    }
                }
                Action::Persist { token, write } => node.persists.push_back((token, write)),
                Action::Apply { entries } => {
                    for e in entries {
                        if let EntryPayload::Command(c) = e.payload {
                            node.state.push(String::from_utf8_lossy(&c).into_owned());
                        }
                    }
                }
                Action::RestoreSnapshot(s) => {
                    let data = String::from_utf8_lossy(&s.data).into_owned();
                    node.state = data
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect();
                }
                Action::ReadReady { .. } | Action::ReadFailed { .. } | Action::Event(_) => {}
            }
        }
        out
    }

    /// Complete every pending persist of `id` in order, reporting each.
    pub(crate) fn persist(&mut self, id: NodeId) -> Vec<String> {
        let mut out = Vec::new();
        loop {
            let Some(node) = self.nodes.get_mut(&id) else {
                return out;
            };
            let Some((token, write)) = node.persists.pop_front() else {
                return out;
            };
            node.disk.write(write);
            out.push(format!("{id}: persisted #{token}"));
            let now = node.now;
            node.raft.handle_persisted(now, token);
            out.extend(self.process(id));
        }
    }

    /// Deliver every queued message addressed to `id`.
    pub(crate) fn deliver(&mut self, id: NodeId) -> Vec<String> {
        let mut out = Vec::new();
        let mut rest = VecDeque::new();
        let mut mine = Vec::new();
        for (from, to, msg) in self.network.drain(..) {
            if to == id {
                mine.push((from, msg));
            } else {
                rest.push_back((from, to, msg));
            }
        }
        self.network = rest;
        for (from, msg) in mine {
            if self.cut.contains(&(from, id)) {
                out.push(format!(
                    "{id}: dropped {} from {from} (partitioned)",
                    format::message(&msg)
                ));
                continue;
            }
            let Some(node) = self.nodes.get_mut(&id) else {
                continue;
            };
            let now = node.now;
            node.raft.handle_message(now, from, msg);
            out.extend(self.process(id));
        }
        out
    }

    /// Drop every queued message addressed to `id`.
    pub(crate) fn drop_messages(&mut self, id: NodeId) -> Vec<String> {
        let mut out = Vec::new();
        self.network.retain(|(from, to, msg)| {
            if *to == id {
                out.push(format!("{id}: lost {} from {from}", format::message(msg)));
            }
            *to != id
        });
        out
    }

    /// Process, persist and deliver everywhere until nothing is left to do.
    pub(crate) fn stabilize(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        for _ in 0..1000 {
            let ids: Vec<NodeId> = self.nodes.keys().copied().collect();
            let mut step = Vec::new();
            for &id in &ids {
                step.extend(self.process(id));
                step.extend(self.persist(id));
            }
            for &id in &ids {
                step.extend(self.deliver(id));
            }
            let idle = step.is_empty() && self.network.is_empty();
            out.extend(step);
            if idle {
                break;
            }
        }
        out
    }

    /// Move `id`'s clock to its next deadline and fire it.
    pub(crate) fn tick(&mut self, id: NodeId) -> Vec<String> {
        let Some(node) = self.nodes.get_mut(&id) else {
            return vec![format!("{id}: no such node")];
        };
        let Some(deadline) = node.raft.poll_timeout() else {
            return vec![format!("{id}: no deadline")];
        };
        node.now = node.now.max(deadline);
        let now = node.now;
        node.raft.handle_timeout(now);
        self.process(id)
    }

    /// Move every clock forward by `by`, firing deadlines that passed.
    pub(crate) fn advance(&mut self, by: Duration) -> Vec<String> {
        let ids: Vec<NodeId> = self.nodes.keys().copied().collect();
        let mut out = Vec::new();
        for id in ids {
            if let Some(node) = self.nodes.get_mut(&id) {
                node.now += by;
                let now = node.now;
                node.raft.handle_timeout(now);
            }
            out.extend(self.process(id));
        }
        out
    }

    pub(crate) fn isolate(&mut self, id: NodeId) {
        let others: Vec<NodeId> = self.nodes.keys().copied().filter(|&o| o != id).collect();
        for other in others {
            self.cut.insert((id, other));
            self.cut.insert((other, id));
        }
    }

    pub(crate) fn cut(&mut self, a: NodeId, b: NodeId) {
        self.cut.insert((a, b));
        self.cut.insert((b, a));
    }

    pub(crate) fn heal(&mut self) {
        self.cut.clear();
    }

    /// Crash `id` (losing unpersisted writes and queued messages to it) and restart from disk.
    pub(crate) fn restart(&mut self, id: NodeId) -> Vec<String> {
        let mut out = self.drop_messages(id);
        let seed = self.seed;
        let Some(node) = self.nodes.get_mut(&id) else {
            return out;
        };
        node.persists.clear();
        node.state.clear();
        let rng = Rng::for_node(seed ^ 0xDEAD, id.0);
        node.raft = Raft::new(node.config.clone(), node.disk.recovered(), rng, node.now);
        out.extend(self.process(id));
        out
    }

    /// Tell `id` its state machine captured a snapshot at its applied index.
    pub(crate) fn snapshot(&mut self, id: NodeId) -> Vec<String> {
        let Some(node) = self.nodes.get_mut(&id) else {
            return Vec::new();
        };
        let applied = node.raft.applied_index();
        let data = Bytes::from(node.state.join(","));
        let now = node.now;
        node.raft.snapshot_taken(now, applied, data);
        self.process(id)
    }

    pub(crate) fn status(&self, id: NodeId) -> String {
        let Some(node) = self.nodes.get(&id) else {
            return format!("{id}: no such node");
        };
        let r = &node.raft;
        let leader = r.leader().map_or("-".to_string(), |l| l.to_string());
        format!(
            "{id}: {:?} term={} leader={leader} last={} commit={} applied={} conf{} state=[{}]",
            r.role(),
            r.term(),
            r.last_index(),
            r.commit_index(),
            r.applied_index(),
            format::membership(r.membership()),
            node.state.join(",")
        )
    }

    pub(crate) fn log(&self, id: NodeId) -> String {
        let Some(node) = self.nodes.get(&id) else {
            return format!("{id}: no such node");
        };
        let r = &node.raft;
        let entries = r.entries(r.snapshot_index().next(), r.last_index());
        format!("{id}: base={} {}", r.log_base(), format::entries(&entries))
    }

    pub(crate) fn node_now(&self, id: NodeId) -> Instant {
        self.nodes.get(&id).map_or(Instant::ZERO, |n| n.now)
    }
}
