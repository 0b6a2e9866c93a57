//! The local agent's service endpoints: `GET /v1/agent/services`, `GET /v1/agent/service/<id>`,
//! `PUT /v1/agent/service/register`, `PUT /v1/agent/service/deregister/<id>`,
//! `PUT /v1/agent/service/maintenance/<id>`, and the health probes
//! `GET /v1/agent/health/service/id/<id>` and `.../name/<name>` (200 passing, 429 warning,
//! 503 critical or maintenance; `?format=text`).

use std::collections::BTreeMap;

use serde::Serialize;
use synod_core::agent::{AgentService, LocalError};
use synod_core::api::http::{Request, Response};
use synod_core::health::definition::decode_service_body;
use synod_core::state::catalog::types::HealthStatus;

use super::agent_checks::AgentCheckJson;
use super::backend::Backend;
use super::errors::HttpError;
use super::json;
use super::server::Shared;
use crate::agent::local::{LocalAgent, LocalFailure, ServiceWithChecks};

/// Methods of the read endpoints.
pub const GET_METHODS: &[&str] = &["GET"];
/// Methods of the write endpoints.
pub const PUT_METHODS: &[&str] = &["PUT"];

/// Consul's `AgentService`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AgentServiceJson {
    #[serde(rename = "ID")]
    id: String,
    service: String,
    tags: Vec<String>,
    meta: BTreeMap<String, String>,
    port: u16,
    address: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    tagged_addresses: BTreeMap<String, AddressJson>,
    weights: WeightsJson,
    enable_tag_override: bool,
    datacenter: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AddressJson {
    address: String,
    port: u16,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct WeightsJson {
    passing: u32,
    warning: u32,
}

impl AgentServiceJson {
    pub(crate) fn new(service: &AgentService, datacenter: &str) -> Self {
        let def = &service.def;
        AgentServiceJson {
            id: def.id.clone(),
            service: def.name.clone(),
            tags: def.tags.clone(),
            meta: def.meta.clone(),
            port: def.port,
            address: def.address.clone(),
            tagged_addresses: def
                .tagged_addresses
                .iter()
                .map(|(k, a)| {
                    let address = AddressJson {
                        address: a.address.clone(),
                        port: a.port,
                    };
                    (k.clone(), address)
                })
                .collect(),
            weights: WeightsJson {
                passing: def.weights.passing,
                warning: def.weights.warning,
            },
            enable_tag_override: def.enable_tag_override,
            datacenter: datacenter.to_owned(),
        }
    }
}

/// Consul's `AgentServiceChecksInfo`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ServiceHealthJson {
    aggregated_status: &'static str,
    service: Option<AgentServiceJson>,
    checks: Option<Vec<AgentCheckJson>>,
}

/// The local agent, or a 500 on a backend without one.
pub(crate) fn local_agent<B: Backend>(shared: &Shared<B>) -> Result<LocalAgent, HttpError> {
    shared
        .backend
        .local_agent()
        .ok_or_else(|| HttpError::internal("this server runs no local agent"))
}

/// Consul's status for each refusal.
pub(crate) fn failure(error: LocalFailure) -> HttpError {
    let status = match &error {
        LocalFailure::Refused(
            LocalError::UnknownService(_)
            | LocalError::UnknownCheck(_)
            | LocalError::NoServiceForMaintenance(_),
        ) => 404,
        LocalFailure::Refused(_) | LocalFailure::Other(_) => 500,
    };
    HttpError {
        status,
        message: error.to_string(),
    }
}

pub(crate) fn json_response<T: Serialize>(
    status: u16,
    value: &T,
    request: &Request,
) -> Result<Response, HttpError> {
    json::encode(value, request.query.has("pretty"))
        .map(|body| Response::json(status, body))
        .map_err(|e| HttpError::internal(format!("encoding response: {e}")))
}

/// `GET /v1/agent/services`: ID → service.
pub async fn services<B: Backend>(
    shared: &Shared<B>,
    request: &Request,
) -> Result<Response, HttpError> {
    let services = local_agent(shared)?.services().await.map_err(failure)?;
    let dc = &shared.config.datacenter;
    let map: BTreeMap<String, AgentServiceJson> = services
        .iter()
        .map(|s| (s.def.id.clone(), AgentServiceJson::new(s, dc)))
        .collect();
    json_response(200, &map, request)
}

/// `GET /v1/agent/service/<id>`.
pub async fn service<B: Backend>(
    shared: &Shared<B>,
    request: &Request,
    id: &str,
) -> Result<Response, HttpError> {
    let found = local_agent(shared)?
        .service(id.to_owned())
        .await
        .map_err(failure)?;
    let Some(found) = found else {
        return Err(HttpError {
            status: 404,
            message: format!("unknown service ID: {id}"),
        });
    };
    json_response(
        200,
        &AgentServiceJson::new(&found.service, &shared.config.datacenter),
        request,
    )
}

