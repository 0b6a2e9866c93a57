//! End to end, through the agent's local state and the catalog: the seed walkthrough (a config
//! dir with `web.json` → agent → `/v1/catalog/service/web`), and reloads that add, change and
//! remove services as `/v1/agent/services` and the catalog show them.
//!
//! Needs the agent-local services (`/v1/agent/services`, anti-entropy sync) and the catalog
//! endpoints wired to the reload's `DefinitionSink`.

mod cli_support;

use std::path::Path;
use std::time::{Duration, Instant};

use cli_support::{Agent, free_port, http, temp_dir};
use serde_json::Value;

const WEB: &str = r#"{"service": {"name": "web", "tags": ["rails"], "port": 80}}"#;

fn agent_with_config_dir(dir: &Path, node: &str) -> (Agent, u16) {
    let http = free_port();
    let mut agent = Agent::start(&[
        "-dev",
        &format!("-node={node}"),
        &format!("-config-dir={}", dir.display()),
        &format!("-http-port={http}"),
        &format!("-server-port={}", free_port()),
        "-dns-port=-1",
    ]);
    agent.wait_for("New leader elected", Duration::from_secs(10));
    (agent, http)
}

fn write(dir: &Path, file: &str, text: &str) {
    std::fs::write(dir.join(file), text).expect("write config file");
}

/// `GET target` as JSON (panics unless 200).
fn get_json(port: u16, target: &str) -> Value {
    let (status, body) = http(port, "GET", target, "");
    assert_eq!(status, 200, "GET {target}: {body}");
    serde_json::from_str(&body).expect("a JSON answer")
}

/// Polls `probe` until it returns `Some` or `limit` passes.
fn eventually<T>(limit: Duration, what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(Instant::now() < deadline, "{what} within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `/v1/agent/services` as (ID, Port) pairs, sorted by ID.
fn agent_services(port: u16) -> Vec<(String, u64)> {
    let services = get_json(port, "/v1/agent/services");
    let map = services.as_object().expect("an object of services");
    map.iter()
        .map(|(id, s)| (id.clone(), s["Port"].as_u64().expect("a port")))
        .collect()
}

#[test]
fn the_seed_walkthrough_config_dir_service_reaches_the_catalog() {
    let dir = temp_dir("seed-catalog");
    write(&dir, "web.json", WEB);
    let (agent, port) = agent_with_config_dir(&dir, "seed-node");
    let instances = eventually(Duration::from_secs(10), "web in the catalog", || {
        let answer = get_json(port, "/v1/catalog/service/web");
        let list = answer.as_array().expect("a list").clone();
        (!list.is_empty()).then_some(list)
    });
    assert_eq!(instances.len(), 1);
    let web = &instances[0];
    assert_eq!(web["Node"], "seed-node");
    assert_eq!(web["ServiceID"], "web");
    assert_eq!(web["ServiceName"], "web");
    assert_eq!(web["ServiceTags"], serde_json::json!(["rails"]));
    assert_eq!(web["ServicePort"], 80);
    let nodes = get_json(port, "/v1/catalog/nodes");
    assert!(
        nodes
            .as_array()
            .expect("a list")
            .iter()
            .any(|n| n["Node"] == "seed-node"),
        "{nodes}"
    );
    let services = get_json(port, "/v1/agent/services");
    assert_eq!(services["web"]["Service"], "web");
    assert_eq!(services["web"]["Tags"], serde_json::json!(["rails"]));
    let (status, _) = agent.terminate(Duration::from_secs(5));
    assert!(status.success(), "{status}");
}

#[test]
fn reload_adds_changes_and_removes_agent_services_and_catalog_entries() {
    let dir = temp_dir("apply-catalog");
    write(&dir, "web.json", WEB);
    write(
        &dir,
        "db.json",
        r#"{"service": {"name": "db", "port": 5432}}"#,
    );
    let (agent, port) = agent_with_config_dir(&dir, "reload-node");
    assert_eq!(
        agent_services(port),
        vec![("db".to_string(), 5432), ("web".to_string(), 80)]
    );

    write(
        &dir,
        "web.json",
        r#"{"service": {"name": "web", "tags": ["rails"], "port": 8080}}"#,
    );
    std::fs::remove_file(dir.join("db.json")).expect("remove db.json");
    write(
        &dir,
        "api.json",
        r#"{"service": {"name": "api", "port": 9000}}"#,
    );
    assert_eq!(
        http(port, "PUT", "/v1/agent/reload", ""),
        (200, String::new())
    );
    assert_eq!(
        agent_services(port),
        vec![("api".to_string(), 9000), ("web".to_string(), 8080)]
    );
    eventually(Duration::from_secs(10), "the catalog to follow", || {
        let db = get_json(port, "/v1/catalog/service/db");
        let web = get_json(port, "/v1/catalog/service/web");
        let api = get_json(port, "/v1/catalog/service/api");
        let synced = db.as_array().is_some_and(Vec::is_empty)
            && web[0]["ServicePort"] == 8080
            && api[0]["ServicePort"] == 9000;
        synced.then_some(())
    });
    let (status, _) = agent.terminate(Duration::from_secs(5));
    assert!(status.success(), "{status}");
}

#[test]
fn a_refused_reload_leaves_the_agent_services_as_they_were() {
    let dir = temp_dir("refuse-catalog");
    write(&dir, "web.json", WEB);
    let (agent, port) = agent_with_config_dir(&dir, "refuse-node");
    assert_eq!(agent_services(port), vec![("web".to_string(), 80)]);
    write(
        &dir,
        "api.json",
        r#"{"service": {"name": "api", "port": 9000}}"#,
    );
    write(&dir, "web.json", r#"{"service": {"port": 81}}"#);
    let (status, body) = http(port, "PUT", "/v1/agent/reload", "");
    assert_eq!(status, 500, "{body}");
    assert!(
        body.contains("service.name: missing service name"),
        "{body}"
    );
    assert_eq!(agent_services(port), vec![("web".to_string(), 80)]);
    let (status, _) = agent.terminate(Duration::from_secs(5));
    assert!(status.success(), "{status}");
}
