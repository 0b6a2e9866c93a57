//! What every catalog and health read shares: `node-meta` and `tag` parameters, running the read
//! with blocking and consistency, and answering JSON with the read headers.

use serde::Serialize;
use synod_core::api::http::{Query, Request, Response};
use synod_core::node::{ClientResponse, Consistency};
use synod_core::state::QueryResult;
use synod_core::state::catalog::types::{CatalogQuery, CatalogQueryResult, NodeMetaFilter};

use super::backend::Backend;
use super::blocking::{parse_blocking, read};
use super::errors::HttpError;
use super::json;
use super::kv::{parse_consistency, with_read_meta};
use super::server::Shared;

/// A catalog read's answer with what its response headers need.
pub struct CatalogAnswer {
    /// What the read found.
    pub result: CatalogQueryResult,
    /// Its blocking-query index.
    pub index: u64,
    consistency: Consistency,
}

/// Consul's `node-meta=key:value` (repeatable); a pair without `:` filters on an empty value.
pub fn node_meta(query: &Query) -> NodeMetaFilter {
    query
        .all("node-meta")
        .map(|pair| match pair.split_once(':') {
            Some((key, value)) => (key.to_owned(), value.to_owned()),
            None => (pair.to_owned(), String::new()),
        })
        .collect()
}

/// Every `tag=` value (each one must match).
pub fn tags(query: &Query) -> Vec<String> {
    query.all("tag").map(str::to_owned).collect()
}

/// Runs `query` with the request's `index`/`wait` and `stale`/`consistent`.
pub async fn run<B: Backend>(
    shared: &Shared<B>,
    request: &Request,
    query: CatalogQuery,
) -> Result<CatalogAnswer, HttpError> {
    let params = &request.query;
    let consistency = parse_consistency(params)?;
    let blocking = parse_blocking(params, shared.config.query_times, &shared.rng)?;
    match read(&*shared.backend, query.into(), consistency, blocking).await {
        ClientResponse::Read {
            index,
            result: QueryResult::Catalog(result),
        } => Ok(CatalogAnswer {
            result,
            index,
            consistency,
        }),
        ClientResponse::Failed(error) => Err(error.into()),
        ClientResponse::Read { .. } | ClientResponse::Written { .. } => Err(mismatched()),
    }
}

/// Answers `value` as JSON (`?pretty` honoured) with the read headers of `answer`.
pub async fn respond<B: Backend, T: Serialize + ?Sized>(
    shared: &Shared<B>,
    request: &Request,
    answer: &CatalogAnswer,
    value: &T,
) -> Result<Response, HttpError> {
    let body = encode(value, request)?;
    let status = shared.backend.status().await;
    Ok(with_read_meta(
        Response::json(200, body),
        answer.index,
        &status,
        answer.consistency,
    ))
}

/// JSON bytes for `value`, indented under `?pretty`.
pub fn encode<T: Serialize + ?Sized>(value: &T, request: &Request) -> Result<Vec<u8>, HttpError> {
    json::encode(value, request.query.has("pretty"))
        .map_err(|e| HttpError::internal(format!("encoding response: {e}")))
}

/// The error for a read answered with the wrong kind of result.
pub fn mismatched() -> HttpError {
    HttpError::internal("a catalog read was answered with another result")
}
