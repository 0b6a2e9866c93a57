//! `/v1/catalog/*`: register and deregister (PUT), datacenters, nodes, services,
//! `service/<name>`, `node/<node>` and `node-services/<node>` (GET, blocking-capable).

use synod_core::api::http::{Request, Response};
use synod_core::node::{ClientRequest, ClientResponse};
use synod_core::state::CommandResult;
use synod_core::state::catalog::types::{
    CatalogCommand, CatalogCommandResult, CatalogQuery, CatalogQueryResult,
};

use super::backend::Backend;
use super::catalog_body::{decode_deregistration, decode_registration};
use super::catalog_json::{NodeJson, NodeServiceListJson, NodeServicesJson, ServiceNodeJson};
use super::catalog_read::{self, encode, mismatched, node_meta, tags};
use super::errors::HttpError;
use super::server::Shared;

/// Methods of the write endpoints.
pub const PUT_METHODS: &[&str] = &["PUT"];
/// Methods of the read endpoints.
pub const GET_METHODS: &[&str] = &["GET"];

/// A `/v1/catalog/` endpoint; names are the decoded path rest (maybe empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route<'a> {
    /// `register`.
    Register,
    /// `deregister`.
    Deregister,
    /// `datacenters`.
    Datacenters,
    /// `nodes`.
    Nodes,
    /// `services`.
    Services,
    /// `service/<name>`.
    Service(&'a str),
    /// `node/<node>`.
    Node(&'a str),
    /// `node-services/<node>`.
    NodeServices(&'a str),
}

impl<'a> Route<'a> {
    /// The endpoint at `path`, if it is a catalog one.
    pub fn of(path: &'a str) -> Option<Self> {
        let rest = path.strip_prefix("/v1/catalog/")?;
        if let Some(name) = rest.strip_prefix("service/") {
            return Some(Route::Service(name));
        }
        if let Some(node) = rest.strip_prefix("node/") {
            return Some(Route::Node(node));
        }
        if let Some(node) = rest.strip_prefix("node-services/") {
            return Some(Route::NodeServices(node));
        }
        match rest {
            "register" => Some(Route::Register),
            "deregister" => Some(Route::Deregister),
            "datacenters" => Some(Route::Datacenters),
            "nodes" => Some(Route::Nodes),
            "services" => Some(Route::Services),
            _ => None,
        }
    }

    /// Methods the endpoint accepts.
    pub fn methods(&self) -> &'static [&'static str] {
        match self {
            Route::Register | Route::Deregister => PUT_METHODS,
            _ => GET_METHODS,
        }
    }
}

/// Answers one catalog request.
pub async fn handle<B: Backend>(
    shared: &Shared<B>,
    request: &Request,
    route: Route<'_>,
) -> Result<Response, HttpError> {
    match route {
        Route::Register => {
            let registration = decode_registration(&request.body, &shared.config.datacenter)?;
            write(shared, CatalogCommand::Register(Box::new(registration))).await
        }
        Route::Deregister => {
            let deregistration = decode_deregistration(&request.body, &shared.config.datacenter)?;
            write(shared, CatalogCommand::Deregister(deregistration)).await
        }
        Route::Datacenters => datacenters(shared, request).await,
        Route::Nodes => nodes(shared, request).await,
        Route::Services => services(shared, request).await,
        Route::Service(name) => service_nodes(shared, request, name).await,
        Route::Node(node) => node_services(shared, request, node, false).await,
        Route::NodeServices(node) => node_services(shared, request, node, true).await,
    }
}

/// Runs a catalog write through Raft; `true` once applied.
async fn write<B: Backend>(
    shared: &Shared<B>,
    command: CatalogCommand,
) -> Result<Response, HttpError> {
    match shared
        .backend
        .request(ClientRequest::Write(command.into()))
        .await
    {
        ClientResponse::Written {
            result: CommandResult::Catalog(CatalogCommandResult::Done),
            ..
        } => Ok(Response::json(200, b"true".to_vec())),
        // Consul's RPC errors answer 500 with their text.
        ClientResponse::Written {
            result: CommandResult::Catalog(CatalogCommandResult::Rejected(why)),
            ..
        } => Err(HttpError::internal(why.to_string())),
        ClientResponse::Failed(error) => Err(error.into()),
        ClientResponse::Written { .. } | ClientResponse::Read { .. } => Err(HttpError::internal(
            "a catalog write was answered with another result",
        )),
    }
}

/// The local datacenter first, then the others known over the WAN, sorted.
async fn datacenters<B: Backend>(
    shared: &Shared<B>,
    request: &Request,
) -> Result<Response, HttpError> {
    let local = shared.config.datacenter.clone();
    let mut others = shared.backend.wan_datacenters().await;
    others.retain(|dc| *dc != local);
    others.sort();
    others.dedup();
    let all: Vec<String> = std::iter::once(local).chain(others).collect();
    Ok(Response::json(200, encode(&all, request)?))
}

async fn nodes<B: Backend>(shared: &Shared<B>, request: &Request) -> Result<Response, HttpError> {
    let query = CatalogQuery::Nodes {
        node_meta: node_meta(&request.query),
    };
    let answer = catalog_read::run(shared, request, query).await?;
    let CatalogQueryResult::Nodes(nodes) = &answer.result else {
        return Err(mismatched());
    };
    let json: Vec<NodeJson<'_>> = nodes.iter().map(NodeJson::from).collect();
    catalog_read::respond(shared, request, &answer, &json).await
}

async fn services<B: Backend>(
    shared: &Shared<B>,
    request: &Request,
) -> Result<Response, HttpError> {
    let query = CatalogQuery::Services {
        node_meta: node_meta(&request.query),
    };
    let answer = catalog_read::run(shared, request, query).await?;
    let CatalogQueryResult::Services(services) = &answer.result else {
        return Err(mismatched());
    };
    catalog_read::respond(shared, request, &answer, services).await
}

async fn service_nodes<B: Backend>(
    shared: &Shared<B>,
    request: &Request,
    name: &str,
) -> Result<Response, HttpError> {
    if name.is_empty() {
        return Err(HttpError::bad_request("Missing service name"));
    }
    let query = CatalogQuery::ServiceNodes {
        service: name.to_owned(),
        tags: tags(&request.query),
        node_meta: node_meta(&request.query),
    };
    let answer = catalog_read::run(shared, request, query).await?;
    let CatalogQueryResult::ServiceNodes(rows) = &answer.result else {
        return Err(mismatched());
    };
    let json: Vec<ServiceNodeJson<'_>> = rows.iter().map(ServiceNodeJson::from).collect();
    catalog_read::respond(shared, request, &answer, &json).await
}

/// `node/<n>` (services by ID, `null` for an unknown node) or `node-services/<n>` (a list).
async fn node_services<B: Backend>(
    shared: &Shared<B>,
    request: &Request,
    node: &str,
    as_list: bool,
) -> Result<Response, HttpError> {
    if node.is_empty() {
        return Err(HttpError::bad_request("Missing node name"));
    }
    let query = CatalogQuery::NodeServices {
        node: node.to_owned(),
    };
    let answer = catalog_read::run(shared, request, query).await?;
    let CatalogQueryResult::NodeServices(found) = &answer.result else {
        return Err(mismatched());
    };
    if as_list {
        let json = NodeServiceListJson::from(found.as_ref());
        catalog_read::respond(shared, request, &answer, &json).await
    } else {
        let json = found.as_ref().map(NodeServicesJson::from);
        catalog_read::respond(shared, request, &answer, &json).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_cover_every_catalog_endpoint_with_its_methods() {
        assert_eq!(Route::of("/v1/catalog/register"), Some(Route::Register));
        assert_eq!(Route::of("/v1/catalog/nodes"), Some(Route::Nodes));
        assert_eq!(
            Route::of("/v1/catalog/service/web"),
            Some(Route::Service("web"))
        );
        assert_eq!(Route::of("/v1/catalog/node/"), Some(Route::Node("")));
        assert_eq!(
            Route::of("/v1/catalog/node-services/n1"),
            Some(Route::NodeServices("n1"))
        );
        assert_eq!(Route::of("/v1/catalog/nodes/x"), None);
        assert_eq!(Route::of("/v1/kv/x"), None);
        assert_eq!(Route::Register.methods(), ["PUT"]);
        assert_eq!(Route::Datacenters.methods(), ["GET"]);
    }
}
