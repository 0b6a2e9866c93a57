//! `/v1/status/leader` and `/v1/status/peers`.

use synod_core::api::http::{Request, Response};

use super::backend::Backend;
use super::errors::HttpError;
use super::json;
use super::server::Shared;

/// Methods the status endpoints accept.
pub const METHODS: &[&str] = &["GET"];

/// The leader's RPC address as a JSON string, `""` when there is none.
pub async fn leader<B: Backend>(
    shared: &Shared<B>,
    request: &Request,
) -> Result<Response, HttpError> {
    let status = shared.backend.status().await;
    let leader = status.leader.unwrap_or_default();
    respond(&leader, request)
}

/// The Raft voters' RPC addresses as a JSON array.
pub async fn peers<B: Backend>(
    shared: &Shared<B>,
    request: &Request,
) -> Result<Response, HttpError> {
    let status = shared.backend.status().await;
    respond(&status.peers, request)
}

fn respond<T: serde::Serialize + ?Sized>(
    value: &T,
    request: &Request,
) -> Result<Response, HttpError> {
    json::encode(value, request.query.has("pretty"))
        .map(|body| Response::json(200, body))
        .map_err(|e| HttpError::internal(format!("encoding response: {e}")))
}
