//! Point lookups for the DNS interface: nodes and services by name ignoring case (DNS names are
//! case-insensitive, the tables are keyed as registered), nodes and services by address (reverse
//! lookups), and the checks bearing on one instance, each without scanning a table.

use imbl::{OrdMap, OrdSet};
use std::borrow::Cow;
use std::net::IpAddr;

use crate::state::catalog::types::{Check, Indexed, Node, Service};
use crate::state::catalog::{Catalog, ServiceKey};

/// Indexes derived from the node and service tables (never part of snapshots).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Lookups {
    /// Lower-cased node name → node names as registered.
    nodes_by_folded_name: OrdMap<String, OrdSet<String>>,
    /// Node address (when it is an IP) → node names.
    nodes_by_addr: OrdMap<IpAddr, OrdSet<String>>,
    /// Lower-cased service name → service names as registered.
    services_by_folded_name: OrdMap<String, OrdSet<String>>,
    /// A service's own address (when it is an IP) → its instances.
    services_by_addr: OrdMap<IpAddr, OrdSet<ServiceKey>>,
}

impl Lookups {
    pub(super) fn link_node(&mut self, node: &Node) {
        link(
            &mut self.nodes_by_folded_name,
            node.node.to_lowercase(),
            node.node.clone(),
        );
        if let Ok(addr) = node.address.parse::<IpAddr>() {
            link(&mut self.nodes_by_addr, addr, node.node.clone());
        }
    }

    pub(super) fn unlink_node(&mut self, node: &Node) {
        unlink(
            &mut self.nodes_by_folded_name,
            &node.node.to_lowercase(),
            &node.node,
        );
        if let Ok(addr) = node.address.parse::<IpAddr>() {
            unlink(&mut self.nodes_by_addr, &addr, &node.node);
        }
    }

    /// Records instance `key` of `service`.
    pub(super) fn link_service(&mut self, key: &ServiceKey, service: &Service) {
        link(
            &mut self.services_by_folded_name,
            service.service.to_lowercase(),
            service.service.clone(),
        );
        if let Ok(addr) = service.address.parse::<IpAddr>() {
            link(&mut self.services_by_addr, addr, key.clone());
        }
    }

    /// Forgets instance `key`; `last` is true when no other instance has its name any more.
    pub(super) fn unlink_service(&mut self, key: &ServiceKey, service: &Service, last: bool) {
        if last {
            unlink(
                &mut self.services_by_folded_name,
                &service.service.to_lowercase(),
                &service.service,
            );
        }
        if let Ok(addr) = service.address.parse::<IpAddr>() {
            unlink(&mut self.services_by_addr, &addr, key);
        }
    }
}

/// `name` lower-cased, borrowed when it is lower-case ASCII already (DNS asks in lower case).
fn fold(name: &str) -> Cow<'_, str> {
    if name
        .bytes()
        .all(|b| b.is_ascii() && !b.is_ascii_uppercase())
    {
        Cow::Borrowed(name)
    } else {
        Cow::Owned(name.to_lowercase())
    }
}

fn link<K: Ord + Clone, V: Ord + Clone>(map: &mut OrdMap<K, OrdSet<V>>, key: K, value: V) {
    map.entry(key).or_default().insert(value);
}

fn unlink<K: Ord + Clone, V: Ord + Clone>(map: &mut OrdMap<K, OrdSet<V>>, key: &K, value: &V) {
    if let Some(values) = map.get_mut(key) {
        values.remove(value);
        if values.is_empty() {
            map.remove(key);
        }
    }
}

impl Catalog {
    /// The node called `name`, matched exactly first, else ignoring ASCII and Unicode case
    /// (the first such node by name when several differ only in case).
    pub fn node_ignoring_case(&self, name: &str) -> Option<&Indexed<Node>> {
        if let Some(node) = self.nodes.get(name) {
            return Some(node);
        }
        let names = self.lookups.nodes_by_folded_name.get(fold(name).as_ref())?;
        names.iter().find_map(|n| self.nodes.get(n))
    }

    /// Nodes whose address is `addr`, by name.
    pub fn nodes_at(&self, addr: IpAddr) -> impl Iterator<Item = &Indexed<Node>> + '_ {
        self.lookups
            .nodes_by_addr
            .get(&addr)
            .into_iter()
            .flatten()
            .filter_map(|name| self.nodes.get(name))
    }

    /// Service instances registered with their own address `addr`, by (node, ID).
    pub fn services_at(&self, addr: IpAddr) -> impl Iterator<Item = &Indexed<Service>> + '_ {
        self.lookups
            .services_by_addr
            .get(&addr)
            .into_iter()
            .flatten()
            .filter_map(|key| self.services.get(key))
    }

    /// Every instance of the service called `name` ignoring case, with its node: the instances
    /// of each name that matches, each by node name then instance ID.
    pub fn instances_ignoring_case<'a>(
        &'a self,
        name: &str,
    ) -> impl Iterator<Item = (&'a Indexed<Node>, &'a Indexed<Service>)> + 'a {
        let names = self
            .lookups
            .services_by_folded_name
            .get(fold(name).as_ref());
        names
            .into_iter()
            .flatten()
            .filter_map(|n| self.instances.get(n))
            .flatten()
            .filter_map(|key| Some((self.nodes.get(&key.0)?, self.services.get(key)?)))
    }

    /// The checks bearing on one instance: the node's own checks and, unless `service_id` is
    /// empty, the instance's.
    pub fn checks_bearing_on<'a>(
        &'a self,
        node: &'a str,
        service_id: &str,
    ) -> impl Iterator<Item = &'a Indexed<Check>> + 'a {
        let node_key: ServiceKey = (node.to_owned(), String::new());
        let own_key: Option<ServiceKey> =
            (!service_id.is_empty()).then(|| (node.to_owned(), service_id.to_owned()));
        let node_checks = self.checks_by_owner.get(&node_key);
        let own_checks = own_key.and_then(|k| self.checks_by_owner.get(&k));
        node_checks
            .into_iter()
            .chain(own_checks)
            .flatten()
            .filter_map(move |id| self.checks.get(&(node.to_owned(), id.clone())))
    }
}
