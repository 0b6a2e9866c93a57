//! Everything a run varies, derived from its seed (swarm testing: each seed turns a different mix
//! of faults up or down, after TigerBeetle's `options_swarm`).

use synod_core::rand::Rng;
use synod_core::time::Duration;

/// How the network splits when it partitions.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum PartitionMode {
    /// Never partitions.
    None,
    /// A random subset of nodes is split from the rest.
    UniformSize,
    /// One node is cut off from everyone.
    IsolateSingle,
}

/// Whether a partition blocks both directions.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum PartitionSymmetry {
    /// Neither side hears the other.
    Symmetric,
    /// One side's messages to the other are lost; the reverse direction works.
    Asymmetric,
}

/// Network faults.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkOptions {
    /// Minimum one-way delay.
    pub latency_min: Duration,
    /// Mean of the exponential delay added to the minimum.
    pub latency_mean: Duration,
    /// Probability a message is lost.
    pub loss: f64,
    /// Probability a message is delivered twice.
    pub duplicate: f64,
    /// Probability a message is held back by up to `reorder_delay`, landing after later ones.
    pub reorder: f64,
    /// Longest hold-back of a reordered message.
    pub reorder_delay: Duration,
    /// How partitions split the cluster.
    pub partition_mode: PartitionMode,
    /// Whether partitions are one-way.
    pub partition_symmetry: PartitionSymmetry,
    /// Per fault tick, probability a partition starts (when none is in place).
    pub partition_probability: f64,
    /// Per fault tick, probability the partition heals.
    pub heal_probability: f64,
}

/// Disk behaviour.
#[derive(Clone, Debug, PartialEq)]
pub struct DiskOptions {
    /// Fastest write.
    pub latency_min: Duration,
    /// Slowest write.
    pub latency_max: Duration,
    /// On a crash, probability the write in progress is torn (a prefix of its entries kept).
    pub torn_write: f64,
}

/// Crash and restart behaviour.
#[derive(Clone, Debug, PartialEq)]
pub struct CrashOptions {
    /// Per fault tick, probability one running node crashes.
    pub crash_probability: f64,
    /// Shortest downtime.
    pub downtime_min: Duration,
    /// Longest downtime.
    pub downtime_max: Duration,
    /// Probability a node crashes right after a vote of its becomes durable, back within
    /// milliseconds: the window in which a forgotten vote would elect two leaders.
    pub crash_after_vote: f64,
}

/// Raft and node knobs varied per seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeOptions {
    /// AppendEntries in flight per follower.
    pub max_inflight: usize,
    /// Entries per AppendEntries.
    pub max_append_entries: usize,
    /// Bytes per InstallSnapshot chunk.
    pub snapshot_chunk_bytes: usize,
    /// Applied entries between snapshots.
    pub snapshot_threshold: u64,
    /// Base election timeout (short ones make elections, and their races, frequent).
    pub election_timeout: Duration,
    /// Leader heartbeat period.
    pub heartbeat_interval: Duration,
}

/// Client workload.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkloadOptions {
    /// Concurrent clients.
    pub clients: usize,
    /// Keys they share.
    pub keys: usize,
    /// Longest pause between a client's operations.
    pub think_max: Duration,
    /// A request unanswered for this long has an unknown outcome.
    pub request_timeout: Duration,
    /// Probability an operation is a read.
    pub read_ratio: f64,
    /// Probability a write is a CAS.
    pub cas_ratio: f64,
}

/// All options of one run.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// The seed everything derives from.
    pub seed: u64,
    /// Cluster size.
    pub nodes: usize,
    /// Network faults.
    pub network: NetworkOptions,
    /// Disk behaviour.
    pub disk: DiskOptions,
    /// Crashes.
    pub crash: CrashOptions,
    /// Per-node knobs.
    pub node: NodeOptions,
    /// Clients.
    pub workload: WorkloadOptions,
    /// Largest clock rate error, ppm (each node draws its own within ±this).
    pub clock_drift_ppm: i64,
    /// Largest clock offset.
    pub clock_offset: Duration,
    /// Period of the fault ticks (partition, heal and crash decisions).
    pub fault_tick: Duration,
    /// Simulated length of the safety phase.
    pub safety_duration: Duration,
    /// Time the cluster has, after healing, to elect, converge and serve every client.
    pub liveness_bound: Duration,
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Often off entirely, otherwise uniform below `max`: swarm testing wants some seeds free of each
/// fault so the others stand out.
fn maybe(rng: &mut Rng, max: f64) -> f64 {
    if rng.chance(0.3) {
        0.0
    } else {
        rng.unit() * max
    }
}

