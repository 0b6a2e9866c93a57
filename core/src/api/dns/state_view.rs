//! [`CatalogView`] over the replicated catalog, so DNS answers from a published state view.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::view::{CatalogView, Health, InstanceView, NodeView, Weights};
use crate::state::catalog::types::{HealthStatus, Indexed, Node, Service};
use crate::state::catalog::{Catalog, CatalogTarget};

/// The service every server registers; its nodes are the NS answers.
const SERVER_SERVICE: &str = "consul";

/// The agent answering, named in NS answers while no server has registered [`SERVER_SERVICE`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalNode<'a> {
    /// Its node name.
    pub name: &'a str,
    /// Its advertised address.
    pub addr: IpAddr,
}

/// One datacenter's catalog as DNS sees it.
#[derive(Clone, Debug)]
pub struct StateView<'a> {
    catalog: &'a Catalog,
    datacenter: &'a str,
    local: LocalNode<'a>,
    /// Metadata of the local node when it is not in the catalog (none).
    no_meta: BTreeMap<String, String>,
}

impl<'a> StateView<'a> {
    /// A view of `catalog` for datacenter `datacenter`, answered by `local`.
    pub fn new(catalog: &'a Catalog, datacenter: &'a str, local: LocalNode<'a>) -> Self {
        StateView {
            catalog,
            datacenter,
            local,
            no_meta: BTreeMap::new(),
        }
    }
}

impl CatalogView for StateView<'_> {
    fn datacenter(&self) -> &str {
        self.datacenter
    }

    fn soa_serial(&self) -> u32 {
        let index = [
            CatalogTarget::Nodes,
            CatalogTarget::Services,
            CatalogTarget::Checks,
        ]
        .iter()
        .map(|t| self.catalog.target_index(t))
        .max()
        .unwrap_or(0);
        // SOA serials compare modulo 2^32 (RFC 1982), so wrapping keeps them moving forward.
        (index & u64::from(u32::MAX)) as u32
    }

    fn node(&self, name: &str) -> Option<NodeView<'_>> {
        node_view(self.catalog.node_ignoring_case(name)?)
    }

    fn node_by_addr(&self, addr: IpAddr) -> Option<NodeView<'_>> {
        self.catalog.nodes_at(addr).find_map(node_view)
    }

    fn service_by_addr(&self, addr: IpAddr) -> Option<&str> {
        let service = self.catalog.services_at(addr).next()?;
        Some(&service.item.service)
    }

    fn service_instances(&self, service: &str, tag: Option<&str>) -> Vec<InstanceView<'_>> {
        self.catalog
            .instances_ignoring_case(service)
            .filter(|(_, s)| tag.is_none_or(|t| has_tag(&s.item, t)))
            .filter_map(|(node, s)| self.instance_view(node, s))
            .collect()
    }

    fn servers(&self) -> Vec<NodeView<'_>> {
        let mut servers: Vec<NodeView<'_>> = Vec::new();
        for (node, _) in self.catalog.instances_ignoring_case(SERVER_SERVICE) {
            if let Some(view) = node_view(node)
                && !servers.iter().any(|s| s.name == view.name)
            {
                servers.push(view);
            }
        }
        if servers.is_empty() {
            let local = match self.catalog.node_ignoring_case(self.local.name) {
                Some(node) => node_view(node),
                None => None,
            };
            servers.push(local.unwrap_or(NodeView {
                name: self.local.name,
                addr: self.local.addr,
                meta: &self.no_meta,
            }));
        }
        servers
    }
}

impl StateView<'_> {
    fn instance_view<'v>(
        &'v self,
        node: &'v Indexed<Node>,
        service: &'v Indexed<Service>,
    ) -> Option<InstanceView<'v>> {
        let node_view = node_view(node)?;
        let service = &service.item;
        let worst = self
            .catalog
            .checks_bearing_on(&node.item.node, &service.id)
            .map(|c| health_of(c.item.status))
            .max()
            .unwrap_or(Health::Passing);
        Some(InstanceView {
            node: node_view,
            // A service address that is not an IP (a host name) cannot be an A record: the
            // node's address stands in, as it does for an empty one.
            service_addr: service.address.parse().ok(),
            port: service.port,
            weights: Weights {
                passing: saturate(service.weights.passing),
                warning: saturate(service.weights.warning),
            },
            health: worst,
        })
    }
}

/// A node DNS can answer for: one whose address is an IP.
fn node_view(node: &Indexed<Node>) -> Option<NodeView<'_>> {
    Some(NodeView {
        name: &node.item.node,
        addr: node.item.address.parse().ok()?,
        meta: &node.item.meta,
    })
}

fn health_of(status: HealthStatus) -> Health {
    match status {
        HealthStatus::Passing => Health::Passing,
        HealthStatus::Warning => Health::Warning,
        HealthStatus::Critical | HealthStatus::Maintenance => Health::Critical,
    }
}

fn has_tag(service: &Service, tag: &str) -> bool {
    service.tags.iter().any(|t| t.eq_ignore_ascii_case(tag))
}

fn saturate(weight: u32) -> u16 {
    u16::try_from(weight).unwrap_or(u16::MAX)
}
