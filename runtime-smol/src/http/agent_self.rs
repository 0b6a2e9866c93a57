//! `GET /v1/agent/self`: this agent's configuration, gossip member and stats, in Consul's shape.

use std::collections::BTreeMap;

use serde::Serialize;
use synod_core::api::http::{Request, Response};

use super::agent_members::MemberInfo;
use super::backend::Backend;
use super::errors::HttpError;
use super::json;
use super::server::Shared;

/// Methods `/v1/agent/self` accepts.
pub const METHODS: &[&str] = &["GET"];

/// The `Config` section.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SelfConfig {
    /// Datacenter.
    pub datacenter: String,
    /// Primary datacenter (this one: there is no federation yet).
    pub primary_datacenter: String,
    /// Node name.
    pub node_name: String,
    /// Node UUID.
    #[serde(rename = "NodeID")]
    pub node_id: String,
    /// Whether this agent is a server.
    pub server: bool,
    /// Build revision (empty when unknown).
    pub revision: String,
    /// synod's version.
    pub version: String,
}

/// Everything `/v1/agent/self` answers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AgentSelf {
    /// Configuration summary.
    pub config: SelfConfig,
    /// This agent as a cluster member.
    pub member: MemberInfo,
    /// Node metadata.
    pub meta: BTreeMap<String, String>,
    /// Sections of `key: value` strings (`raft`, `runtime`, `consul`), as Consul's stats.
    pub stats: BTreeMap<String, BTreeMap<String, String>>,
}

/// `GET /v1/agent/self`.
pub async fn handle<B: Backend>(
    shared: &Shared<B>,
    request: &Request,
) -> Result<Response, HttpError> {
    let info = shared.backend.agent_self().await;
    json::encode(&info, request.query.has("pretty"))
        .map(|body| Response::json(200, body))
        .map_err(|e| HttpError::internal(format!("encoding response: {e}")))
}