impl Options {
    /// The options of `seed`.
    pub fn from_seed(seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let nodes = rng.range(3, 8) as usize;
        let latency_min = ms(rng.range(1, 20));
        let network = NetworkOptions {
            latency_min,
            latency_mean: ms(rng.range(1, 50)),
            loss: maybe(&mut rng, 0.2),
            duplicate: maybe(&mut rng, 0.1),
            reorder: maybe(&mut rng, 0.2),
            reorder_delay: ms(rng.range(10, 500)),
            partition_mode: match rng.below(3) {
                0 => PartitionMode::None,
                1 => PartitionMode::UniformSize,
                _ => PartitionMode::IsolateSingle,
            },
            partition_symmetry: if rng.chance(0.5) {
                PartitionSymmetry::Symmetric
            } else {
                PartitionSymmetry::Asymmetric
            },
            partition_probability: rng.unit() * 0.1,
            heal_probability: 0.02 + rng.unit() * 0.2,
        };
        let disk_min = rng.range(50, 2_000);
        let disk = DiskOptions {
            latency_min: Duration::from_micros(disk_min),
            latency_max: Duration::from_micros(disk_min + rng.range(1, 20_000)),
            torn_write: rng.unit(),
        };
        // Some seeds restart within milliseconds: inside the election that the crash caused.
        let downtime_min = Duration::from_micros(rng.range(100, 500_000));
        let crash = CrashOptions {
            crash_probability: maybe(&mut rng, 0.05),
            downtime_min,
            downtime_max: downtime_min + ms(rng.range(1, 5_000)),
            crash_after_vote: 0.0,
        };
        let election_timeout = ms([150, 300, 1_000][rng.below(3) as usize]);
        let node = NodeOptions {
            max_inflight: rng.range(1, 9) as usize,
            max_append_entries: [1, 4, 64, 512][rng.below(4) as usize],
            snapshot_chunk_bytes: [64, 1 << 10, 256 << 10][rng.below(3) as usize],
            snapshot_threshold: [8, 32, 200, 10_000][rng.below(4) as usize],
            election_timeout,
            heartbeat_interval: election_timeout / rng.range(3, 11) as u32,
        };
        let workload = WorkloadOptions {
            clients: rng.range(1, 6) as usize,
            keys: rng.range(1, 5) as usize,
            think_max: ms(rng.range(1, 300)),
            request_timeout: ms(rng.range(500, 5_000)),
            read_ratio: 0.2 + rng.unit() * 0.5,
            cas_ratio: rng.unit() * 0.8,
        };
        // Drawn last so adding it left every earlier option of every seed unchanged.
        let crash = CrashOptions {
            crash_after_vote: maybe(&mut rng, 0.5),
            ..crash
        };
        Options {
            seed,
            nodes,
            network,
            disk,
            crash,
            node,
            workload,
            clock_drift_ppm: rng.range(0, 1_001) as i64,
            clock_offset: ms(rng.range(0, 100_000)),
            fault_tick: ms(100),
            safety_duration: Duration::from_secs(rng.range(5, 30)),
            liveness_bound: Duration::from_secs(60),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_gives_same_options_and_seeds_differ() {
        assert_eq!(Options::from_seed(42), Options::from_seed(42));
        assert_ne!(Options::from_seed(42), Options::from_seed(43));
    }

    #[test]
    fn cluster_size_stays_between_three_and_seven() {
        for seed in 0..200 {
            let n = Options::from_seed(seed).nodes;
            assert!((3..=7).contains(&n), "seed {seed}: {n} nodes");
        }
    }
}
