//! The local agent's check endpoints: `GET /v1/agent/checks`, `PUT /v1/agent/check/register`,
//! `PUT /v1/agent/check/deregister/<id>`, `PUT /v1/agent/check/pass|warn|fail/<id>?note=`,
//! `PUT /v1/agent/check/update/<id>` (body `{"Status", "Output"}`) and node maintenance
//! `PUT /v1/agent/maintenance?enable=&reason=`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use synod_core::agent::AgentCheck;
use synod_core::api::http::{Request, Response};
use synod_core::go_duration::format_go_duration;
use synod_core::health::definition::decode_check_body;
use synod_core::state::catalog::types::HealthStatus;

use super::agent_services::{failure, json_response, local_agent, maintenance_params};
use super::backend::Backend;
use super::errors::HttpError;
use super::json;
use super::server::Shared;

/// Consul's `AgentCheck` (`/v1/agent/checks` values).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AgentCheckJson {
    node: String,
    #[serde(rename = "CheckID")]
    check_id: String,
    name: String,
    status: &'static str,
    notes: String,
    output: String,
    #[serde(rename = "ServiceID")]
    service_id: String,
    service_name: String,
    service_tags: Vec<String>,
    #[serde(rename = "Type")]
    check_type: String,
    interval: String,
    timeout: String,
    exposed_port: u16,
    definition: BTreeMap<String, String>,
    create_index: u64,
    modify_index: u64,
}

fn duration_text(micros: u64) -> String {
    if micros == 0 {
        String::new()
    } else {
        format_go_duration(std::time::Duration::from_micros(micros))
    }
}

impl AgentCheckJson {
    pub(crate) fn new(check: &AgentCheck) -> Self {
        let row = &check.row;
        AgentCheckJson {
            node: row.node.clone(),
            check_id: row.check_id.clone(),
            name: row.name.clone(),
            status: row.status.as_str(),
            notes: row.notes.clone(),
            output: row.output.clone(),
            service_id: row.service_id.clone(),
            service_name: row.service_name.clone(),
            service_tags: row.service_tags.clone(),
            check_type: row.check_type.clone(),
            interval: duration_text(row.interval_us),
            timeout: duration_text(row.timeout_us),
            exposed_port: 0,
            definition: BTreeMap::new(),
            create_index: 0,
            modify_index: 0,
        }
    }
}

/// `GET /v1/agent/checks`: ID → check.
pub async fn checks<B: Backend>(
    shared: &Shared<B>,
    request: &Request,
) -> Result<Response, HttpError> {
    let checks = local_agent(shared)?.checks().await.map_err(failure)?;
    let map: BTreeMap<String, AgentCheckJson> = checks
        .iter()
        .map(|c| (c.row.check_id.clone(), AgentCheckJson::new(c)))
        .collect();
    json_response(200, &map, request)
}

/// `PUT /v1/agent/check/register`.
pub async fn register<B: Backend>(
    shared: &Shared<B>,
    request: &Request,
) -> Result<Response, HttpError> {
    let def = decode_check_body(&request.body).map_err(HttpError::decode_failed)?;
    local_agent(shared)?
        .register_check(def)
        .await
        .map_err(failure)?;
    Ok(Response::empty(200))
}

/// `PUT /v1/agent/check/deregister/<id>`.
pub async fn deregister<B: Backend>(
    shared: &Shared<B>,
    _request: &Request,
    id: &str,
) -> Result<Response, HttpError> {
    local_agent(shared)?
        .deregister_check(id.to_owned())
        .await
        .map_err(failure)?;
    Ok(Response::empty(200))
}

/// `PUT /v1/agent/check/pass|warn|fail/<id>?note=`.
pub async fn ttl<B: Backend>(
    shared: &Shared<B>,
    request: &Request,
    id: &str,
    status: HealthStatus,
) -> Result<Response, HttpError> {
    let note = request.query.get("note").unwrap_or_default().to_owned();
    local_agent(shared)?
        .ttl_update(id.to_owned(), status, note)
        .await
        .map_err(failure)?;
    Ok(Response::empty(200))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct CheckUpdate {
    status: String,
    output: String,
}

/// `PUT /v1/agent/check/update/<id>` with `{"Status": "passing|warning|critical", "Output"}`.
pub async fn update<B: Backend>(
    shared: &Shared<B>,
    request: &Request,
    id: &str,
) -> Result<Response, HttpError> {
    let update: CheckUpdate =
        json::decode_case_insensitive(&request.body).map_err(HttpError::decode_failed)?;
    let status = match HealthStatus::parse(&update.status) {
        Some(s @ (HealthStatus::Passing | HealthStatus::Warning | HealthStatus::Critical)) => s,
        _ => {
            return Err(HttpError::bad_request(format!(
                "Invalid check status: '{}'",
                update.status
            )));
        }
    };
    local_agent(shared)?
        .ttl_update(id.to_owned(), status, update.output)
        .await
        .map_err(failure)?;
    Ok(Response::empty(200))
}

/// `PUT /v1/agent/maintenance?enable=&reason=`.
pub async fn node_maintenance<B: Backend>(
    shared: &Shared<B>,
    request: &Request,
) -> Result<Response, HttpError> {
    let (enable, reason) = maintenance_params(request)?;
    local_agent(shared)?
        .node_maintenance(enable, reason)
        .await
        .map_err(failure)?;
    Ok(Response::empty(200))
}
