//! Maps a parsed request to its endpoint: clean-path redirects, 404 texts, OPTIONS and 405 with
//! `Allow`, `?dc`, then the handler.

use synod_core::api::http::{Method, Request, Response};

use super::backend::Backend;
use super::errors::HttpError;
use super::server::Shared;
use super::{
    agent_checks, agent_members, agent_reload, agent_self, agent_services, catalog, gzip, health,
    kv, operator, status, ui,
};
use synod_core::state::catalog::types::HealthStatus;

/// Builds an endpoint from the ID at the end of its path.
type IdEndpoint = fn(&str) -> Endpoint<'_>;

/// A recognised endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Endpoint<'a> {
    /// `/v1/kv/<key>`.
    Kv(&'a str),
    /// `/v1/status/leader`.
    StatusLeader,
    /// `/v1/status/peers`.
    StatusPeers,
    /// `/v1/agent/self`.
    AgentSelf,
    /// `/v1/operator/raft/configuration`.
    RaftConfiguration,
    /// `/v1/operator/raft/peer`.
    RaftPeer,
    /// `/v1/agent/members`.
    AgentMembers,
    /// `/v1/agent/join/<addr>`.
    AgentJoin(&'a str),
    /// `/v1/agent/leave`.
    AgentLeave,
    /// `/v1/agent/force-leave/<node>`.
    AgentForceLeave(&'a str),
    /// `/v1/agent/reload`.
    AgentReload,
    /// `/v1/catalog/*`.
    Catalog(catalog::Route<'a>),
    /// `/v1/health/*`.
    Health(health::Route<'a>),
    /// `/v1/agent/services`.
    AgentServices,
    /// `/v1/agent/service/<id>`.
    AgentService(&'a str),
    /// `/v1/agent/service/register`.
    AgentServiceRegister,
    /// `/v1/agent/service/deregister/<id>`.
    AgentServiceDeregister(&'a str),
    /// `/v1/agent/service/maintenance/<id>`.
    AgentServiceMaintenance(&'a str),
    /// `/v1/agent/health/service/id/<id>`.
    AgentHealthById(&'a str),
    /// `/v1/agent/health/service/name/<name>`.
    AgentHealthByName(&'a str),
    /// `/v1/agent/checks`.
    AgentChecks,
    /// `/v1/agent/check/register`.
    AgentCheckRegister,
    /// `/v1/agent/check/deregister/<id>`.
    AgentCheckDeregister(&'a str),
    /// `/v1/agent/check/pass|warn|fail/<id>`.
    AgentCheckTtl(&'a str, HealthStatus),
    /// `/v1/agent/check/update/<id>`.
    AgentCheckUpdate(&'a str),
    /// `/v1/agent/maintenance`.
    AgentMaintenance,
}

impl<'a> Endpoint<'a> {
    fn of(path: &'a str) -> Option<Self> {
        if let Some(key) = path.strip_prefix("/v1/kv/") {
            return Some(Endpoint::Kv(key));
        }
        if let Some(addr) = path.strip_prefix("/v1/agent/join/") {
            return Some(Endpoint::AgentJoin(addr));
        }
        if let Some(node) = path.strip_prefix("/v1/agent/force-leave/") {
            return Some(Endpoint::AgentForceLeave(node));
        }
        if let Some(route) = catalog::Route::of(path) {
            return Some(Endpoint::Catalog(route));
        }
        if let Some(route) = health::Route::of(path) {
            return Some(Endpoint::Health(route));
        }
        if let Some(endpoint) = Self::local_agent(path) {
            return Some(endpoint);
        }
        match path {
            "/v1/status/leader" => Some(Endpoint::StatusLeader),
            "/v1/status/peers" => Some(Endpoint::StatusPeers),
            "/v1/agent/self" => Some(Endpoint::AgentSelf),
            "/v1/operator/raft/configuration" => Some(Endpoint::RaftConfiguration),
            "/v1/operator/raft/peer" => Some(Endpoint::RaftPeer),
            "/v1/agent/members" => Some(Endpoint::AgentMembers),
            "/v1/agent/leave" => Some(Endpoint::AgentLeave),
            "/v1/agent/reload" => Some(Endpoint::AgentReload),
            _ => None,
        }
    }

    /// The local agent's service and check endpoints.
    fn local_agent(path: &'a str) -> Option<Self> {
        const PREFIXED: &[(&str, IdEndpoint)] = &[
            ("/v1/agent/service/deregister/", |id| {
                Endpoint::AgentServiceDeregister(id)
            }),
            ("/v1/agent/service/maintenance/", |id| {
                Endpoint::AgentServiceMaintenance(id)
            }),
            ("/v1/agent/health/service/id/", |id| {
                Endpoint::AgentHealthById(id)
            }),
            ("/v1/agent/health/service/name/", |id| {
                Endpoint::AgentHealthByName(id)
            }),
            ("/v1/agent/check/deregister/", |id| {
                Endpoint::AgentCheckDeregister(id)
            }),
            ("/v1/agent/check/update/", |id| {
                Endpoint::AgentCheckUpdate(id)
            }),
            ("/v1/agent/check/pass/", |id| {
                Endpoint::AgentCheckTtl(id, HealthStatus::Passing)
            }),
            ("/v1/agent/check/warn/", |id| {
                Endpoint::AgentCheckTtl(id, HealthStatus::Warning)
            }),
            ("/v1/agent/check/fail/", |id| {
                Endpoint::AgentCheckTtl(id, HealthStatus::Critical)
            }),
        ];
        match path {
            "/v1/agent/services" => return Some(Endpoint::AgentServices),
            "/v1/agent/service/register" => return Some(Endpoint::AgentServiceRegister),
            "/v1/agent/checks" => return Some(Endpoint::AgentChecks),
            "/v1/agent/check/register" => return Some(Endpoint::AgentCheckRegister),
            "/v1/agent/maintenance" => return Some(Endpoint::AgentMaintenance),
            _ => {}
        }
        for (prefix, endpoint) in PREFIXED {
            if let Some(rest) = path.strip_prefix(prefix) {
                return Some(endpoint(rest));
            }
        }
        path.strip_prefix("/v1/agent/service/")
            .map(Endpoint::AgentService)
    }

    fn methods(&self) -> &'static [&'static str] {
        match self {
            Endpoint::Kv(_) => kv::METHODS,
            Endpoint::StatusLeader | Endpoint::StatusPeers => status::METHODS,
            Endpoint::AgentSelf => agent_self::METHODS,
            Endpoint::RaftConfiguration => operator::CONFIGURATION_METHODS,
            Endpoint::RaftPeer => operator::PEER_METHODS,
            Endpoint::AgentMembers => agent_members::MEMBERS_METHODS,
            Endpoint::AgentJoin(_) | Endpoint::AgentLeave | Endpoint::AgentForceLeave(_) => {
                agent_members::PUT_METHODS
            }
            Endpoint::AgentReload => agent_reload::METHODS,
            Endpoint::Catalog(route) => route.methods(),
            Endpoint::Health(_) => health::METHODS,
            Endpoint::AgentServices
            | Endpoint::AgentService(_)
            | Endpoint::AgentHealthById(_)
            | Endpoint::AgentHealthByName(_)
            | Endpoint::AgentChecks => agent_services::GET_METHODS,
            Endpoint::AgentServiceRegister
            | Endpoint::AgentServiceDeregister(_)
            | Endpoint::AgentServiceMaintenance(_)
            | Endpoint::AgentCheckRegister
            | Endpoint::AgentCheckDeregister(_)
            | Endpoint::AgentCheckTtl(..)
            | Endpoint::AgentCheckUpdate(_)
            | Endpoint::AgentMaintenance => agent_services::PUT_METHODS,
        }
    }
}

/// Subtree patterns: Go's `ServeMux` redirects `/v1/kv` to `/v1/kv/`.
const SUBTREES: &[&str] = &[
    "/v1/kv/",
    "/v1/catalog/service/",
    "/v1/catalog/node/",
    "/v1/catalog/node-services/",
    "/v1/health/node/",
    "/v1/health/checks/",
    "/v1/health/service/",
    "/v1/health/state/",
];

/// Answers one request, compressed for clients that accept gzip.
pub async fn route<B: Backend>(shared: &Shared<B>, request: &Request) -> Response {
    gzip::negotiate(request, answer(shared, request).await)
}

async fn answer<B: Backend>(shared: &Shared<B>, request: &Request) -> Response {
    if let Some(location) = request.redirect_location() {
        return redirect(request, &location);
    }
    if let Some(subtree) = SUBTREES
        .iter()
        .find(|s| s.strip_suffix('/') == Some(&request.path))
    {
        let mut location = (*subtree).to_owned();
        if !request.raw_query.is_empty() {
            location.push('?');
            location.push_str(&request.raw_query);
        }
        return redirect(request, &location);
    }
    if ui::owns(&request.path) {
        return match ui::serve(request, shared.config.ui) {
            Ok(response) => response,
            Err(location) => redirect(request, &location),
        };
    }
    let response = match dispatch(shared, request).await {
        Ok(response) => response,
        Err(error) => error.response(),
    };
    // ACLs are not enforced yet, which is what Consul's default `allow` policy announces.
    response.with_header("X-Consul-Default-Acl-Policy", "allow")
}

async fn dispatch<B: Backend>(
    shared: &Shared<B>,
    request: &Request,
) -> Result<Response, HttpError> {
    if request.path.chars().any(char::is_control) {
        return Err(HttpError::bad_request(format!(
            "Invalid URL path: {:?} contains non-printable characters",
            request.path
        )));
    }
    let Some(endpoint) = Endpoint::of(&request.path) else {
        let message = if request.path.starts_with("/v1/") {
            "Invalid URL path: not a recognized HTTP API endpoint"
        } else {
            "Invalid URL path: if attempting to use the HTTP API, ensure the path starts with '/v1/'"
        };
        return Err(HttpError {
            status: 404,
            message: message.to_owned(),
        });
    };
    let allow = format!("OPTIONS,{}", endpoint.methods().join(","));
    if request.method == Method::Options {
        return Ok(Response::empty(200).with_header("Allow", allow));
    }
    if !endpoint.methods().contains(&request.method.as_str()) {
        let message = format!("method {} not allowed", request.method.as_str());
        return Ok(Response::text(405, &message).with_header("Allow", allow));
    }
    let dc = request.query.get("dc").unwrap_or_default();
    if !dc.is_empty() && dc != shared.config.datacenter {
        return Err(HttpError::internal("No path to datacenter"));
    }
    match endpoint {
        Endpoint::Kv(key) => kv::handle(shared, request, key).await,
        Endpoint::StatusLeader => status::leader(shared, request).await,
        Endpoint::StatusPeers => status::peers(shared, request).await,
        Endpoint::AgentSelf => agent_self::handle(shared, request).await,
        Endpoint::RaftConfiguration => operator::configuration(shared, request).await,
        Endpoint::RaftPeer => operator::remove_peer(shared, request).await,
        Endpoint::AgentMembers => agent_members::members(shared, request).await,
        Endpoint::AgentJoin(addr) => agent_members::join(shared, request, addr).await,
        Endpoint::AgentLeave => agent_members::leave(shared, request).await,
        Endpoint::AgentForceLeave(node) => agent_members::force_leave(shared, request, node).await,
        Endpoint::AgentReload => agent_reload::reload(shared, request).await,
        Endpoint::Catalog(route) => catalog::handle(shared, request, route).await,
        Endpoint::Health(route) => health::handle(shared, request, route).await,
        Endpoint::AgentServices => agent_services::services(shared, request).await,
        Endpoint::AgentService(id) => agent_services::service(shared, request, id).await,
        Endpoint::AgentServiceRegister => agent_services::register(shared, request).await,
        Endpoint::AgentServiceDeregister(id) => {
            agent_services::deregister(shared, request, id).await
        }
        Endpoint::AgentServiceMaintenance(id) => {
            agent_services::maintenance(shared, request, id).await
        }
        Endpoint::AgentHealthById(id) => agent_services::health_by_id(shared, request, id).await,
        Endpoint::AgentHealthByName(name) => {
            agent_services::health_by_name(shared, request, name).await
        }
        Endpoint::AgentChecks => agent_checks::checks(shared, request).await,
        Endpoint::AgentCheckRegister => agent_checks::register(shared, request).await,
        Endpoint::AgentCheckDeregister(id) => agent_checks::deregister(shared, request, id).await,
        Endpoint::AgentCheckTtl(id, status) => agent_checks::ttl(shared, request, id, status).await,
        Endpoint::AgentCheckUpdate(id) => agent_checks::update(shared, request, id).await,
        Endpoint::AgentMaintenance => agent_checks::node_maintenance(shared, request).await,
    }
}

/// Go's `http.Redirect` with 301: `Location`, and a tiny HTML body for GET.
fn redirect(request: &Request, location: &str) -> Response {
    let response = Response::empty(301).with_header("Location", location);
    match request.method {
        Method::Get => {
            let body = format!(
                "<a href=\"{}\">Moved Permanently</a>.\n\n",
                html_escape(location)
            );
            response.with_body("text/html; charset=utf-8", body.into_bytes())
        }
        Method::Head => response.with_header("Content-Type", "text/html; charset=utf-8"),
        _ => response,
    }
}

fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
