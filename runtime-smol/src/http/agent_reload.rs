//! `PUT /v1/agent/reload`: re-reads the agent's config files and applies them.

use synod_core::api::http::{Request, Response};

use super::backend::Backend;
use super::errors::HttpError;
use super::server::Shared;

/// Methods `/v1/agent/reload` accepts.
pub const METHODS: &[&str] = &["PUT"];

/// `PUT /v1/agent/reload`: 200 once applied; a 500 with the reason (file, key and reason for a
/// bad config file) when refused, the running configuration unchanged.
pub async fn reload<B: Backend>(
    shared: &Shared<B>,
    _request: &Request,
) -> Result<Response, HttpError> {
    shared.backend.reload().await.map_err(HttpError::internal)?;
    Ok(Response::empty(200))
}
