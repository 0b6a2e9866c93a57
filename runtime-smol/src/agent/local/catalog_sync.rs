//! Anti-entropy's two catalog operations, over the generic [`Backend`] (so they work the same
//! on servers and on client agents that forward to servers): read the catalog's view of this
//! node, and write a batch of catalog commands.

use std::sync::Arc;

use synod_core::agent::NodeView;
use synod_core::node::{ClientRequest, ClientResponse, Consistency};
use synod_core::state::catalog::types::{
    CatalogCommand, CatalogCommandResult, CatalogQuery, CatalogQueryResult,
};
use synod_core::state::{CommandResult, Query, QueryResult};

use crate::http::Backend;
use crate::http::errors::HttpError;
use crate::shell::Env;
use crate::shell::smol_env::SmolEnv;

/// The catalog's node row, services and checks for `node`.
pub(super) async fn read_node_view<B: Backend>(
    backend: &B,
    node: &str,
) -> Result<NodeView, String> {
    let services = read(
        backend,
        CatalogQuery::NodeServices {
            node: node.to_owned(),
        },
    )
    .await?;
    let checks = read(
        backend,
        CatalogQuery::NodeChecks {
            node: node.to_owned(),
        },
    )
    .await?;
    let mut view = NodeView::default();
    if let CatalogQueryResult::NodeServices(Some(found)) = services {
        view.node = Some(found.node.item);
        view.services = found.services.into_iter().map(|s| s.item).collect();
    }
    if let CatalogQueryResult::Checks(checks) = checks {
        view.checks = checks.into_iter().map(|c| c.item).collect();
    }
    Ok(view)
}

async fn read<B: Backend>(backend: &B, query: CatalogQuery) -> Result<CatalogQueryResult, String> {
    let request = ClientRequest::Read {
        query: Query::Catalog(query),
        consistency: Consistency::Default,
    };
    match backend.request(request).await {
        ClientResponse::Read {
            result: QueryResult::Catalog(result),
            ..
        } => Ok(result),
        ClientResponse::Failed(e) => Err(HttpError::from(e).message),
        other => Err(format!("unexpected answer to a catalog read: {other:?}")),
    }
}

/// Writes every command concurrently (they never depend on each other: a batch touches each
/// service or check once); the first failure, if any.
pub(super) async fn write_all<B: Backend>(
    env: &SmolEnv,
    backend: &Arc<B>,
    commands: Vec<CatalogCommand>,
) -> Result<(), String> {
    let count = commands.len();
    let (done, results) = async_channel::bounded(count.max(1));
    for command in commands {
        let backend = Arc::clone(backend);
        let done = done.clone();
        env.spawn(async move {
            let outcome = write(&*backend, command).await;
            let _ = done.send(outcome).await;
        });
    }
    let mut first_error = None;
    for _ in 0..count {
        let outcome = results
            .recv()
            .await
            .unwrap_or_else(|_| Err("catalog write abandoned".to_owned()));
        if let Err(e) = outcome {
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}

async fn write<B: Backend>(backend: &B, command: CatalogCommand) -> Result<(), String> {
    match backend.request(ClientRequest::Write(command.into())).await {
        ClientResponse::Written {
            result: CommandResult::Catalog(CatalogCommandResult::Done),
            ..
        } => Ok(()),
        ClientResponse::Written {
            result: CommandResult::Catalog(CatalogCommandResult::Rejected(e)),
            ..
        } => Err(format!("catalog refused the write: {e}")),
        ClientResponse::Failed(e) => Err(HttpError::from(e).message),
        other => Err(format!("unexpected answer to a catalog write: {other:?}")),
    }
}
