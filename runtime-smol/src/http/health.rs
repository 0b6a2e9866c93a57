//! `/v1/health/*`: `node/<node>`, `checks/<service>`, `service/<service>` (`passing`, `tag`,
//! `node-meta`) and `state/<state>` (GET, blocking-capable).

use synod_core::api::http::{Query, Request, Response};
use synod_core::state::catalog::types::{
    CatalogQuery, CatalogQueryResult, CheckStateFilter, HealthStatus,
};

use super::backend::Backend;
use super::catalog_json::{CheckServiceNodeJson, HealthCheckJson};
use super::catalog_read::{self, mismatched, node_meta, tags};
use super::errors::HttpError;
use super::server::Shared;

/// Methods the health endpoints accept.
pub const METHODS: &[&str] = &["GET"];

/// A `/v1/health/` endpoint; the argument is the decoded path rest (maybe empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route<'a> {
    /// `node/<node>`.
    Node(&'a str),
    /// `checks/<service>`.
    Checks(&'a str),
    /// `service/<service>`.
    Service(&'a str),
    /// `state/<state>`.
    State(&'a str),
}

impl<'a> Route<'a> {
    /// The endpoint at `path`, if it is a health one.
    pub fn of(path: &'a str) -> Option<Self> {
        let rest = path.strip_prefix("/v1/health/")?;
        let (kind, arg) = rest.split_once('/')?;
        match kind {
            "node" => Some(Route::Node(arg)),
            "checks" => Some(Route::Checks(arg)),
            "service" => Some(Route::Service(arg)),
            "state" => Some(Route::State(arg)),
            _ => None,
        }
    }
}

/// Answers one health request.
pub async fn handle<B: Backend>(
    shared: &Shared<B>,
    request: &Request,
    route: Route<'_>,
) -> Result<Response, HttpError> {
    let params = &request.query;
    let query = match route {
        Route::Node(node) => CatalogQuery::NodeChecks {
            node: required(node, "Missing node name")?,
        },
        Route::Checks(service) => CatalogQuery::ServiceChecks {
            service: required(service, "Missing service name")?,
            node_meta: node_meta(params),
        },
        Route::State(state) => CatalogQuery::ChecksInState {
            state: check_state(state)?,
            node_meta: node_meta(params),
        },
        Route::Service(service) => {
            let service = required(service, "Missing service name")?;
            CatalogQuery::ServiceHealth {
                service,
                tags: tags(params),
                node_meta: node_meta(params),
                passing_only: passing(params)?,
            }
        }
    };
    let answer = catalog_read::run(shared, request, query).await?;
    match &answer.result {
        CatalogQueryResult::Checks(checks) => {
            let json: Vec<HealthCheckJson<'_>> = checks.iter().map(HealthCheckJson::from).collect();
            catalog_read::respond(shared, request, &answer, &json).await
        }
        CatalogQueryResult::ServiceHealth(entries) => {
            let json: Vec<CheckServiceNodeJson<'_>> =
                entries.iter().map(CheckServiceNodeJson::from).collect();
            catalog_read::respond(shared, request, &answer, &json).await
        }
        _ => Err(mismatched()),
    }
}

fn required(name: &str, missing: &str) -> Result<String, HttpError> {
    if name.is_empty() {
        Err(HttpError::bad_request(missing))
    } else {
        Ok(name.to_owned())
    }
}

/// `any`, `passing`, `warning` or `critical`.
pub fn check_state(state: &str) -> Result<CheckStateFilter, HttpError> {
    match state {
        "" => Err(HttpError::bad_request("Missing check state")),
        "any" => Ok(CheckStateFilter::Any),
        "passing" => Ok(CheckStateFilter::Only(HealthStatus::Passing)),
        "warning" => Ok(CheckStateFilter::Only(HealthStatus::Warning)),
        "critical" => Ok(CheckStateFilter::Only(HealthStatus::Critical)),
        _ => Err(HttpError::bad_request(format!(
            "Invalid check state {state:?}: must be one of any, passing, warning, critical"
        ))),
    }
}

/// `?passing`: present without a value means true; otherwise Go's `strconv.ParseBool`.
pub fn passing(query: &Query) -> Result<bool, HttpError> {
    let Some(value) = query.get("passing") else {
        return Ok(false);
    };
    match value {
        "" | "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err(HttpError::bad_request("Invalid value for ?passing")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_split_kind_and_argument() {
        assert_eq!(
            Route::of("/v1/health/service/web"),
            Some(Route::Service("web"))
        );
        assert_eq!(Route::of("/v1/health/state/"), Some(Route::State("")));
        assert_eq!(Route::of("/v1/health/node/a/b"), Some(Route::Node("a/b")));
        assert_eq!(Route::of("/v1/health/service"), None);
        assert_eq!(Route::of("/v1/health/other/x"), None);
    }

    #[test]
    fn check_state_accepts_the_four_states_and_rejects_others_with_400() {
        assert_eq!(check_state("any"), Ok(CheckStateFilter::Any));
        assert_eq!(
            check_state("critical"),
            Ok(CheckStateFilter::Only(HealthStatus::Critical))
        );
        assert_eq!(
            check_state(""),
            Err(HttpError::bad_request("Missing check state"))
        );
        assert_eq!(check_state("maintenance").map_err(|e| e.status), Err(400));
    }

    #[test]
    fn passing_reads_like_go_parse_bool() {
        let q = |raw: &str| passing(&Query::parse(raw).unwrap());
        assert_eq!(q(""), Ok(false));
        assert_eq!(q("passing"), Ok(true));
        assert_eq!(q("passing=true"), Ok(true));
        assert_eq!(q("passing=0"), Ok(false));
        assert_eq!(
            q("passing=maybe"),
            Err(HttpError::bad_request("Invalid value for ?passing"))
        );
    }
}
