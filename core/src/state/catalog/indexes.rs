//! The catalog's blocking-query indexes: one per table (Consul's "nodes", "services", "checks")
//! and one per node name and per service name, each the Raft index of the last write that
//! changed what a query on it returns.

use imbl::OrdMap;
use serde::{Deserialize, Serialize};

/// What a catalog blocking query watches.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CatalogTarget {
    /// The node table (`/v1/catalog/nodes`).
    Nodes,
    /// The service table (`/v1/catalog/services`).
    Services,
    /// The check table (`/v1/health/state/<state>`).
    Checks,
    /// One node: its record, services and checks (`/v1/catalog/node/<n>`, `/v1/health/node/<n>`).
    Node(String),
    /// One service name: its instances, their nodes, their checks and their nodes' checks
    /// (`/v1/catalog/service/<s>`, `/v1/health/service/<s>`, `/v1/health/checks/<s>`).
    Service(String),
}

impl CatalogTarget {
    /// The table whose index stands in for a name never written (so indexes never go backwards
    /// when the name first appears).
    fn table(&self) -> Option<CatalogTarget> {
        match self {
            CatalogTarget::Node(_) => Some(CatalogTarget::Nodes),
            CatalogTarget::Service(_) => Some(CatalogTarget::Services),
            _ => None,
        }
    }
}

/// Target → index of its last change. Per-name entries outlive the name (like KV tombstones),
/// so a deleted service keeps reporting its deletion index rather than the busier table's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Indexes {
    by_target: OrdMap<CatalogTarget, u64>,
}

impl Indexes {
    /// The index of `target`: its own, else its table's, else 0.
    pub(super) fn get(&self, target: &CatalogTarget) -> u64 {
        match self.by_target.get(target) {
            Some(index) => *index,
            None => target
                .table()
                .and_then(|table| self.by_target.get(&table).copied())
                .unwrap_or(0),
        }
    }

    pub(super) fn set(&mut self, target: CatalogTarget, index: u64) {
        self.by_target.insert(target, index);
    }

    pub(super) fn entries(&self) -> impl Iterator<Item = (CatalogTarget, u64)> + '_ {
        self.by_target.iter().map(|(t, i)| (t.clone(), *i))
    }

    /// Restores one entry; false when the target was already present.
    pub(super) fn restore(&mut self, target: CatalogTarget, index: u64) -> bool {
        self.by_target.insert(target, index).is_none()
    }
}
