//! The replicated tables as of one applied index: what every read answers from.

use crate::state::catalog::Catalog;
use crate::state::catalog::types::{CatalogQuery, CatalogQueryResult};
use crate::state::kv::KvStore;
use crate::state::kv_types::{KvQuery, KvQueryResult};

/// The applied tables without the local watch registry. Its tables are persistent maps, so a
/// clone costs O(1): the shell publishes one after every applied batch for reads that need no
/// consensus (stale reads, DNS), and later writes copy only the paths they touch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StateView {
    pub(super) index: u64,
    pub(super) kv: KvStore,
    pub(super) catalog: Catalog,
}

impl StateView {
    /// Last applied Raft index.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// The KV table.
    pub fn kv(&self) -> &KvStore {
        &self.kv
    }

    /// The catalog tables.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Answers a KV read with its blocking-query index (never 0).
    pub fn query_kv(&self, query: &KvQuery) -> (KvQueryResult, u64) {
        self.kv.query(query)
    }

    /// Answers a catalog read with its blocking-query index (never 0).
    pub fn query_catalog(&self, query: &CatalogQuery) -> (CatalogQueryResult, u64) {
        self.catalog.query(query)
    }
}
