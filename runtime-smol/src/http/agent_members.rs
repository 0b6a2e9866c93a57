//! The gossip endpoints: `GET /v1/agent/members`, `PUT /v1/agent/join/<addr>`,
//! `PUT /v1/agent/leave`, `PUT /v1/agent/force-leave/<node>`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use synod_core::api::http::{Request, Response};

use super::backend::Backend;
use super::errors::HttpError;
use super::json;
use super::server::Shared;

/// Methods `/v1/agent/members` accepts.
pub const MEMBERS_METHODS: &[&str] = &["GET"];
/// Methods the join, leave and force-leave endpoints accept.
pub const PUT_METHODS: &[&str] = &["PUT"];

/// Consul's member status numbers (serf's `MemberStatus`).
pub const STATUS_ALIVE: u8 = 1;
/// Left gracefully.
pub const STATUS_LEFT: u8 = 3;
/// Declared failed.
pub const STATUS_FAILED: u8 = 4;

/// One gossip member as `/v1/agent/members` shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MemberInfo {
    /// Node name.
    pub name: String,
    /// Gossip IP.
    pub addr: String,
    /// Gossip port.
    pub port: u16,
    /// Tags (`role`, `dc`, `port`, `id`, `build`, `vsn`, ...).
    pub tags: BTreeMap<String, String>,
    /// 1 alive, 2 leaving, 3 left, 4 failed.
    pub status: u8,
    /// memberlist protocol range and current version.
    pub protocol_min: u8,
    /// See `protocol_min`.
    pub protocol_max: u8,
    /// See `protocol_min`.
    pub protocol_cur: u8,
    /// Delegate (serf/Consul) protocol range and current version.
    pub delegate_min: u8,
    /// See `delegate_min`.
    pub delegate_max: u8,
    /// See `delegate_min`.
    pub delegate_cur: u8,
}

/// `GET /v1/agent/members[?wan]`.
pub async fn members<B: Backend>(
    shared: &Shared<B>,
    request: &Request,
) -> Result<Response, HttpError> {
    let members = if request.query.has("wan") {
        shared.backend.wan_members().await
    } else {
        shared.backend.members().await
    }
    .map_err(HttpError::internal)?;
    json::encode(&members, request.query.has("pretty"))
        .map(|body| Response::json(200, body))
        .map_err(|e| HttpError::internal(format!("encoding response: {e}")))
}

/// `PUT /v1/agent/join/<addr>[?wan]`.
pub async fn join<B: Backend>(
    shared: &Shared<B>,
    request: &Request,
    addr: &str,
) -> Result<Response, HttpError> {
    if addr.is_empty() {
        return Err(HttpError::bad_request("Missing address to join"));
    }
    if request.query.has("wan") {
        shared.backend.join_wan(addr.to_owned()).await
    } else {
        shared.backend.join(addr.to_owned()).await
    }
    .map_err(HttpError::internal)?;
    Ok(Response::empty(200))
}

/// `PUT /v1/agent/leave`: leaves gracefully, then the agent shuts down.
pub async fn leave<B: Backend>(
    shared: &Shared<B>,
    _request: &Request,
) -> Result<Response, HttpError> {
    shared.backend.leave().await.map_err(HttpError::internal)?;
    Ok(Response::empty(200))
}

/// `PUT /v1/agent/force-leave/<node>[?prune][&wan]`.
pub async fn force_leave<B: Backend>(
    shared: &Shared<B>,
    request: &Request,
    node: &str,
) -> Result<Response, HttpError> {
    if node.is_empty() {
        return Err(HttpError::bad_request("Missing node name to force leave"));
    }
    let (node, prune) = (node.to_owned(), request.query.has("prune"));
    if request.query.has("wan") {
        shared.backend.force_leave_wan(node, prune).await
    } else {
        shared.backend.force_leave(node, prune).await
    }
    .map_err(HttpError::internal)?;
    Ok(Response::empty(200))
}
