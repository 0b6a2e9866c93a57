//! One read type over every table, so the node can carry any read through consistency modes and
//! forwarding without knowing which table it targets.

use serde::{Deserialize, Serialize};

use super::catalog::types::{CatalogQuery, CatalogQueryResult};
use super::kv_types::{KvQuery, KvQueryResult};
use super::view::StateView;
use super::watch::WatchTarget;

/// A read of the replicated state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Query {
    /// A KV read.
    Kv(KvQuery),
    /// A catalog or health read.
    Catalog(CatalogQuery),
}

/// What a [`Query`] found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum QueryResult {
    /// Result of a KV read.
    Kv(KvQueryResult),
    /// Result of a catalog read.
    Catalog(CatalogQueryResult),
}

impl Query {
    /// What a blocking query on this read parks on: the key, the prefix, or the catalog table,
    /// node or service it reads.
    pub fn watch_target(&self) -> WatchTarget {
        match self {
            Query::Kv(KvQuery::Get { key }) => WatchTarget::Key(key.clone()),
            Query::Kv(KvQuery::List { prefix } | KvQuery::Keys { prefix, .. }) => {
                WatchTarget::Prefix(prefix.clone())
            }
            Query::Catalog(query) => WatchTarget::Catalog(query.target()),
        }
    }
}

impl StateView {
    /// Answers any read with its blocking-query index (never 0).
    pub fn query(&self, query: &Query) -> (QueryResult, u64) {
        match query {
            Query::Kv(query) => {
                let (result, index) = self.query_kv(query);
                (QueryResult::Kv(result), index)
            }
            Query::Catalog(query) => {
                let (result, index) = self.query_catalog(query);
                (QueryResult::Catalog(result), index)
            }
        }
    }
}

impl From<KvQuery> for Query {
    fn from(query: KvQuery) -> Self {
        Query::Kv(query)
    }
}

impl From<CatalogQuery> for Query {
    fn from(query: CatalogQuery) -> Self {
        Query::Catalog(query)
    }
}
