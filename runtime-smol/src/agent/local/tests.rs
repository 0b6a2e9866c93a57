//! The local agent against an in-memory catalog: syncing, anti-entropy and persistence.

use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant as StdInstant};

use smol::{LocalExecutor, Timer};
use synod_core::health::definition::decode_service_body;
use synod_core::node::{ClientRequest, ClientResponse, Consistency};
use synod_core::state::catalog::types::{
    CatalogCommand, CatalogQuery, CatalogQueryResult, Check, Deregistration, HealthStatus,
    Registration, Service,
};
use synod_core::state::{Query, QueryResult};

use super::{LocalAgent, LocalConfig, node_row, start};
use crate::http::{Backend, MemoryBackend, Status};
use crate::shell::log::{Level, Log};
use crate::shell::smol_env::SmolEnv;

const NODE: &str = "n1";

fn backend() -> Arc<MemoryBackend> {
    Arc::new(MemoryBackend::new(Status {
        known_leader: true,
        ..Status::default()
    }))
}

fn config(data_dir: Option<std::path::PathBuf>) -> LocalConfig {
    LocalConfig {
        node: node_row("uuid-1", NODE, "127.0.0.1".parse().expect("ip"), "dc1"),
        data_dir,
        enable_script_checks: false,
        seed: 42,
        full_sync_interval: Duration::from_millis(100),
    }
}

fn run<F: std::future::Future<Output = ()>>(test: impl FnOnce(SmolEnv) -> F) {
    let executor = Rc::new(LocalExecutor::new());
    let env = SmolEnv::new(executor.clone());
    smol::block_on(executor.run(test(env)));
}

fn quiet() -> Log {
    Log::new(Level::Error, std::time::SystemTime::now)
}

async fn catalog_services(backend: &MemoryBackend) -> Vec<Service> {
    match read(backend, CatalogQuery::NodeServices { node: NODE.into() }).await {
        CatalogQueryResult::NodeServices(Some(found)) => {
            found.services.into_iter().map(|s| s.item).collect()
        }
        _ => Vec::new(),
    }
}

async fn catalog_checks(backend: &MemoryBackend) -> Vec<Check> {
    match read(backend, CatalogQuery::NodeChecks { node: NODE.into() }).await {
        CatalogQueryResult::Checks(checks) => checks.into_iter().map(|c| c.item).collect(),
        _ => Vec::new(),
    }
}

async fn read(backend: &MemoryBackend, query: CatalogQuery) -> CatalogQueryResult {
    let request = ClientRequest::Read {
        query: Query::Catalog(query),
        consistency: Consistency::Stale,
    };
    match backend.request(request).await {
        ClientResponse::Read {
            result: QueryResult::Catalog(result),
            ..
        } => result,
        other => panic!("unexpected read answer {other:?}"),
    }
}

async fn write(backend: &MemoryBackend, command: CatalogCommand) {
    let answer = backend.request(ClientRequest::Write(command.into())).await;
    assert!(
        matches!(answer, ClientResponse::Written { .. }),
        "{answer:?}"
    );
}

/// Polls `probe` until it holds, for at most 5 s.
async fn eventually<F, Fut>(what: &str, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = StdInstant::now() + Duration::from_secs(5);
    while !probe().await {
        assert!(StdInstant::now() < deadline, "timed out waiting for {what}");
        Timer::after(Duration::from_millis(10)).await;
    }
}

async fn register_web(agent: &LocalAgent) {
    let def = decode_service_body(br#"{"Name":"web","Port":80,"Check":{"TTL":"30s"}}"#)
        .expect("valid body");
    agent
        .register_service(def, false)
        .await
        .expect("registered");
}

#[test]
fn registered_service_and_node_reach_the_catalog() {
    run(|env| async move {
        let backend = backend();
        let agent = start(&env, backend.clone(), config(None), quiet());
        register_web(&agent).await;
        eventually("web in the catalog", || async {
            catalog_services(&backend)
                .await
                .iter()
                .any(|s| s.id == "web")
        })
        .await;
        let checks = catalog_checks(&backend).await;
        assert_eq!(checks.len(), 1);
        assert_eq!(checks[0].check_id, "service:web");
        assert_eq!(checks[0].status, HealthStatus::Critical);
    });
}

#[test]
fn ttl_pass_reaches_the_catalog() {
    run(|env| async move {
        let backend = backend();
        let agent = start(&env, backend.clone(), config(None), quiet());
        register_web(&agent).await;
        agent
            .ttl_update("service:web".into(), HealthStatus::Passing, "fine".into())
            .await
            .expect("ttl check");
        eventually("a passing check in the catalog", || async {
            catalog_checks(&backend)
                .await
                .iter()
                .any(|c| c.status == HealthStatus::Passing && c.output == "fine")
        })
        .await;
    });
}

#[test]
fn service_deleted_in_the_catalog_comes_back_and_strays_go() {
    run(|env| async move {
        let backend = backend();
        let agent = start(&env, backend.clone(), config(None), quiet());
        register_web(&agent).await;
        eventually("web in the catalog", || async {
            catalog_services(&backend)
                .await
                .iter()
                .any(|s| s.id == "web")
        })
        .await;
        write(
            &backend,
            CatalogCommand::Deregister(Deregistration {
                node: NODE.into(),
                service_id: Some("web".into()),
                check_id: None,
            }),
        )
        .await;
        let stray = Service {
            id: "stray".into(),
            service: "stray".into(),
            ..Service::default()
        };
        write(
            &backend,
            CatalogCommand::Register(Box::new(Registration {
                node: config(None).node,
                skip_node_update: true,
                service: Some(stray),
                checks: vec![],
            })),
        )
        .await;
        eventually("web restored and stray removed", || async {
            let ids: Vec<String> = catalog_services(&backend)
                .await
                .into_iter()
                .map(|s| s.id)
                .collect();
            ids == vec!["web".to_owned()]
        })
        .await;
    });
}

#[test]
fn api_registrations_survive_a_restart_but_deregistered_ones_do_not() {
    let dir = std::env::temp_dir().join(format!(
        "synod-local-agent-{}-{}",
        std::process::id(),
        StdInstant::now().elapsed().as_nanos()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let first_dir = dir.clone();
    run(|env| async move {
        let agent = start(&env, backend(), config(Some(first_dir)), quiet());
        register_web(&agent).await;
        let db = decode_service_body(br#"{"Name":"db"}"#).expect("valid");
        agent.register_service(db, false).await.expect("registered");
        agent
            .deregister_service("db".into())
            .await
            .expect("deregistered");
    });
    let second_dir = dir.clone();
    run(|env| async move {
        let agent = start(&env, backend(), config(Some(second_dir)), quiet());
        let services = agent.services().await.expect("running");
        let ids: Vec<&str> = services.iter().map(|s| s.def.id.as_str()).collect();
        assert_eq!(ids, vec!["web"]);
        let checks = agent.checks().await.expect("running");
        assert_eq!(checks.len(), 1);
        assert_eq!(checks[0].row.check_id, "service:web");
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn script_checks_over_the_api_need_enable_script_checks() {
    run(|env| async move {
        let agent = start(&env, backend(), config(None), quiet());
        let def = decode_service_body(
            br#"{"Name":"web","Check":{"Args":["/bin/true"],"Interval":"10s"}}"#,
        )
        .expect("valid");
        let refused = agent.register_service(def, false).await;
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.to_string().contains("enable_script_checks")),
            "{refused:?}"
        );
    });
}
