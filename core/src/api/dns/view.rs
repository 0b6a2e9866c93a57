//! The read-only catalog view the answerer queries. The runtime adapts its published catalog
//! snapshot to this trait; [`super::MemoryCatalog`] is a small in-memory implementation.

use std::collections::BTreeMap;
use std::net::IpAddr;

/// What DNS needs to know about one node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeView<'a> {
    /// The node's name as registered (answers lower-case it).
    pub name: &'a str,
    /// The node's address.
    pub addr: IpAddr,
    /// Node metadata, published as TXT records.
    pub meta: &'a BTreeMap<String, String>,
}

/// SRV weights of a service instance, by its aggregate health.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Weights {
    /// Weight while every check passes (Consul's default 1).
    pub passing: u16,
    /// Weight while some check warns (Consul's default 1).
    pub warning: u16,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            passing: 1,
            warning: 1,
        }
    }
}

/// Aggregate health of an instance: the worst of its service and node checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Health {
    /// Every check passes (or there are none).
    Passing,
    /// Some check warns, none is critical.
    Warning,
    /// Some check is critical (including node-level and maintenance checks).
    Critical,
}

/// One registered instance of a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstanceView<'a> {
    /// The node the instance runs on.
    pub node: NodeView<'a>,
    /// The service's own address, when it has one.
    pub service_addr: Option<IpAddr>,
    /// The service port.
    pub port: u16,
    /// SRV weights.
    pub weights: Weights,
    /// Aggregate health.
    pub health: Health,
}

impl InstanceView<'_> {
    /// The address clients should connect to: the service's own, else its node's.
    pub fn addr(&self) -> IpAddr {
        self.service_addr.unwrap_or(self.node.addr)
    }

    /// True when the service has an address of its own (SRV then targets `<hexip>.addr...`).
    pub fn has_own_addr(&self) -> bool {
        self.service_addr.is_some_and(|a| a != self.node.addr)
    }
}

/// A read-only view of one datacenter's catalog. Names passed in are lower-case; lookups must
/// match case-insensitively (DNS names are case-insensitive).
pub trait CatalogView {
    /// The local datacenter's name.
    fn datacenter(&self) -> &str;

    /// The SOA serial (e.g. the catalog's index, or the time the view was published).
    fn soa_serial(&self) -> u32;

    /// The node called `name`.
    fn node(&self, name: &str) -> Option<NodeView<'_>>;

    /// The node whose address is `addr` (reverse lookups).
    fn node_by_addr(&self, addr: IpAddr) -> Option<NodeView<'_>>;

    /// The name of a service registered with its own address `addr` (reverse lookups).
    fn service_by_addr(&self, addr: IpAddr) -> Option<&str>;

    /// Every instance of `service` (whatever its health), restricted to those carrying `tag`
    /// (compared case-insensitively) when given.
    fn service_instances(&self, service: &str, tag: Option<&str>) -> Vec<InstanceView<'_>>;

    /// The server nodes (for NS answers at the zone apex).
    fn servers(&self) -> Vec<NodeView<'_>>;
}
