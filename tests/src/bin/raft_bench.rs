//! Raft throughput: three in-memory nodes, messages delivered directly, persists completed
//! at once. Prints committed entries per second with 1 and with 256 proposals in flight.
//!
//! `cargo run --release -p synod-tests --bin raft_bench`

use std::collections::VecDeque;
use std::time::Instant as WallClock;

use bytes::Bytes;
use synod_core::ids::NodeId;
use synod_core::raft::{Action, Config, EntryPayload, Membership, Message, Raft, Recovered, Role};
use synod_core::rand::Rng;
use synod_core::time::Instant;

const NODES: u64 = 3;
const WARMUP_ENTRIES: u64 = 20_000;
const MEASURED_ENTRIES: u64 = 400_000;

struct Cluster {
    nodes: Vec<Raft>,
    now: Instant,
    network: VecDeque<(NodeId, NodeId, Message)>,
    /// Commands the leader has applied.
    applied: u64,
}

impl Cluster {
    fn new() -> Self {
        let membership = Membership::voters((1..=NODES).map(|i| (NodeId(i), format!("n{i}"))));
        let nodes = (1..=NODES)
            .map(|i| {
                let config = Config::new(NodeId(i));
                let rng = Rng::for_node(1, i);
                let mut raft = Raft::new(config, Recovered::default(), rng, Instant::ZERO);
                if let Err(e) = raft.bootstrap(Instant::ZERO, membership.clone()) {
                    panic!("bootstrap failed: {e:?}");
                }
                raft
            })
            .collect();
        Cluster {
            nodes,
            now: Instant::ZERO,
            network: VecDeque::new(),
            applied: 0,
        }
    }

    fn node(&mut self, id: NodeId) -> &mut Raft {
        &mut self.nodes[(id.0 - 1) as usize]
    }

    /// Drain every node (completing persists at once) and deliver messages until quiet.
    fn pump(&mut self) {
        loop {
            let mut busy = false;
            for i in 0..self.nodes.len() {
                busy |= self.drain(i);
            }
            while let Some((from, to, msg)) = self.network.pop_front() {
                busy = true;
                let now = self.now;
                self.node(to).handle_message(now, from, msg);
            }
            if !busy {
                return;
            }
        }
    }

    /// Drain node `i`; returns whether it had anything to do.
    fn drain(&mut self, i: usize) -> bool {
        let now = self.now;
        let id = self.nodes[i].id();
        let is_leader = self.nodes[i].role() == Role::Leader;
        let mut any = false;
        while let Some(action) = self.nodes[i].poll_action() {
            any = true;
            match action {
                Action::Send { to, msg } => self.network.push_back((id, to, msg)),
                Action::Persist { token, .. } => self.nodes[i].handle_persisted(now, token),
                Action::Apply { entries } if is_leader => {
                    let commands = entries
                        .iter()
                        .filter(|e| matches!(e.payload, EntryPayload::Command(_)))
                        .count();
                    self.applied += commands as u64;
                }
                _ => {}
            }
        }
        any
    }

    fn elect(&mut self) -> usize {
        loop {
            let deadline = self.nodes.iter().filter_map(Raft::poll_timeout).min();
            self.now = deadline.unwrap_or(self.now).max(self.now);
            let now = self.now;
            for raft in &mut self.nodes {
                raft.handle_timeout(now);
            }
            self.pump();
            if let Some(leader) = self.nodes.iter().position(|r| r.role() == Role::Leader) {
                return leader;
            }
        }
    }

    /// Keep `inflight` proposals outstanding until `count` more commands are applied.
    fn run(&mut self, leader: usize, inflight: u64, count: u64) {
        let payload = Bytes::from_static(&[7u8; 64]);
        let target = self.applied + count;
        let mut proposed = self.applied;
        while self.applied < target {
            while proposed - self.applied < inflight && proposed < target {
                let now = self.now;
                if let Err(e) = self.nodes[leader].propose(now, payload.clone()) {
                    panic!("propose failed: {e:?}");
                }
                proposed += 1;
            }
            self.pump();
        }
    }
}

fn main() {
    for inflight in [1u64, 256] {
        let mut cluster = Cluster::new();
        let leader = cluster.elect();
        let count = if inflight == 1 {
            MEASURED_ENTRIES / 8
        } else {
            MEASURED_ENTRIES
        };
        cluster.run(leader, inflight, WARMUP_ENTRIES);
        let start = WallClock::now();
        cluster.run(leader, inflight, count);
        let secs = start.elapsed().as_secs_f64();
        println!(
            "raft_bench: inflight={inflight} entries={count} entries_per_s={:.0}",
            count as f64 / secs
        );
    }
}
