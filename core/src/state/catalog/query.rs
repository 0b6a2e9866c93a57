//! Catalog reads, each answered with the index a blocking query on it reports (never 0).

use imbl::OrdMap;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use crate::state::catalog::types::{
    CatalogQuery, CatalogQueryResult, Check, CheckStateFilter, HealthStatus, Indexed, Node,
    NodeServices, Service, ServiceHealth, ServiceInstance,
};
use crate::state::catalog::{Catalog, CatalogTarget, CheckKey, ServiceKey};

impl CatalogQuery {
    /// The watch target whose index this query reports and whose changes can change its answer.
    pub fn target(&self) -> CatalogTarget {
        match self {
            CatalogQuery::Nodes { .. } => CatalogTarget::Nodes,
            CatalogQuery::Services { .. } => CatalogTarget::Services,
            CatalogQuery::ChecksInState { .. } => CatalogTarget::Checks,
            CatalogQuery::NodeServices { node } | CatalogQuery::NodeChecks { node } => {
                CatalogTarget::Node(node.clone())
            }
            CatalogQuery::ServiceNodes { service, .. }
            | CatalogQuery::ServiceChecks { service, .. }
            | CatalogQuery::ServiceHealth { service, .. } => {
                CatalogTarget::Service(service.clone())
            }
        }
    }
}

impl Catalog {
    /// Answers `query` with its blocking-query index (never 0).
    pub fn query(&self, query: &CatalogQuery) -> (CatalogQueryResult, u64) {
        let index = self.target_index(&query.target()).max(1);
        let result = match query {
            CatalogQuery::Nodes { node_meta } => CatalogQueryResult::Nodes(
                self.nodes
                    .values()
                    .filter(|n| meta_matches(&n.item, node_meta))
                    .cloned()
                    .collect(),
            ),
            CatalogQuery::Services { node_meta } => {
                CatalogQueryResult::Services(self.service_tags(node_meta))
            }
            CatalogQuery::ServiceNodes {
                service,
                tags,
                node_meta,
            } => CatalogQueryResult::ServiceNodes(
                self.instances_of(service, tags, node_meta)
                    .map(|(node, service)| ServiceInstance {
                        node: node.clone(),
                        service: service.clone(),
                    })
                    .collect(),
            ),
            CatalogQuery::NodeServices { node } => {
                CatalogQueryResult::NodeServices(self.nodes.get(node).map(|n| {
                    NodeServices {
                        node: n.clone(),
                        services: self
                            .node_service_keys(node)
                            .iter()
                            .filter_map(|k| self.services.get(k).cloned())
                            .collect(),
                    }
                }))
            }
            CatalogQuery::NodeChecks { node } => CatalogQueryResult::Checks(
                self.node_check_keys(node)
                    .iter()
                    .filter_map(|k| self.checks.get(k).cloned())
                    .collect(),
            ),
            CatalogQuery::ServiceChecks { service, node_meta } => {
                let mut checks: Vec<Indexed<Check>> = self
                    .instances_of(service, &[], node_meta)
                    .flat_map(|(node, instance)| {
                        self.own_checks(&node.item.node, &instance.item.id)
                    })
                    .collect();
                // Consul lists them in check-table order: node, then check ID.
                checks.sort_by(|a, b| {
                    (&a.item.node, &a.item.check_id).cmp(&(&b.item.node, &b.item.check_id))
                });
                CatalogQueryResult::Checks(checks)
            }
            CatalogQuery::ChecksInState { state, node_meta } => CatalogQueryResult::Checks(
                self.checks
                    .values()
                    .filter(|c| match state {
                        CheckStateFilter::Any => true,
                        CheckStateFilter::Only(status) => c.item.status == *status,
                    })
                    .filter(|c| {
                        node_meta.is_empty()
                            || self
                                .nodes
                                .get(&c.item.node)
                                .is_some_and(|n| meta_matches(&n.item, node_meta))
                    })
                    .cloned()
                    .collect(),
            ),
            CatalogQuery::ServiceHealth {
                service,
                tags,
                node_meta,
                passing_only,
            } => CatalogQueryResult::ServiceHealth(
                self.instances_of(service, tags, node_meta)
                    .map(|(node, instance)| ServiceHealth {
                        node: node.clone(),
                        service: instance.clone(),
                        checks: self.bearing_checks(&node.item.node, &instance.item.id),
                    })
                    .filter(|entry| {
                        !passing_only
                            || entry
                                .checks
                                .iter()
                                .all(|c| c.item.status == HealthStatus::Passing)
                    })
                    .collect(),
            ),
        };
        (result, index)
    }

