//! End to end: `synod services register|deregister` and `synod maint` against a real dev agent,
//! checked through `/v1/agent/services` and `/v1/agent/checks`.
//!
//! Needs the agent-local service and check endpoints (`/v1/agent/service/register`,
//! `/v1/agent/service/deregister/<id>`, `/v1/agent/maintenance`,
//! `/v1/agent/service/maintenance/<id>`, `/v1/agent/services`, `/v1/agent/checks`).

mod cli_support;

use std::process::Command;
use std::time::Duration;

use cli_support::{Agent, free_port, http, synod_binary, temp_dir};
use serde_json::Value;

fn dev_agent(node: &str) -> (Agent, u16) {
    let http = free_port();
    let mut agent = Agent::start(&[
        "-dev",
        &format!("-node={node}"),
        &format!("-http-port={http}"),
        &format!("-server-port={}", free_port()),
        "-dns-port=-1",
    ]);
    agent.wait_for("New leader elected", Duration::from_secs(10));
    (agent, http)
}

fn synod(port: u16, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(synod_binary())
        .args(args)
        .env_remove("CONSUL_HTTP_ADDR")
        .env("SYNOD_HTTP_ADDR", format!("127.0.0.1:{port}"))
        .output()
        .expect("run synod");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(out: &str) -> (i32, String, String) {
    (0, out.to_string(), String::new())
}

fn get_json(port: u16, target: &str) -> Value {
    let (status, body) = http(port, "GET", target, "");
    assert_eq!(status, 200, "GET {target}: {body}");
    serde_json::from_str(&body).expect("a JSON answer")
}

#[test]
fn services_register_and_deregister_change_the_agents_services() {
    let (agent, port) = dev_agent("cli-services");
    assert_eq!(
        synod(
            port,
            &[
                "services",
                "register",
                "-name=web",
                "-port=80",
                "-tag=rails",
                "-meta=team=a"
            ]
        ),
        ok("Registered service: web\n")
    );
    let services = get_json(port, "/v1/agent/services");
    assert_eq!(services["web"]["Port"], 80);
    assert_eq!(services["web"]["Tags"], serde_json::json!(["rails"]));
    assert_eq!(services["web"]["Meta"], serde_json::json!({"team": "a"}));

    let dir = temp_dir("cli-services-file");
    let file = dir.join("db.json");
    std::fs::write(
        &file,
        r#"{"service": {"name": "db", "id": "db-1", "port": 5432}}"#,
    )
    .expect("write db.json");
    let path = file.to_str().expect("utf-8 path");
    assert_eq!(
        synod(port, &["services", "register", path]),
        ok("Registered service: db\n")
    );
    assert_eq!(get_json(port, "/v1/agent/services")["db-1"]["Port"], 5432);

    assert_eq!(
        synod(port, &["services", "deregister", "-id=web"]),
        ok("Deregistered service: web\n")
    );
    assert_eq!(
        synod(port, &["services", "deregister", path]),
        ok("Deregistered service: db-1\n")
    );
    assert_eq!(get_json(port, "/v1/agent/services"), serde_json::json!({}));
    let (status, _) = agent.terminate(Duration::from_secs(5));
    assert!(status.success(), "{status}");
}

#[test]
fn maint_enables_lists_and_disables_node_and_service_maintenance() {
    let (agent, port) = dev_agent("cli-maint");
    assert_eq!(synod(port, &["maint"]), ok(""));
    assert_eq!(
        synod(port, &["services", "register", "-name=web"]),
        ok("Registered service: web\n")
    );
    assert_eq!(
        synod(port, &["maint", "-enable", "-reason=kernel upgrade"]),
        ok("Node maintenance is now enabled\n")
    );
    assert_eq!(
        synod(
            port,
            &["maint", "-enable", "-service=web", "-reason=deploy"]
        ),
        ok("Service maintenance is now enabled for \"web\"\n")
    );
    let checks = get_json(port, "/v1/agent/checks");
    assert_eq!(checks["_node_maintenance"]["Status"], "critical");
    assert_eq!(checks["_node_maintenance"]["Notes"], "kernel upgrade");
    assert_eq!(checks["_service_maintenance:web"]["ServiceID"], "web");
    assert_eq!(
        synod(port, &["maint"]),
        ok("Node:\n  Name:   cli-maint\n  Reason: kernel upgrade\n\n\
            Service:\n  ID:     web\n  Reason: deploy\n\n")
    );
    assert_eq!(
        synod(port, &["maint", "-disable"]),
        ok("Node maintenance is now disabled\n")
    );
    assert_eq!(
        synod(port, &["maint", "-disable", "-service=web"]),
        ok("Service maintenance is now disabled for \"web\"\n")
    );
    assert_eq!(synod(port, &["maint"]), ok(""));
    let (status, _) = agent.terminate(Duration::from_secs(5));
    assert!(status.success(), "{status}");
}
