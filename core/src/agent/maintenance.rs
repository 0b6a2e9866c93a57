//! Node and service maintenance: a critical check the agent owns until maintenance ends.

use crate::agent::local_state::{LocalError, LocalState};
use crate::health::maintenance::{
    NODE_MAINTENANCE_CHECK_ID, node_maintenance_check, service_maintenance_check,
    service_maintenance_check_id,
};

impl LocalState {
    /// Node maintenance on (with `reason`) or off.
    pub fn set_node_maintenance(&mut self, enable: bool, reason: &str) {
        let id = NODE_MAINTENANCE_CHECK_ID;
        if enable {
            if !self.checks.contains_key(id) {
                let row = node_maintenance_check(&self.node.node, reason);
                self.put_fixed(row);
            }
        } else if self.checks.contains_key(id) {
            self.drop_check(id);
        }
    }

    /// Maintenance of one service instance on (with `reason`) or off.
    pub fn set_service_maintenance(
        &mut self,
        service_id: &str,
        enable: bool,
        reason: &str,
    ) -> Result<(), LocalError> {
        if !self.services.contains_key(service_id) {
            return Err(LocalError::NoServiceForMaintenance(service_id.to_owned()));
        }
        let id = service_maintenance_check_id(service_id);
        if enable {
            if !self.checks.contains_key(&id) {
                let row = service_maintenance_check(&self.node.node, service_id, reason);
                self.put_fixed(row);
            }
        } else if self.checks.contains_key(&id) {
            self.drop_check(&id);
        }
        Ok(())
    }
}
