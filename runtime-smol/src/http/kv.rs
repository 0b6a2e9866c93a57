//! `/v1/kv/<key>`: GET (single, `recurse`, `keys`, `raw`, blocking), PUT (`flags`, `cas`) and
//! DELETE (`recurse`, `cas`), with Consul's JSON, status codes and headers.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use serde::Serialize;
use synod_core::api::http::{Method, Query, Request, Response};
use synod_core::node::{ClientRequest, ClientResponse, Consistency};
use synod_core::state::kv_types::{KvCommand, KvCommandResult, KvEntry, KvQuery, KvQueryResult};
use synod_core::state::{CommandResult, QueryResult};

use super::backend::{Backend, Status};
use super::blocking::{parse_blocking, parse_go_uint, read};
use super::errors::HttpError;
use super::json;
use super::server::Shared;

/// Methods `/v1/kv/` accepts.
pub const METHODS: &[&str] = &["GET", "PUT", "DELETE"];

/// Handles one KV request; `key` is the decoded path after `/v1/kv/`.
pub async fn handle<B: Backend>(
    shared: &Shared<B>,
    request: &Request,
    key: &str,
) -> Result<Response, HttpError> {
    match request.method {
        Method::Get => get(shared, request, key).await,
        Method::Put => put(shared, request, key).await,
        Method::Delete => delete(shared, request, key).await,
        _ => Err(HttpError {
            status: 405,
            message: format!("method {} not allowed", request.method.as_str()),
        }),
    }
}

/// Consul's DirEntry JSON, fields in Go struct order; `Session` only while a lock is held.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EntryJson<'a> {
    lock_index: u64,
    key: &'a str,
    flags: u64,
    value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session: Option<&'a str>,
    create_index: u64,
    modify_index: u64,
}

impl<'a> From<&'a KvEntry> for EntryJson<'a> {
    fn from(entry: &'a KvEntry) -> Self {
        EntryJson {
            lock_index: entry.lock_index,
            key: &entry.key,
            flags: entry.flags,
            // Go marshals a nil []byte as null; an empty stored value is Consul's nil.
            value: (!entry.value.is_empty()).then(|| BASE64.encode(&entry.value)),
            session: entry.session.as_deref(),
            create_index: entry.create_index,
            modify_index: entry.modify_index,
        }
    }
}

/// `?stale` / `?consistent` / neither.
pub fn parse_consistency(query: &Query) -> Result<Consistency, HttpError> {
    match (query.has("stale"), query.has("consistent")) {
        (true, true) => Err(HttpError::bad_request(
            "Cannot specify ?stale with ?consistent, conflicting semantics.",
        )),
        (true, false) => Ok(Consistency::Stale),
        (false, true) => Ok(Consistency::Consistent),
        (false, false) => Ok(Consistency::Default),
    }
}

/// The headers every state-store read carries. The index is never 0 (Consul rewrites it to 1 so
/// clients never spin on `index=0`).
pub fn with_read_meta(
    response: Response,
    index: u64,
    status: &Status,
    consistency: Consistency,
) -> Response {
    let effective = match consistency {
        Consistency::Default => "leader",
        Consistency::Stale => "stale",
        Consistency::Consistent => "consistent",
    };
    response
        .with_header("X-Consul-Index", index.max(1).to_string())
        .with_header("X-Consul-Knownleader", status.known_leader.to_string())
        .with_header(
            "X-Consul-Lastcontact",
            status.last_contact.as_millis().to_string(),
        )
        .with_header("X-Consul-Effective-Consistency", effective)
}

fn missing_key() -> HttpError {
    HttpError::bad_request("Missing key name")
}

/// At most one of `flags` may be present (Consul: `Conflicting flags: <sorted query>`).
fn reject_conflicting(query: &Query, flags: &[&str]) -> Result<(), HttpError> {
    if flags.iter().filter(|f| query.has(f)).count() > 1 {
        return Err(HttpError::bad_request(format!(
            "Conflicting flags: {}",
            query.encode()
        )));
    }
    Ok(())
}

/// An unsigned numeric parameter, if present.
fn uint_param(query: &Query, name: &str) -> Result<Option<u64>, HttpError> {
    query
        .get(name)
        .map(|text| {
            parse_go_uint(text)
                .ok_or_else(|| HttpError::bad_request(format!("Invalid {name} value: {text:?}")))
        })
        .transpose()
}

