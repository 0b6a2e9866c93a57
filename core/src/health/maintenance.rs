//! Maintenance mode, as Consul does it: a critical check that takes the node (or one service
//! instance) out of every healthy answer until it is removed.

use crate::state::catalog::types::{Check, HealthStatus};

/// Check ID of node maintenance.
pub const NODE_MAINTENANCE_CHECK_ID: &str = "_node_maintenance";
/// Prefix of a service's maintenance check ID (`_service_maintenance:<service id>`).
pub const SERVICE_MAINTENANCE_PREFIX: &str = "_service_maintenance:";
/// Notes when node maintenance is enabled without a reason.
pub const DEFAULT_NODE_MAINTENANCE_REASON: &str = "Maintenance mode is enabled for this node, but no reason was provided. This is a default message.";
/// Notes when service maintenance is enabled without a reason.
pub const DEFAULT_SERVICE_MAINTENANCE_REASON: &str = "Maintenance mode is enabled for this service, but no reason was provided. This is a default message.";

/// The check ID of `service_id`'s maintenance check.
pub fn service_maintenance_check_id(service_id: &str) -> String {
    format!("{SERVICE_MAINTENANCE_PREFIX}{service_id}")
}

/// The critical check that puts `node` in maintenance; an empty reason gets Consul's default.
pub fn node_maintenance_check(node: &str, reason: &str) -> Check {
    Check {
        node: node.to_owned(),
        check_id: NODE_MAINTENANCE_CHECK_ID.to_owned(),
        name: "Node Maintenance Mode".to_owned(),
        status: HealthStatus::Critical,
        notes: or_default(reason, DEFAULT_NODE_MAINTENANCE_REASON),
        check_type: "maintenance".to_owned(),
        ..Check::default()
    }
}

/// The critical check that puts one service instance in maintenance.
pub fn service_maintenance_check(node: &str, service_id: &str, reason: &str) -> Check {
    Check {
        node: node.to_owned(),
        check_id: service_maintenance_check_id(service_id),
        name: "Service Maintenance Mode".to_owned(),
        status: HealthStatus::Critical,
        notes: or_default(reason, DEFAULT_SERVICE_MAINTENANCE_REASON),
        service_id: service_id.to_owned(),
        check_type: "maintenance".to_owned(),
        ..Check::default()
    }
}

fn or_default(reason: &str, default: &str) -> String {
    if reason.is_empty() { default } else { reason }.to_owned()
}
