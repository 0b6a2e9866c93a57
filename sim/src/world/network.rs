//! The simulated network: per-message latency, loss, duplication, reordering, and partitions
//! (symmetric or one-way; a split or one node cut off).

use std::collections::BTreeSet;

use synod_core::ids::NodeId;
use synod_core::rand::Rng;
use synod_core::time::Duration;

use super::options::{NetworkOptions, PartitionMode, PartitionSymmetry};

/// Links and their faults.
#[derive(Clone, Debug)]
pub struct Network {
    options: NetworkOptions,
    nodes: Vec<NodeId>,
    /// Directed links that drop everything.
    blocked: BTreeSet<(NodeId, NodeId)>,
    /// When false, every fault is off (the liveness phase).
    faulty: bool,
}

impl Network {
    /// A fully connected network of `nodes`.
    pub fn new(options: NetworkOptions, nodes: Vec<NodeId>) -> Self {
        Network {
            options,
            nodes,
            blocked: BTreeSet::new(),
            faulty: true,
        }
    }

    /// Whether `from` can currently reach `to`.
    pub fn link_up(&self, from: NodeId, to: NodeId) -> bool {
        !self.blocked.contains(&(from, to))
    }

    /// Whether a partition is in place.
    pub fn partitioned(&self) -> bool {
        !self.blocked.is_empty()
    }

    /// The delays after which copies of one message sent now arrive: none if it is lost, two if
    /// it is duplicated.
    pub fn send(&self, rng: &mut Rng, from: NodeId, to: NodeId) -> Vec<Duration> {
        if !self.link_up(from, to) {
            return Vec::new();
        }
        if self.faulty && rng.chance(self.options.loss) {
            return Vec::new();
        }
        let copies = if self.faulty && rng.chance(self.options.duplicate) {
            2
        } else {
            1
        };
        (0..copies).map(|_| self.delay(rng)).collect()
    }

    fn delay(&self, rng: &mut Rng) -> Duration {
        let mean_us = self.options.latency_mean.as_micros() as f64;
        // Exponential tail: -mean * ln(U), U in (0, 1].
        let tail = -mean_us * (1.0 - rng.unit()).ln();
        let mut delay = self.options.latency_min + Duration::from_micros(tail.min(1e9) as u64);
        if self.faulty && rng.chance(self.options.reorder) {
            delay += rng.duration(Duration::ZERO, self.options.reorder_delay);
        }
        delay
    }

    /// One fault tick: maybe start or heal a partition. Half of the partitions that cut off one
    /// node cut off `leader` (when known): that is where the interesting recoveries happen.
    pub fn tick(&mut self, rng: &mut Rng, leader: Option<NodeId>) {
        if !self.faulty {
            return;
        }
        if self.partitioned() {
            if rng.chance(self.options.heal_probability) {
                self.blocked.clear();
            }
        } else if rng.chance(self.options.partition_probability) {
            self.partition(rng, leader);
        }
    }

    fn partition(&mut self, rng: &mut Rng, leader: Option<NodeId>) {
        let mut nodes = self.nodes.clone();
        rng.shuffle(&mut nodes);
        if let Some(at) = leader.and_then(|l| nodes.iter().position(|n| *n == l))
            && rng.chance(0.5)
        {
            nodes.swap(0, at);
        }
        let side_size = match self.options.partition_mode {
            PartitionMode::None => return,
            PartitionMode::IsolateSingle => 1,
            PartitionMode::UniformSize => rng.range(1, nodes.len() as u64) as usize,
        };
        let (side, rest) = nodes.split_at(side_size);
        for &a in side {
            for &b in rest {
                self.blocked.insert((a, b));
                if self.options.partition_symmetry == PartitionSymmetry::Symmetric {
                    self.blocked.insert((b, a));
                }
            }
        }
    }

    /// Heals every link and turns every fault off for good.
    pub fn heal_all(&mut self) {
        self.blocked.clear();
        self.faulty = false;
    }

