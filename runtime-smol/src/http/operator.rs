//! `GET /v1/operator/raft/configuration` and `DELETE /v1/operator/raft/peer`.

use serde::Serialize;
use synod_core::api::http::{Request, Response};

use super::backend::Backend;
use super::errors::HttpError;
use super::json;
use super::server::Shared;

/// Methods `/v1/operator/raft/configuration` accepts.
pub const CONFIGURATION_METHODS: &[&str] = &["GET"];
/// Methods `/v1/operator/raft/peer` accepts.
pub const PEER_METHODS: &[&str] = &["DELETE"];

/// Raft protocol version every synod server speaks (Consul's current one: server IDs, not
/// addresses, identify servers).
pub const RAFT_PROTOCOL: &str = "3";

/// One server of the Raft configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RaftServer {
    /// Server id (the node UUID where known).
    #[serde(rename = "ID")]
    pub id: String,
    /// Node name, `(unknown)` when this server has not learned it.
    pub node: String,
    /// RPC address.
    pub address: String,
    /// Whether it leads.
    pub leader: bool,
    /// Raft protocol (always [`RAFT_PROTOCOL`]).
    pub protocol_version: String,
    /// Whether it votes.
    pub voter: bool,
}

/// The Raft configuration as this server knows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RaftConfiguration {
    /// Every server, by id.
    pub servers: Vec<RaftServer>,
    /// The commit index the configuration was read at.
    pub index: u64,
    /// Whether a leader is known (without one, only `?stale` reads are answered).
    #[serde(skip)]
    pub known_leader: bool,
}

/// Which server `DELETE /v1/operator/raft/peer` removes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerSelector {
    /// `?id=`.
    Id(String),
    /// `?address=` (`ip:port`).
    Address(String),
}

/// `GET /v1/operator/raft/configuration[?stale]`.
pub async fn configuration<B: Backend>(
    shared: &Shared<B>,
    request: &Request,
) -> Result<Response, HttpError> {
    let config = shared.backend.raft_configuration().await;
    if !config.known_leader && !request.query.has("stale") {
        return Err(HttpError::internal("No cluster leader"));
    }
    json::encode(&config, request.query.has("pretty"))
        .map(|body| Response::json(200, body))
        .map_err(|e| HttpError::internal(format!("encoding response: {e}")))
}

/// `DELETE /v1/operator/raft/peer?id=` or `?address=`.
pub async fn remove_peer<B: Backend>(
    shared: &Shared<B>,
    request: &Request,
) -> Result<Response, HttpError> {
    let id = request.query.get("id").filter(|v| !v.is_empty());
    let address = request.query.get("address").filter(|v| !v.is_empty());
    let selector = match (id, address) {
        (Some(id), _) => PeerSelector::Id(id.to_owned()),
        (None, Some(address)) => PeerSelector::Address(address.to_owned()),
        (None, None) => {
            return Err(HttpError::bad_request(
                "Must specify either ?id with the server's ID or ?address with IP:port of peer to remove",
            ));
        }
    };
    shared
        .backend
        .remove_raft_peer(selector)
        .await
        .map(|()| Response::empty(200))
        .map_err(HttpError::internal)
}
