//! The catalog's rows, commands, queries and results (Consul's catalog and health semantics).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A row with the Raft indexes that created it and last changed it (Consul's CreateIndex and
/// ModifyIndex).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Indexed<T> {
    /// Raft index that created the row.
    pub create_index: u64,
    /// Raft index of the last change to the row.
    pub modify_index: u64,
    /// The row's content.
    pub item: T,
}

/// A catalog node.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    /// Node UUID (may be empty).
    pub id: String,
    /// Node name, the table's key.
    pub node: String,
    /// Address.
    pub address: String,
    /// Datacenter.
    pub datacenter: String,
    /// `lan`, `wan`, … → address.
    pub tagged_addresses: BTreeMap<String, String>,
    /// Node metadata.
    pub meta: BTreeMap<String, String>,
}

/// An address and port, as in a service's `TaggedAddresses`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceAddress {
    /// Address.
    pub address: String,
    /// Port.
    pub port: u16,
}

/// DNS SRV weights by health.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Weights {
    /// Weight while every check passes.
    pub passing: u32,
    /// Weight while some check warns.
    pub warning: u32,
}

impl Default for Weights {
    /// Consul's default `{"Passing": 1, "Warning": 1}`.
    fn default() -> Self {
        Weights {
            passing: 1,
            warning: 1,
        }
    }
}

/// A service instance on a node.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    /// Instance ID, unique per node (defaults to the service name).
    pub id: String,
    /// Service name.
    pub service: String,
    /// Tags (never null: empty list).
    pub tags: Vec<String>,
    /// Address ("" means the node's address).
    pub address: String,
    /// Port.
    pub port: u16,
    /// Service metadata.
    pub meta: BTreeMap<String, String>,
    /// DNS weights.
    pub weights: Weights,
    /// Whether anti-entropy leaves catalog-side tag edits alone.
    pub enable_tag_override: bool,
    /// `lan`, `wan`, … → address and port.
    pub tagged_addresses: BTreeMap<String, ServiceAddress>,
}

/// A check's status. Maintenance checks are stored as critical by the agent; `Maintenance` is
/// accepted for completeness and counts as not passing.
#[derive(
    Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub enum HealthStatus {
    /// Healthy.
    Passing,
    /// Degraded but serving.
    Warning,
    /// Failing (Consul's default initial status).
    #[default]
    Critical,
    /// Under maintenance.
    Maintenance,
}

impl HealthStatus {
    /// Consul's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Passing => "passing",
            HealthStatus::Warning => "warning",
            HealthStatus::Critical => "critical",
            HealthStatus::Maintenance => "maintenance",
        }
    }

    /// Parses Consul's spelling (exact, lower case).
    pub fn parse(text: &str) -> Option<HealthStatus> {
        match text {
            "passing" => Some(HealthStatus::Passing),
            "warning" => Some(HealthStatus::Warning),
            "critical" => Some(HealthStatus::Critical),
            "maintenance" => Some(HealthStatus::Maintenance),
            _ => None,
        }
    }
}

/// A health check as the catalog stores it (the definition is the agent's business).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// Node the check belongs to.
    pub node: String,
    /// Check ID, unique per node.
    pub check_id: String,
    /// Display name.
    pub name: String,
    /// Current status.
    pub status: HealthStatus,
    /// Human notes.
    pub notes: String,
    /// Output of the last run.
    pub output: String,
    /// Service instance the check belongs to ("" for a node check).
    pub service_id: String,
    /// Name of that service (filled in from the service table when registered).
    pub service_name: String,
    /// Tags of that service at registration (never null).
    pub service_tags: Vec<String>,
    /// `http`, `tcp`, `ttl`, `script`, … ("" for serf or maintenance checks).
    pub check_type: String,
    /// Run interval in microseconds (0: none).
    pub interval_us: u64,
    /// Probe timeout in microseconds (0: none).
    pub timeout_us: u64,
}

/// `/v1/catalog/register`: a node upsert with an optional service and checks, all-or-nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// The node (created or updated).
    pub node: Node,
    /// Leave an existing node's fields alone (`SkipNodeUpdate`).
    pub skip_node_update: bool,
    /// A service on the node; an empty `id` defaults to the service name.
    pub service: Option<Service>,
    /// Checks on the node; an empty `node` means the registration's node, a `service_id` must
    /// name a service on that node.
    pub checks: Vec<Check>,
}

/// `/v1/catalog/deregister`: without `service_id` and `check_id` the whole node goes; otherwise
/// the named service (with its checks) and/or the named check.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deregistration {
    /// Node.
    pub node: String,
    /// Service instance to remove, with its checks.
    pub service_id: Option<String>,
    /// Check to remove.
    pub check_id: Option<String>,
}

/// A replicated catalog write.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CatalogCommand {
    /// Upsert a node, service and checks.
    Register(Box<Registration>),
    /// Remove a node, service or check.
    Deregister(Deregistration),
}