    /// A readable list of blocked links.
    pub fn describe(&self) -> String {
        let links: Vec<String> = self
            .blocked
            .iter()
            .map(|(a, b)| format!("{a}->{b}"))
            .collect();
        links.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::options::Options;

    fn lossless(mode: PartitionMode, symmetry: PartitionSymmetry) -> NetworkOptions {
        NetworkOptions {
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            partition_mode: mode,
            partition_symmetry: symmetry,
            partition_probability: 1.0,
            heal_probability: 1.0,
            ..Options::from_seed(1).network
        }
    }

    fn ids(n: u64) -> Vec<NodeId> {
        (1..=n).map(NodeId).collect()
    }

    #[test]
    fn isolating_a_single_node_cuts_it_off_both_ways() {
        let mut net = Network::new(
            lossless(PartitionMode::IsolateSingle, PartitionSymmetry::Symmetric),
            ids(5),
        );
        let mut rng = Rng::new(3);
        net.tick(&mut rng, None);
        let cut: Vec<NodeId> = ids(5)
            .into_iter()
            .filter(|&a| ids(5).into_iter().all(|b| a == b || !net.link_up(a, b)))
            .collect();
        assert_eq!(cut.len(), 1);
        assert!(
            ids(5)
                .iter()
                .all(|&b| b == cut[0] || !net.link_up(b, cut[0]))
        );
        net.tick(&mut rng, None);
        assert!(!net.partitioned());
    }

    #[test]
    fn isolation_often_targets_the_leader() {
        let options = lossless(PartitionMode::IsolateSingle, PartitionSymmetry::Symmetric);
        let mut rng = Rng::new(11);
        let mut leader_cut = 0;
        for _ in 0..100 {
            let mut net = Network::new(options.clone(), ids(5));
            net.tick(&mut rng, Some(NodeId(3)));
            if !net.link_up(NodeId(3), NodeId(1)) && !net.link_up(NodeId(3), NodeId(2))
                || !net.link_up(NodeId(3), NodeId(4)) && !net.link_up(NodeId(3), NodeId(5))
            {
                leader_cut += 1;
            }
        }
        assert!(leader_cut > 40, "leader isolated {leader_cut} times of 100");
    }

    #[test]
    fn asymmetric_partition_blocks_one_direction_only() {
        let mut net = Network::new(
            lossless(PartitionMode::UniformSize, PartitionSymmetry::Asymmetric),
            ids(3),
        );
        net.tick(&mut Rng::new(9), None);
        assert!(net.partitioned());
        for a in ids(3) {
            for b in ids(3) {
                assert!(
                    net.link_up(a, b) || net.link_up(b, a),
                    "{a}<->{b} fully cut"
                );
            }
        }
    }

    #[test]
    fn blocked_link_drops_and_open_link_delivers_once_without_faults() {
        let mut net = Network::new(
            lossless(PartitionMode::IsolateSingle, PartitionSymmetry::Symmetric),
            ids(2),
        );
        let mut rng = Rng::new(1);
        assert_eq!(net.send(&mut rng, NodeId(1), NodeId(2)).len(), 1);
        net.tick(&mut rng, None);
        assert!(net.send(&mut rng, NodeId(1), NodeId(2)).is_empty());
        net.heal_all();
        assert_eq!(net.send(&mut rng, NodeId(1), NodeId(2)).len(), 1);
    }

    #[test]
    fn total_loss_drops_everything_until_faults_are_turned_off() {
        let options = NetworkOptions {
            loss: 1.0,
            ..lossless(PartitionMode::None, PartitionSymmetry::Symmetric)
        };
        let mut net = Network::new(options, ids(2));
        let mut rng = Rng::new(1);
        assert!(net.send(&mut rng, NodeId(1), NodeId(2)).is_empty());
        net.heal_all();
        assert_eq!(net.send(&mut rng, NodeId(1), NodeId(2)).len(), 1);
    }
}