async fn get<B: Backend>(
    shared: &Shared<B>,
    request: &Request,
    key: &str,
) -> Result<Response, HttpError> {
    let params = &request.query;
    let consistency = parse_consistency(params)?;
    let blocking = parse_blocking(params, shared.config.query_times, &shared.rng)?;
    let query = if params.has("keys") {
        let separator = params
            .get("separator")
            .or_else(|| params.get("seperator"))
            .filter(|s| !s.is_empty());
        KvQuery::Keys {
            prefix: key.to_owned(),
            separator: separator.map(str::to_owned),
        }
    } else if params.has("recurse") {
        KvQuery::List {
            prefix: key.to_owned(),
        }
    } else if key.is_empty() {
        return Err(missing_key());
    } else {
        KvQuery::Get {
            key: key.to_owned(),
        }
    };
    let single = matches!(query, KvQuery::Get { .. });
    let (index, result) = match read(&*shared.backend, query.into(), consistency, blocking).await {
        ClientResponse::Read {
            index,
            result: QueryResult::Kv(result),
        } => (index, result),
        ClientResponse::Failed(error) => return Err(error.into()),
        ClientResponse::Read { .. } | ClientResponse::Written { .. } => {
            return Err(HttpError::internal(
                "a KV read was answered with another result",
            ));
        }
    };
    let pretty = params.has("pretty");
    let body = match result {
        // The root listing is the one empty answer that is not a 404.
        KvQueryResult::Keys(keys) if keys.is_empty() && !key.is_empty() => Response::empty(404),
        KvQueryResult::Keys(keys) => Response::json(200, encode(&keys, pretty)?),
        KvQueryResult::Entries(entries) => match entries.first() {
            None => Response::empty(404),
            Some(entry) if single && params.has("raw") => raw_value(entry),
            Some(_) => {
                let json: Vec<EntryJson<'_>> = entries.iter().map(EntryJson::from).collect();
                Response::json(200, encode(&json, pretty)?)
            }
        },
    };
    let status = shared.backend.status().await;
    Ok(with_read_meta(body, index, &status, consistency))
}

/// `?raw`: the stored bytes as they are, fenced off from browsers (CVE-2020-25864).
fn raw_value(entry: &KvEntry) -> Response {
    Response::empty(200)
        .with_body("text/plain", entry.value.to_vec())
        .with_header("X-Content-Type-Options", "nosniff")
        .with_header("Content-Security-Policy", "sandbox")
}

fn encode<T: Serialize + ?Sized>(value: &T, pretty: bool) -> Result<Vec<u8>, HttpError> {
    json::encode(value, pretty).map_err(|e| HttpError::internal(format!("encoding response: {e}")))
}

fn bool_response(value: bool) -> Response {
    Response::json(
        200,
        if value {
            b"true".to_vec()
        } else {
            b"false".to_vec()
        },
    )
}

async fn write<B: Backend>(shared: &Shared<B>, command: KvCommand) -> Result<bool, HttpError> {
    match shared
        .backend
        .request(ClientRequest::Write(command.into()))
        .await
    {
        ClientResponse::Written {
            result: CommandResult::Kv(KvCommandResult::Done(done)),
            ..
        } => Ok(done),
        ClientResponse::Failed(error) => Err(error.into()),
        ClientResponse::Read { .. } | ClientResponse::Written { .. } => Err(HttpError::internal(
            "a KV write was answered with another result",
        )),
    }
}

async fn put<B: Backend>(
    shared: &Shared<B>,
    request: &Request,
    key: &str,
) -> Result<Response, HttpError> {
    let params = &request.query;
    if key.is_empty() {
        return Err(missing_key());
    }
    reject_conflicting(params, &["cas", "acquire", "release"])?;
    let flags = uint_param(params, "flags")?.unwrap_or(0);
    let cas = uint_param(params, "cas")?;
    if let Some(session) = params.get("acquire").or_else(|| params.get("release")) {
        // Consul answers an unknown session with 500 `Invalid session "<id>"`; no session can be
        // known until sessions are implemented.
        return Err(HttpError::internal(format!(
            "Invalid session {session:?}: sessions are not supported yet"
        )));
    }
    let value = Bytes::from(request.body.clone());
    let key = key.to_owned();
    let command = match cas {
        Some(index) => KvCommand::Cas {
            key,
            value,
            flags,
            index,
        },
        None => KvCommand::Set { key, value, flags },
    };
    let done = write(shared, command).await?;
    // A plain set reports success regardless; only CAS reports its outcome.
    Ok(bool_response(cas.is_none() || done))
}

async fn delete<B: Backend>(
    shared: &Shared<B>,
    request: &Request,
    key: &str,
) -> Result<Response, HttpError> {
    let params = &request.query;
    reject_conflicting(params, &["recurse", "cas"])?;
    let cas = uint_param(params, "cas")?;
    let command = if params.has("recurse") {
        KvCommand::DeleteTree {
            prefix: key.to_owned(),
        }
    } else if key.is_empty() {
        return Err(missing_key());
    } else if let Some(index) = cas {
        KvCommand::DeleteCas {
            key: key.to_owned(),
            index,
        }
    } else {
        KvCommand::Delete {
            key: key.to_owned(),
        }
    };
    let done = write(shared, command).await?;
    Ok(bool_response(cas.is_none() || done))
}
