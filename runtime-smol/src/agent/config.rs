//! The agent's validated settings.

use std::net::IpAddr;
use std::path::PathBuf;

use crate::shell::log::Level;

/// Everything `synod agent` was asked to do, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentConfig {
    /// In-memory single server with fast Raft timings, bootstrapping itself.
    pub dev: bool,
    /// Member of the Raft voter set.
    pub server: bool,
    /// Elect itself leader of a brand-new single-server cluster.
    pub bootstrap: bool,
    /// Durable state lives here (`None` only in dev mode).
    pub data_dir: Option<PathBuf>,
    /// Node name (unique in the datacenter).
    pub node_name: String,
    /// A node id (UUID) the operator imposed; otherwise generated and persisted.
    pub node_id: Option<String>,
    /// Address the server RPC listener binds.
    pub bind: IpAddr,
    /// Address other servers use to reach this one (default: derived from `bind`).
    pub advertise: Option<IpAddr>,
    /// Address the HTTP and DNS interfaces bind.
    pub client: IpAddr,
    /// Datacenter name.
    pub datacenter: String,
    /// Server RPC (Raft) port.
    pub server_port: u16,
    /// HTTP API port.
    pub http_port: u16,
    /// DNS port.
    pub dns_port: u16,
    /// Lowest level logged.
    pub log_level: Level,
}
