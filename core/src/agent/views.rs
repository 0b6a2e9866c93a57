//! What the agent reports about its services and checks (`/v1/agent/services`, `checks`,
//! `health/service/*`): current status and output, service name and tags filled in.

use crate::agent::entries::{AgentCheck, AgentService, CheckBody};
use crate::agent::local_state::LocalState;

impl LocalState {
    /// Every local service, by ID.
    pub fn services(&self) -> impl Iterator<Item = &AgentService> {
        self.services.values()
    }

    /// One local service.
    pub fn service(&self, service_id: &str) -> Option<&AgentService> {
        self.services.get(service_id)
    }

    /// Every local check as the agent reports it, by ID.
    pub fn checks(&self) -> Vec<AgentCheck> {
        self.checks.keys().filter_map(|id| self.check(id)).collect()
    }

    /// One local check as the agent reports it.
    pub fn check(&self, check_id: &str) -> Option<AgentCheck> {
        let entry = self.checks.get(check_id)?;
        let mut row = entry.row(&self.node.node, self.scheduler.status(check_id));
        if let Some(service) = self.services.get(&row.service_id) {
            row.service_name = service.def.name.clone();
            row.service_tags = service.def.tags.clone();
        }
        let def = match &entry.body {
            CheckBody::Probe(def) => Some(def.clone()),
            CheckBody::Fixed(_) => None,
        };
        Some(AgentCheck {
            row,
            def,
            source: entry.source,
        })
    }

    /// The checks that bear on `service_id` (node checks and its own), by ID.
    pub fn service_checks(&self, service_id: &str) -> Vec<AgentCheck> {
        self.checks
            .iter()
            .filter(|(_, c)| c.service_id().is_empty() || c.service_id() == service_id)
            .filter_map(|(id, _)| self.check(id))
            .collect()
    }
}
