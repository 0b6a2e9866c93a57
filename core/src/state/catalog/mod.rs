//! The catalog: nodes, the service instances on them and their health checks, with Consul's
//! register/deregister semantics and per-table and per-name indexes so that a blocking query on
//! one service (or node) wakes only when that service (or node) changes.

mod apply;
mod indexes;
mod lookup;
mod query;
pub mod types;

use imbl::{OrdMap, OrdSet};
use serde::{Deserialize, Serialize};

use crate::state::catalog::indexes::Indexes;
use crate::state::catalog::types::{Check, Indexed, Node, Service};
use crate::wire::DecodeError;

pub use crate::state::catalog::indexes::CatalogTarget;

/// `(node name, service instance ID)`: the service table's key.
pub type ServiceKey = (String, String);
/// `(node name, check ID)`: the check table's key.
pub type CheckKey = (String, String);

/// The catalog tables. Every write is applied at a Raft index above all earlier ones.
///
/// The tables are persistent ordered maps: a clone shares structure with the original, so
/// publishing the applied catalog to readers costs O(1) and each later write copies only the
/// path it touches.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Catalog {
    nodes: OrdMap<String, Indexed<Node>>,
    services: OrdMap<ServiceKey, Indexed<Service>>,
    checks: OrdMap<CheckKey, Indexed<Check>>,
    /// Service name → its instances (derived from `services`).
    instances: OrdMap<String, OrdSet<ServiceKey>>,
    /// `(node, service ID)` → IDs of the checks bound to that instance, `(node, "")` → the
    /// node's own checks (derived from `checks`), so reads never scan a node's other checks.
    checks_by_owner: OrdMap<ServiceKey, OrdSet<String>>,
    /// Case-insensitive and by-address lookups (derived from `nodes` and `services`).
    lookups: lookup::Lookups,
    indexes: Indexes,
}

/// The catalog as plain sorted lists: its snapshot section.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogSnapshot {
    /// Nodes by name.
    pub nodes: Vec<Indexed<Node>>,
    /// Services by (node, ID).
    pub services: Vec<(String, Indexed<Service>)>,
    /// Checks by (node, ID).
    pub checks: Vec<Indexed<Check>>,
    /// Every index the catalog reports, by target.
    pub indexes: Vec<(CatalogTarget, u64)>,
}

impl Catalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Catalog::default()
    }

    /// The index a blocking query on `target` reports (0 when nothing was ever written).
    pub fn target_index(&self, target: &CatalogTarget) -> u64 {
        self.indexes.get(target)
    }

    /// Every node, by name.
    pub fn nodes(&self) -> impl Iterator<Item = &Indexed<Node>> {
        self.nodes.values()
    }

    /// Every service instance with its node name, by (node, ID).
    pub fn services(&self) -> impl Iterator<Item = (&str, &Indexed<Service>)> {
        self.services
            .iter()
            .map(|((node, _), service)| (node.as_str(), service))
    }

    /// Every check, by (node, ID).
    pub fn checks(&self) -> impl Iterator<Item = &Indexed<Check>> {
        self.checks.values()
    }

    /// The tables as sorted lists, for a snapshot.
    pub fn to_snapshot(&self) -> CatalogSnapshot {
        CatalogSnapshot {
            nodes: self.nodes.values().cloned().collect(),
            services: self
                .services
                .iter()
                .map(|((node, _), s)| (node.clone(), s.clone()))
                .collect(),
            checks: self.checks.values().cloned().collect(),
            indexes: self.indexes.entries().collect(),
        }
    }

    /// Rebuilds the catalog from a snapshot section, refusing rows that contradict each other
    /// (a service or check on a missing node, a check on a missing service, duplicates, rows or
    /// indexes beyond `applied`).
    pub fn from_snapshot(snapshot: CatalogSnapshot, applied: u64) -> Result<Catalog, DecodeError> {
        let bad = |why: &str| Err(DecodeError::Malformed(format!("catalog snapshot: {why}")));
        let mut catalog = Catalog::new();
        let rows_ok = |create: u64, modify: u64| create <= modify && modify <= applied;
        for node in snapshot.nodes {
            if !rows_ok(node.create_index, node.modify_index) {
                return bad("node indexes out of range");
            }
            let name = node.item.node.clone();
            if catalog.nodes.contains_key(&name) {
                return bad("duplicate node");
            }
            catalog.lookups.link_node(&node.item);
            catalog.nodes.insert(name, node);
        }
        for (node, service) in snapshot.services {
            if !rows_ok(service.create_index, service.modify_index) {
                return bad("service indexes out of range");
            }
            if !catalog.nodes.contains_key(&node) {
                return bad("service on an unknown node");
            }
            let key = (node, service.item.id.clone());
            if catalog.services.contains_key(&key) {
                return bad("duplicate service");
            }
            catalog.link_instance(&key, &service.item);
            catalog.services.insert(key, service);
        }
        for check in snapshot.checks {
            if !rows_ok(check.create_index, check.modify_index) {
                return bad("check indexes out of range");
            }
            if !catalog.nodes.contains_key(&check.item.node) {
                return bad("check on an unknown node");
            }
            let service_id = &check.item.service_id;
            let service_key = (check.item.node.clone(), service_id.clone());
            if !service_id.is_empty() && !catalog.services.contains_key(&service_key) {
                return bad("check on an unknown service");
            }
            if !catalog.insert_check_row(check) {
                return bad("duplicate check");
            }
        }
        for (target, index) in snapshot.indexes {
            if index > applied || !catalog.indexes.restore(target, index) {
                return bad("bad or duplicate index");
            }
        }
        Ok(catalog)
    }
}

#[cfg(test)]
mod tests;
