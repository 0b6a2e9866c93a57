//! End to end: config-file service definitions are validated at start (file, key, reason), and
//! `synod reload`, `PUT /v1/agent/reload` and SIGHUP re-read them: additions, changes and
//! removals are applied, an invalid file refuses the reload and keeps what was running.
//!
//! The effects show both in the agent's log lines and in `/v1/agent/services` and the catalog
//! (the seed walkthrough: a config dir with `web.json` → agent → `/v1/catalog/service/web`).

mod cli_support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use cli_support::{Agent, free_port, http, run_to_end, synod_binary, temp_dir};
use serde_json::Value;

const WEB: &str = r#"{"service": {"name": "web", "tags": ["rails"], "port": 80}}"#;

/// A dev agent named `node` reading `dir`; its HTTP port.
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

/// `synod reload` against `http`: (exit code, stdout, stderr).
fn synod_reload(http: u16) -> (i32, String, String) {
    let out = Command::new(synod_binary())
        .args(["reload", &format!("-http-addr=127.0.0.1:{http}")])
        .env_remove("CONSUL_HTTP_ADDR")
        .env_remove("SYNOD_HTTP_ADDR")
        .output()
        .expect("run synod reload");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write(dir: &Path, file: &str, text: &str) {
    std::fs::write(dir.join(file), text).expect("write config file");
}

#[test]
fn the_seed_walkthrough_config_dir_is_accepted_and_reload_answers_200() {
    let dir = temp_dir("seed");
    write(&dir, "web.json", WEB);
    let (mut agent, http_port) = agent_with_config_dir(&dir, "reload");
    agent.wait_for(
        "agent: config definitions: services=[web] checks=[]",
        Duration::from_secs(1),
    );
    assert_eq!(
        http(http_port, "PUT", "/v1/agent/reload", ""),
        (200, String::new())
    );
    agent.wait_for(
        "config reloaded: added=[] changed=[] removed=[]",
        Duration::from_secs(5),
    );
    let (status, body) = http(http_port, "GET", "/v1/agent/reload", "");
    assert_eq!(
        (status, body.as_str()),
        (405, "method GET not allowed"),
        "reload is PUT only"
    );
    let (status, _) = agent.terminate(Duration::from_secs(5));
    assert!(status.success(), "{status}");
}

#[test]
fn synod_reload_adds_changes_and_removes_services_and_applies_the_log_level() {
    let dir = temp_dir("apply");
    write(&dir, "web.json", WEB);
    write(
        &dir,
        "db.json",
        r#"{"service": {"name": "db", "port": 5432}}"#,
    );
    write(&dir, "agent.json", r#"{"log_level": "info"}"#);
    let (mut agent, http_port) = agent_with_config_dir(&dir, "reload");
    agent.wait_for(
        "config definitions: services=[db,web] checks=[]",
        Duration::from_secs(1),
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
        r#"{"service": {"name": "api", "port": 9000, "check": {"ttl": "30s"}}}"#,
    );
    write(&dir, "agent.json", r#"{"log_level": "debug"}"#);
    assert_eq!(
        synod_reload(http_port),
        (
            0,
            "Configuration reload triggered\n".to_string(),
            String::new()
        )
    );
    agent.wait_for(
        "config reloaded: added=[api] changed=[web] removed=[db]",
        Duration::from_secs(5),
    );
    agent.wait_for("log level changed: log_level=Debug", Duration::from_secs(1));
    let (status, _) = agent.terminate(Duration::from_secs(5));
    assert!(status.success(), "{status}");
}

#[test]
fn an_invalid_file_refuses_the_reload_with_file_key_and_reason_and_keeps_the_running_definitions() {
    let dir = temp_dir("refuse");
    write(&dir, "web.json", WEB);
    let (mut agent, http_port) = agent_with_config_dir(&dir, "reload");
    agent.wait_for("services=[web]", Duration::from_secs(1));

    let bad = dir.join("web.json");
    write(
        &dir,
        "web.json",
        r#"{"service": {"name": "web", "port": "eighty"}}"#,
    );
    let (status, body) = http(http_port, "PUT", "/v1/agent/reload", "");
    assert_eq!(status, 500);
    let reason = format!("Error parsing {}: service.port: ", bad.display());
    assert!(body.starts_with(&reason), "{body}");
    let (code, stdout, stderr) = synod_reload(http_port);
    assert_eq!((code, stdout.as_str()), (1, ""));
    assert!(
        stderr.starts_with(&format!(
            "Error reloading: Unexpected response code: 500 ({reason}"
        )),
        "{stderr}"
    );
    agent.wait_for(
        "Failed to reload configs: Error parsing",
        Duration::from_secs(1),
    );

    // Back to the original file: nothing differs from what kept running.
    write(&dir, "web.json", WEB);
    assert_eq!(synod_reload(http_port).0, 0);
    agent.wait_for(
        "config reloaded: added=[] changed=[] removed=[]",
        Duration::from_secs(5),
    );
    let (status, _) = agent.terminate(Duration::from_secs(5));
    assert!(status.success(), "{status}");
}

#[test]
fn sighup_reloads_the_config_and_the_agent_keeps_running() {
    let dir = temp_dir("sighup");
    write(&dir, "web.json", WEB);
    let (mut agent, http_port) = agent_with_config_dir(&dir, "reload");
    agent.wait_for("services=[web]", Duration::from_secs(1));
    write(&dir, "api.json", r#"{"service": {"name": "api"}}"#);
    let hup = Command::new("kill")
        .args(["-HUP", &agent.pid().to_string()])
        .status()
        .expect("run kill");
    assert!(hup.success());
    agent.wait_for("Caught signal: hangup", Duration::from_secs(5));
    agent.wait_for(
        "config reloaded: added=[api] changed=[] removed=[]",
        Duration::from_secs(5),
    );
    let (status, _) = http(http_port, "GET", "/v1/status/leader", "");
    assert_eq!(status, 200, "still serving after SIGHUP");
    let (status, _) = agent.terminate(Duration::from_secs(5));
    assert!(status.success(), "{status}");
}

#[test]
fn bad_definitions_at_start_are_refused_with_file_key_and_reason() {
    let dir = temp_dir("start-bad");
    let web = dir.join("web.json");
    std::fs::write(&web, r#"{"service": {"name": "web", "prot": 80}}"#).expect("write");
    let (status, stdout, stderr) =
        run_to_end(&["agent", "-dev", &format!("-config-dir={}", dir.display())]);
    assert_eq!(status.code(), Some(1), "stdout:\n{stdout}");
    assert_eq!(
        stderr,
        format!(
            "==> Error parsing {}: service.prot: unknown key\n",
            web.display()
        )
    );

    std::fs::write(
        &web,
        r#"{"service": {"name": "web", "check": {"args": ["/bin/true"], "interval": "10s"}}}"#,
    )
    .expect("write");
    let (status, _, stderr) =
        run_to_end(&["agent", "-dev", &format!("-config-dir={}", dir.display())]);
    assert_eq!(status.code(), Some(1));
    assert_eq!(
        stderr,
        format!(
            "==> Error parsing {}: service \"web\" check \"service:web\": scripts are disabled \
             on this agent; to enable, configure 'enable_script_checks' or \
             'enable_local_script_checks' to true\n",
            web.display()
        )
    );
}

#[test]
fn local_script_checks_in_config_files_start_with_enable_local_script_checks() {
    let dir = temp_dir("start-scripts");
    write(
        &dir,
        "web.json",
        r#"{"service": {"name": "web", "check": {"args": ["/bin/true"], "interval": "10s"}}}"#,
    );
    let http_port = free_port();
    let mut agent = Agent::start(&[
        "-dev",
        "-enable-local-script-checks",
        &format!("-config-dir={}", dir.display()),
        &format!("-http-port={http_port}"),
        &format!("-server-port={}", free_port()),
        "-dns-port=-1",
    ]);
    agent.wait_for(
        "config definitions: services=[web] checks=[]",
        Duration::from_secs(10),
    );
    let (status, _) = agent.terminate(Duration::from_secs(5));
    assert!(status.success(), "{status}");
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