/// Why a catalog write was refused (nothing was changed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CatalogError {
    /// The registration names no node.
    MissingNode,
    /// The registration has no node address.
    MissingAddress,
    /// The service has no name.
    MissingServiceName,
    /// A check has no ID (and no name to default it to).
    MissingCheckId,
    /// A check names another node than the registration.
    NodeMismatch {
        /// The check's node.
        check_node: String,
    },
    /// A check names a service that is not registered on the node.
    UnknownService {
        /// The check.
        check_id: String,
        /// The missing service instance.
        service_id: String,
    },
}

impl core::fmt::Display for CatalogError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CatalogError::MissingNode => write!(f, "Must provide node"),
            CatalogError::MissingAddress => write!(f, "Must provide address"),
            CatalogError::MissingServiceName => write!(f, "Must provide service name"),
            CatalogError::MissingCheckId => write!(f, "Missing check ID"),
            CatalogError::NodeMismatch { check_node } => {
                write!(f, "Node mismatch: check is for node {check_node:?}")
            }
            CatalogError::UnknownService {
                check_id,
                service_id,
            } => write!(
                f,
                "Missing service registration {service_id:?} for check {check_id:?}"
            ),
        }
    }
}

/// What a catalog write did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CatalogCommandResult {
    /// Applied (possibly changing nothing): Consul's `true`.
    Done,
    /// Refused; the catalog is unchanged.
    Rejected(CatalogError),
}

/// Which checks `/v1/health/state/<state>` returns.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CheckStateFilter {
    /// Every check.
    Any,
    /// Checks with exactly this status.
    Only(HealthStatus),
}

/// `node-meta=key:value` pairs; a node matches when it has every pair.
pub type NodeMetaFilter = Vec<(String, String)>;

/// A catalog read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CatalogQuery {
    /// `/v1/catalog/nodes`.
    Nodes {
        /// Node metadata filter.
        node_meta: NodeMetaFilter,
    },
    /// `/v1/catalog/services`: service name → sorted unique tags.
    Services {
        /// Node metadata filter.
        node_meta: NodeMetaFilter,
    },
    /// `/v1/catalog/service/<name>`.
    ServiceNodes {
        /// Service name.
        service: String,
        /// Tags every instance must have (case-insensitive).
        tags: Vec<String>,
        /// Node metadata filter.
        node_meta: NodeMetaFilter,
    },
    /// `/v1/catalog/node/<node>` and `/v1/catalog/node-services/<node>`.
    NodeServices {
        /// Node name.
        node: String,
    },
    /// `/v1/health/node/<node>`.
    NodeChecks {
        /// Node name.
        node: String,
    },
    /// `/v1/health/checks/<service>`.
    ServiceChecks {
        /// Service name.
        service: String,
        /// Node metadata filter.
        node_meta: NodeMetaFilter,
    },
    /// `/v1/health/state/<state>`.
    ChecksInState {
        /// Which statuses.
        state: CheckStateFilter,
        /// Node metadata filter.
        node_meta: NodeMetaFilter,
    },
    /// `/v1/health/service/<service>`.
    ServiceHealth {
        /// Service name.
        service: String,
        /// Tags every instance must have (case-insensitive).
        tags: Vec<String>,
        /// Node metadata filter.
        node_meta: NodeMetaFilter,
        /// Drop instances with any non-passing node or service check (`?passing`).
        passing_only: bool,
    },
}

/// A service instance with its node (`/v1/catalog/service/<name>` rows).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceInstance {
    /// The hosting node.
    pub node: Indexed<Node>,
    /// The instance.
    pub service: Indexed<Service>,
}

/// A node with its services (`/v1/catalog/node/<node>`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeServices {
    /// The node.
    pub node: Indexed<Node>,
    /// Its services, by instance ID.
    pub services: Vec<Indexed<Service>>,
}

/// One `/v1/health/service/<name>` entry: the instance, its node and every check that bears on
/// it (node checks and its own), in check-ID order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceHealth {
    /// The hosting node.
    pub node: Indexed<Node>,
    /// The instance.
    pub service: Indexed<Service>,
    /// Node checks and the instance's checks.
    pub checks: Vec<Indexed<Check>>,
}

/// What a catalog read found. Lists are empty, never absent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CatalogQueryResult {
    /// Nodes by name.
    Nodes(Vec<Indexed<Node>>),
    /// Service name → sorted unique tags.
    Services(BTreeMap<String, Vec<String>>),
    /// Instances by node name, then instance ID.
    ServiceNodes(Vec<ServiceInstance>),
    /// The node and its services; `None` for an unknown node (Consul's `null`).
    NodeServices(Option<NodeServices>),
    /// Checks by node name, then check ID.
    Checks(Vec<Indexed<Check>>),
    /// Health entries by node name, then instance ID.
    ServiceHealth(Vec<ServiceHealth>),
}
