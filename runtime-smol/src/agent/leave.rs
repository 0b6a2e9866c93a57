//! A server's graceful leave, as Consul does it: a leader with other voters first takes itself
//! out of the Raft configuration (so the rest keep a quorum of a smaller cluster), then the
//! agent announces its leave on gossip. Other servers' leaders remove them on seeing `left`.

use std::time::Duration;

use futures_lite::future;
use smol::Timer;
use synod_core::ids::LogIndex;
use synod_core::raft::Role;

use crate::serf::{SerfError, SerfHandle};
use crate::shell::NodeHandle;
use crate::shell::log::Log;

/// How long a leaving leader waits for its own removal to commit (Consul's leave drain time).
const REMOVAL_DRAIN: Duration = Duration::from_secs(5);

/// Leaves Raft (when leading others) and then the LAN pool.
pub(crate) async fn graceful_leave(node: &NodeHandle, serf: &SerfHandle) -> Result<(), SerfError> {
    let status = node.status();
    let other_voters = status.membership.voter_ids().any(|id| id != status.id);
    if status.role == Role::Leader
        && other_voters
        && let Ok(index) = node.remove_server(status.id).await
    {
        // Best effort: without a commit in time the others remove us once they see `left`.
        let committed = node.applied_past(LogIndex(index.0.saturating_sub(1)));
        future::or(committed, async {
            Timer::after(REMOVAL_DRAIN).await;
        })
        .await;
    }
    serf.leave().await
}

/// Leaves the WAN pool (before the LAN one, as Consul's servers do); a failure is only logged
/// since the other datacenters then see this server fail instead.
pub(crate) async fn leave_wan(wan: &SerfHandle, log: &Log) {
    if let Err(e) = wan.leave().await {
        log.warn("agent", format_args!("leaving the WAN pool failed: {e}"));
    }
}