    /// Instances of `name` carrying every tag in `tags` on nodes matching `node_meta`, by node
    /// name then instance ID.
    fn instances_of<'a>(
        &'a self,
        name: &str,
        tags: &'a [String],
        node_meta: &'a [(String, String)],
    ) -> impl Iterator<Item = (&'a Indexed<Node>, &'a Indexed<Service>)> + 'a {
        self.instances
            .get(name)
            .into_iter()
            .flatten()
            .filter_map(|key| Some((self.nodes.get(&key.0)?, self.services.get(key)?)))
            .filter(move |(node, service)| {
                meta_matches(&node.item, node_meta) && has_tags(&service.item, tags)
            })
    }

    /// Name → sorted unique tags of every service with an instance on a matching node.
    fn service_tags(&self, node_meta: &[(String, String)]) -> BTreeMap<String, Vec<String>> {
        let mut tags: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
        for ((node, _), service) in &self.services {
            let node_ok = node_meta.is_empty()
                || self
                    .nodes
                    .get(node)
                    .is_some_and(|n| meta_matches(&n.item, node_meta));
            if node_ok {
                tags.entry(service.item.service.clone())
                    .or_default()
                    .extend(service.item.tags.iter().map(String::as_str));
            }
        }
        tags.into_iter()
            .map(|(name, set)| (name, set.into_iter().map(str::to_owned).collect()))
            .collect()
    }

    /// Checks of one instance, by check ID.
    fn own_checks<'a>(
        &'a self,
        node: &'a str,
        service_id: &str,
    ) -> impl Iterator<Item = Indexed<Check>> + 'a {
        self.checks_by_owner
            .get(&(node.to_owned(), service_id.to_owned()))
            .into_iter()
            .flatten()
            .filter_map(move |id| self.checks.get(&(node.to_owned(), id.clone())).cloned())
    }

    /// Node checks plus the instance's own checks, in check-ID order.
    fn bearing_checks(&self, node: &str, service_id: &str) -> Vec<Indexed<Check>> {
        let mut checks: Vec<Indexed<Check>> = self.own_checks(node, "").collect();
        if !service_id.is_empty() {
            checks.extend(self.own_checks(node, service_id));
            checks.sort_by(|a, b| a.item.check_id.cmp(&b.item.check_id));
        }
        checks
    }

    pub(super) fn has_checks(&self, node: &str) -> bool {
        range_of_node(&self.checks, node).next().is_some()
    }

    pub(super) fn node_check_keys(&self, node: &str) -> Vec<CheckKey> {
        range_of_node(&self.checks, node)
            .map(|(k, _)| k.clone())
            .collect()
    }

    pub(super) fn node_service_keys(&self, node: &str) -> Vec<ServiceKey> {
        range_of_node(&self.services, node)
            .map(|(k, _)| k.clone())
            .collect()
    }
}

/// Rows keyed `(node, id)` belonging to `node`.
fn range_of_node<'a, V>(
    map: &'a OrdMap<(String, String), V>,
    node: &str,
) -> impl Iterator<Item = (&'a (String, String), &'a V)> + 'a {
    let start = (node.to_owned(), String::new());
    let node = node.to_owned();
    map.range((Bound::Included(start), Bound::Unbounded))
        .take_while(move |((n, _), _)| *n == node)
}

/// Consul's node-meta filter: every pair present with exactly that value.
fn meta_matches(node: &Node, filter: &[(String, String)]) -> bool {
    filter
        .iter()
        .all(|(k, v)| node.meta.get(k).is_some_and(|have| have == v))
}

/// Consul's tag filter: every wanted tag present, compared case-insensitively.
fn has_tags(service: &Service, wanted: &[String]) -> bool {
    wanted
        .iter()
        .all(|w| service.tags.iter().any(|t| t.eq_ignore_ascii_case(w)))
}
