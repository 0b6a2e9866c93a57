//! The `serfHealth` node check, driven by gossip failure detection rather than a probe.

use crate::state::catalog::types::{Check, HealthStatus};

/// Check ID of the gossip health check every node carries.
pub const SERF_CHECK_ID: &str = "serfHealth";
/// Its display name.
pub const SERF_CHECK_NAME: &str = "Serf Health Status";
/// Output while the member is alive.
pub const SERF_ALIVE_OUTPUT: &str = "Agent alive and reachable";
/// Output once the member has failed.
pub const SERF_FAILED_OUTPUT: &str = "Agent not live or unreachable";

/// `node`'s `serfHealth` check: passing while gossip sees it alive, critical once failed.
pub fn serf_health_check(node: &str, alive: bool) -> Check {
    let (status, output) = if alive {
        (HealthStatus::Passing, SERF_ALIVE_OUTPUT)
    } else {
        (HealthStatus::Critical, SERF_FAILED_OUTPUT)
    };
    Check {
        node: node.to_owned(),
        check_id: SERF_CHECK_ID.to_owned(),
        name: SERF_CHECK_NAME.to_owned(),
        status,
        output: output.to_owned(),
        ..Check::default()
    }
}
