//! Maps a parsed request to its endpoint: clean-path redirects, 404 texts, OPTIONS and 405 with
//! `Allow`, `?dc`, then the handler.

use synod_core::api::http::{Method, Request, Response};

use super::backend::Backend;
use super::errors::HttpError;
use super::server::Shared;
use super::{agent_members, agent_self, catalog, health, kv, operator, status};

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
    /// `/v1/catalog/*`.
    Catalog(catalog::Route<'a>),
    /// `/v1/health/*`.
    Health(health::Route<'a>),
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
        match path {
            "/v1/status/leader" => Some(Endpoint::StatusLeader),
            "/v1/status/peers" => Some(Endpoint::StatusPeers),
            "/v1/agent/self" => Some(Endpoint::AgentSelf),
            "/v1/operator/raft/configuration" => Some(Endpoint::RaftConfiguration),
            "/v1/operator/raft/peer" => Some(Endpoint::RaftPeer),
            "/v1/agent/members" => Some(Endpoint::AgentMembers),
            "/v1/agent/leave" => Some(Endpoint::AgentLeave),
            _ => None,
        }
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
            Endpoint::Catalog(route) => route.methods(),
            Endpoint::Health(_) => health::METHODS,
        }
    }
}

/// Subtree patterns: Go's `ServeMux` redirects `/v1/kv` to `/v1/kv/`.
const SUBTREES: &[&str] = &["/v1/kv/"];

/// Answers one request.
pub async fn route<B: Backend>(shared: &Shared<B>, request: &Request) -> Response {
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
        Endpoint::Catalog(route) => catalog::handle(shared, request, route).await,
        Endpoint::Health(route) => health::handle(shared, request, route).await,
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
