//! Raft timings: Consul's defaults (at `raft_multiplier = 1`) or the much shorter `-dev` ones.

use synod_core::ids::NodeId;
use synod_core::node::NodeConfig;
use synod_core::raft::Config;
use synod_core::time::Duration;

/// Entries applied between snapshots (Consul's `raft_snapshot_threshold`).
const SNAPSHOT_THRESHOLD: u64 = 16_384;

/// Node settings for server `id`.
pub(crate) fn node_config(id: NodeId, dev: bool) -> NodeConfig {
    let mut raft = Config::new(id);
    if dev {
        // A lone dev server elects itself within one election timeout of starting.
        raft.heartbeat_interval = Duration::from_millis(20);
        raft.election_timeout = Duration::from_millis(60);
    }
    NodeConfig {
        raft,
        snapshot_threshold: SNAPSHOT_THRESHOLD,
    }
}