/// `PUT /v1/agent/service/register[?replace-existing-checks]`.
pub async fn register<B: Backend>(
    shared: &Shared<B>,
    request: &Request,
) -> Result<Response, HttpError> {
    let def = decode_service_body(&request.body).map_err(HttpError::decode_failed)?;
    let replace = request.query.has("replace-existing-checks");
    local_agent(shared)?
        .register_service(def, replace)
        .await
        .map_err(failure)?;
    Ok(Response::empty(200))
}

/// `PUT /v1/agent/service/deregister/<id>`.
pub async fn deregister<B: Backend>(
    shared: &Shared<B>,
    _request: &Request,
    id: &str,
) -> Result<Response, HttpError> {
    local_agent(shared)?
        .deregister_service(id.to_owned())
        .await
        .map_err(failure)?;
    Ok(Response::empty(200))
}

/// `?enable=true|false` (required) and `?reason=`.
pub(crate) fn maintenance_params(request: &Request) -> Result<(bool, String), HttpError> {
    let enable = match request.query.get("enable") {
        None | Some("") => return Err(HttpError::bad_request("Missing value for enable")),
        Some(v) => parse_go_bool(v)
            .ok_or_else(|| HttpError::bad_request(format!("Invalid value for enable: {v:?}")))?,
    };
    let reason = request.query.get("reason").unwrap_or_default().to_owned();
    Ok((enable, reason))
}

/// Go's `strconv.ParseBool`.
fn parse_go_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// `PUT /v1/agent/service/maintenance/<id>?enable=&reason=`.
pub async fn maintenance<B: Backend>(
    shared: &Shared<B>,
    request: &Request,
    id: &str,
) -> Result<Response, HttpError> {
    if id.is_empty() {
        return Err(HttpError::bad_request("Missing service ID"));
    }
    let (enable, reason) = maintenance_params(request)?;
    local_agent(shared)?
        .service_maintenance(id.to_owned(), enable, reason)
        .await
        .map_err(failure)?;
    Ok(Response::empty(200))
}

/// The worst status among `checks`, with its HTTP code (maintenance counts worst).
fn aggregate(entries: &[ServiceWithChecks]) -> (&'static str, u16) {
    let checks = || entries.iter().flat_map(|e| e.checks.iter());
    if checks().any(|c| c.def.is_none() && c.row.status == HealthStatus::Critical) {
        return ("maintenance", 503);
    }
    if checks().any(|c| c.row.status == HealthStatus::Critical) {
        ("critical", 503)
    } else if checks().any(|c| c.row.status == HealthStatus::Warning) {
        ("warning", 429)
    } else {
        ("passing", 200)
    }
}

fn health_json(entry: &ServiceWithChecks, dc: &str) -> ServiceHealthJson {
    let (status, _) = aggregate(std::slice::from_ref(entry));
    ServiceHealthJson {
        aggregated_status: status,
        service: Some(AgentServiceJson::new(&entry.service, dc)),
        checks: Some(entry.checks.iter().map(AgentCheckJson::new).collect()),
    }
}

fn wants_text(request: &Request) -> bool {
    request.query.get("format") == Some("text")
}

/// `GET /v1/agent/health/service/id/<id>[?format=text]`.
pub async fn health_by_id<B: Backend>(
    shared: &Shared<B>,
    request: &Request,
    id: &str,
) -> Result<Response, HttpError> {
    let found = local_agent(shared)?
        .service(id.to_owned())
        .await
        .map_err(failure)?;
    let Some(entry) = found else {
        let reason = format!("ServiceId {id} not found");
        if wants_text(request) {
            return Ok(Response::text(404, &reason));
        }
        let empty = ServiceHealthJson {
            aggregated_status: "critical",
            service: None,
            checks: None,
        };
        return json_response(404, &empty, request);
    };
    let (status, code) = aggregate(std::slice::from_ref(&entry));
    if wants_text(request) {
        return Ok(Response::text(code, status));
    }
    json_response(
        code,
        &health_json(&entry, &shared.config.datacenter),
        request,
    )
}

/// `GET /v1/agent/health/service/name/<name>[?format=text]`.
pub async fn health_by_name<B: Backend>(
    shared: &Shared<B>,
    request: &Request,
    name: &str,
) -> Result<Response, HttpError> {
    let entries = local_agent(shared)?
        .services_named(name.to_owned())
        .await
        .map_err(failure)?;
    if entries.is_empty() {
        let reason = format!("ServiceName {name} Not Found");
        if wants_text(request) {
            return Ok(Response::text(404, &reason));
        }
        return json_response(404, &Vec::<ServiceHealthJson>::new(), request);
    }
    let (status, code) = aggregate(&entries);
    if wants_text(request) {
        return Ok(Response::text(code, status));
    }
    let dc = &shared.config.datacenter;
    let list: Vec<ServiceHealthJson> = entries.iter().map(|e| health_json(e, dc)).collect();
    json_response(code, &list, request)
}
