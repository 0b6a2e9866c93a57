//! The catalog writes that carry the agent's pending changes: one deregistration per removed
//! service or check, one registration per changed service (with all its checks), and one
//! registration for every other changed check.

use crate::agent::entries::Sync;
use crate::agent::local_state::LocalState;
use crate::state::catalog::types::{CatalogCommand, Check, Deregistration, Registration};

impl LocalState {
    /// The writes that bring the catalog up to date with every pending change (urgent or
    /// deferred), marking them all in sync. A write that fails is repaired by the next full
    /// sync.
    pub fn take_changes(&mut self) -> Vec<CatalogCommand> {
        let node_name = self.node.node.clone();
        let mut commands = Vec::new();
        for service_id in std::mem::take(&mut self.removed_services) {
            commands.push(CatalogCommand::Deregister(Deregistration {
                node: node_name.clone(),
                service_id: Some(service_id),
                check_id: None,
            }));
        }
        for check_id in std::mem::take(&mut self.removed_checks) {
            commands.push(CatalogCommand::Deregister(Deregistration {
                node: node_name.clone(),
                service_id: None,
                check_id: Some(check_id),
            }));
        }
        let mut node_pending = self.node_sync != Sync::Clean;
        let dirty_services: Vec<String> = self
            .services
            .iter()
            .filter(|(_, s)| s.sync != Sync::Clean)
            .map(|(id, _)| id.clone())
            .collect();
        for service_id in dirty_services {
            let checks: Vec<String> = self
                .checks
                .iter()
                .filter(|(_, c)| c.service_id() == service_id)
                .map(|(id, _)| id.clone())
                .collect();
            let rows = self.take_rows(&checks);
            let Some(service) = self.services.get_mut(&service_id) else {
                continue;
            };
            service.sync = Sync::Clean;
            let service = service.def.catalog_service();
            commands.push(self.registration(Some(service), rows, node_pending));
            node_pending = false;
        }
        let pending: Vec<String> = self
            .checks
            .iter()
            .filter(|(_, c)| c.sync != Sync::Clean)
            .map(|(id, _)| id.clone())
            .collect();
        if !pending.is_empty() || node_pending {
            let rows = self.take_rows(&pending);
            commands.push(self.registration(None, rows, node_pending));
        }
        self.node_sync = Sync::Clean;
        self.urgent = false;
        commands
    }

    /// The catalog rows of `ids`, marking them in sync.
    fn take_rows(&mut self, ids: &[String]) -> Vec<Check> {
        let node = self.node.node.clone();
        ids.iter()
            .filter_map(|id| {
                let status = self.scheduler.status(id);
                let entry = self.checks.get_mut(id)?;
                entry.sync = Sync::Clean;
                Some(entry.row(&node, status))
            })
            .collect()
    }

    fn registration(
        &self,
        service: Option<crate::state::catalog::types::Service>,
        checks: Vec<Check>,
        with_node: bool,
    ) -> CatalogCommand {
        CatalogCommand::Register(Box::new(Registration {
            node: self.node.clone(),
            skip_node_update: !with_node,
            service,
            checks,
        }))
    }
}
