//! Raft timings: Consul's, scaled by `raft_multiplier`, or the much shorter `-dev` ones.

use synod_core::ids::NodeId;
use synod_core::node::NodeConfig;
use synod_core::raft::Config;
use synod_core::time::Duration;

/// Entries applied between snapshots (Consul's `raft_snapshot_threshold`).
const SNAPSHOT_THRESHOLD: u64 = 16_384;
/// How often a server considers a snapshot (Consul's `raft_snapshot_interval`).
const SNAPSHOT_INTERVAL: Duration = Duration::from_secs(30);

/// Share of the election timeout drawn at random on top of it: each follower waits
/// `[t, 1.5 t)` after last hearing from the leader. With `[t, 2t)` (etcd, hashicorp/raft) the
/// first of two followers times out after ~1.29 t on median; with this ~1.15 t, which keeps
/// failover under 1.2 s at t = 1 s while a split vote still needs two timeouts within a
/// round trip of each other.
const ELECTION_JITTER_SHARE: u32 = 2;

/// Node settings for server `id`: Consul's timing (100 ms heartbeat, 1 s election timeout)
/// scaled by `raft_multiplier`, or the `-dev` timings.
pub(crate) fn node_config(id: NodeId, dev: bool, raft_multiplier: u32) -> NodeConfig {
    let mut raft = Config::new(id);
    raft.heartbeat_interval *= raft_multiplier;
    raft.election_timeout *= raft_multiplier;
    raft.election_jitter = Some(raft.election_timeout / ELECTION_JITTER_SHARE);
    if dev {
        // A lone dev server elects itself within one election timeout of starting.
        raft.heartbeat_interval = Duration::from_millis(20);
        raft.election_timeout = Duration::from_millis(60);
        raft.election_jitter = Some(raft.election_timeout / ELECTION_JITTER_SHARE);
    }
    NodeConfig {
        raft,
        snapshot_threshold: SNAPSHOT_THRESHOLD,
        snapshot_interval: SNAPSHOT_INTERVAL,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raft_multiplier_scales_heartbeat_and_election_timeout() {
        let one = node_config(NodeId(1), false, 1);
        assert_eq!(one.raft.heartbeat_interval, Duration::from_millis(100));
        assert_eq!(one.raft.election_timeout, Duration::from_secs(1));
        assert_eq!(one.raft.election_jitter, Some(Duration::from_millis(500)));
        let five = node_config(NodeId(1), false, 5);
        assert_eq!(five.raft.heartbeat_interval, Duration::from_millis(500));
        assert_eq!(five.raft.election_timeout, Duration::from_secs(5));
        assert_eq!(five.raft.election_jitter, Some(Duration::from_millis(2500)));
    }
}
