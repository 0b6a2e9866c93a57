//! An in-memory [`CatalogView`], for tests and fuzzing (the runtime adapts the real catalog).

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::view::{CatalogView, Health, InstanceView, NodeView, Weights};

/// A registered node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryNode {
    /// Node name.
    pub name: String,
    /// Node address.
    pub addr: IpAddr,
    /// Node metadata.
    pub meta: BTreeMap<String, String>,
    /// True for server nodes (listed in NS answers).
    pub server: bool,
}

/// A registered service instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryInstance {
    /// Service name.
    pub service: String,
    /// Name of the node it runs on (must be registered).
    pub node: String,
    /// The service's own address, if any.
    pub addr: Option<IpAddr>,
    /// Port.
    pub port: u16,
    /// Tags.
    pub tags: Vec<String>,
    /// SRV weights.
    pub weights: Weights,
    /// Aggregate health.
    pub health: Health,
}

/// A whole catalog held in memory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryCatalog {
    /// Datacenter name.
    pub datacenter: String,
    /// SOA serial.
    pub serial: u32,
    /// Nodes, keyed by lower-cased name.
    pub nodes: BTreeMap<String, MemoryNode>,
    /// Service instances, in registration order.
    pub instances: Vec<MemoryInstance>,
}

impl MemoryCatalog {
    /// An empty catalog for datacenter `dc`.
    pub fn new(dc: &str) -> Self {
        MemoryCatalog {
            datacenter: dc.into(),
            serial: 1,
            ..MemoryCatalog::default()
        }
    }

    /// Registers (or replaces) a node.
    pub fn add_node(&mut self, name: &str, addr: IpAddr, meta: &[(&str, &str)]) -> &mut Self {
        let meta = meta
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let node = MemoryNode {
            name: name.into(),
            addr,
            meta,
            server: false,
        };
        self.nodes.insert(name.to_ascii_lowercase(), node);
        self
    }

    /// Marks a registered node as a server.
    pub fn mark_server(&mut self, name: &str) -> &mut Self {
        if let Some(node) = self.nodes.get_mut(&name.to_ascii_lowercase()) {
            node.server = true;
        }
        self
    }

    /// Registers a service instance.
    pub fn add_instance(&mut self, instance: MemoryInstance) -> &mut Self {
        self.instances.push(instance);
        self
    }

    fn view_of(&self, node: &str) -> Option<NodeView<'_>> {
        let node = match self.nodes.get(node) {
            Some(node) => node,
            None => self.nodes.get(&node.to_ascii_lowercase())?,
        };
        Some(NodeView {
            name: &node.name,
            addr: node.addr,
            meta: &node.meta,
        })
    }
}

impl CatalogView for MemoryCatalog {
    fn datacenter(&self) -> &str {
        &self.datacenter
    }

    fn soa_serial(&self) -> u32 {
        self.serial
    }

    fn node(&self, name: &str) -> Option<NodeView<'_>> {
        self.view_of(name)
    }

    fn node_by_addr(&self, addr: IpAddr) -> Option<NodeView<'_>> {
        let node = self.nodes.values().find(|n| n.addr == addr)?;
        self.view_of(&node.name)
    }

    fn service_by_addr(&self, addr: IpAddr) -> Option<&str> {
        self.instances
            .iter()
            .find(|i| i.addr == Some(addr))
            .map(|i| i.service.as_str())
    }

    fn service_instances(&self, service: &str, tag: Option<&str>) -> Vec<InstanceView<'_>> {
        self.instances
            .iter()
            .filter(|i| i.service.eq_ignore_ascii_case(service))
            .filter(|i| tag.is_none_or(|t| i.tags.iter().any(|it| it.eq_ignore_ascii_case(t))))
            .filter_map(|i| {
                Some(InstanceView {
                    node: self.view_of(&i.node)?,
                    service_addr: i.addr,
                    port: i.port,
                    weights: i.weights,
                    health: i.health,
                })
            })
            .collect()
    }

    fn servers(&self) -> Vec<NodeView<'_>> {
        self.nodes
            .values()
            .filter(|n| n.server)
            .filter_map(|n| self.view_of(&n.name))
            .collect()
    }
}
