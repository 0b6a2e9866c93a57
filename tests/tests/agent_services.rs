//! End to end: the agent's own services and checks through `/v1/agent/*` on a real `synod`,
//! and what they become in the catalog (`/v1/health/*`, `/v1/catalog/*`, anti-entropy).

mod cli_support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread;
use std::time::{Duration, Instant};

use cli_support::{Agent, free_port, http, temp_dir};
use serde_json::Value;

struct Ports {
    http: u16,
    server: u16,
    dns: u16,
}

impl Ports {
    fn free() -> Ports {
        Ports {
            http: free_port(),
            server: free_port(),
            dns: free_port(),
        }
    }
}

fn start(extra: &[&str]) -> (Agent, u16) {
    let ports = Ports::free();
    let mut args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    args.push(format!("-http-port={}", ports.http));
    args.push(format!("-server-port={}", ports.server));
    args.push(format!("-dns-port={}", ports.dns));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut agent = Agent::start(&args);
    agent.wait_for("New leader elected", Duration::from_secs(10));
    (agent, ports.http)
}

/// Polls `probe` every 50 ms until it returns `Some`, for at most `limit`.
fn eventually<T>(what: &str, limit: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(50));
    }
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

fn check_status(port: u16, check_id: &str) -> String {
    let (status, body) = http(port, "GET", "/v1/agent/checks", "");
    assert_eq!(status, 200, "{body}");
    json(&body)[check_id]["Status"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn register(port: u16, body: &str) {
    let (status, text) = http(port, "PUT", "/v1/agent/service/register", body);
    assert_eq!(status, 200, "{text}");
}

/// Serves `200 ok` to every request on `listener`, forever (the test process ends it).
fn serve_ok(listener: TcpListener) {
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        }
    });
}

#[test]
fn http_check_goes_critical_while_its_target_is_down_and_passing_once_it_is_up() {
    let (agent, p) = start(&["-dev"]);
    let target = free_port();
    register(
        p,
        &format!(
            r#"{{"Name":"web","Port":{target},"Check":{{"HTTP":"http://127.0.0.1:{target}/health","Interval":"1s","Timeout":"1s"}}}}"#
        ),
    );
    eventually("the check to fail", Duration::from_secs(5), || {
        let (_, body) = http(p, "GET", "/v1/agent/checks", "");
        let output = json(&body)["service:web"]["Output"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        output.starts_with("HTTP GET").then_some(())
    });
    assert_eq!(check_status(p, "service:web"), "critical");
    let (status, body) = http(
        p,
        "GET",
        "/v1/agent/health/service/name/web?format=text",
        "",
    );
    assert_eq!((status, body.as_str()), (503, "critical"));
    eventually(
        "the catalog to list it critical",
        Duration::from_secs(5),
        || {
            critical_services(p)
                .contains(&"web".to_owned())
                .then_some(())
        },
    );
    assert_eq!(passing_instances(p, "web"), 0);

    serve_ok(TcpListener::bind(("127.0.0.1", target)).expect("bind the target"));
    eventually("the check to pass", Duration::from_secs(5), || {
        (check_status(p, "service:web") == "passing").then_some(())
    });
    let (_, body) = http(p, "GET", "/v1/agent/checks", "");
    assert_eq!(
        json(&body)["service:web"]["Output"],
        format!("HTTP GET http://127.0.0.1:{target}/health: 200 OK Output: ok")
    );
    let (status, body) = http(
        p,
        "GET",
        "/v1/agent/health/service/name/web?format=text",
        "",
    );
    assert_eq!((status, body.as_str()), (200, "passing"));
    eventually(
        "the instance back among the passing",
        Duration::from_secs(5),
        || (passing_instances(p, "web") == 1).then_some(()),
    );
    assert!(!critical_services(p).contains(&"web".to_owned()));
    drop(agent);
}

/// Services with a critical check, from `/v1/health/state/critical`.
fn critical_services(port: u16) -> Vec<String> {
    let (status, body) = http(port, "GET", "/v1/health/state/critical", "");
    assert_eq!(status, 200, "{body}");
    json(&body)
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|check| check["ServiceName"].as_str().map(str::to_owned))
        .collect()
}

/// Instances `/v1/health/service/<name>?passing` returns.
fn passing_instances(port: u16, name: &str) -> usize {
    let (status, body) = http(
        port,
        "GET",
        &format!("/v1/health/service/{name}?passing"),
        "",
    );
    assert_eq!(status, 200, "{body}");
    json(&body).as_array().map_or(0, Vec::len)
}

/// Instances `/v1/catalog/service/<name>` returns.
fn catalog_instances(port: u16, name: &str) -> usize {
    let (status, body) = http(port, "GET", &format!("/v1/catalog/service/{name}"), "");
    assert_eq!(status, 200, "{body}");
    json(&body).as_array().map_or(0, Vec::len)
}

#[test]
fn anti_entropy_restores_deleted_services_and_removes_unknown_ones() {
    let dir = temp_dir("ae-config");
    std::fs::write(dir.join("ae.json"), r#"{"ae_interval": "1s"}"#).expect("write config");
    let config_dir = format!("-config-dir={}", dir.display());
    let (agent, p) = start(&["-dev", "-node=ae", &config_dir]);
    register(p, r#"{"Name":"web","Port":80}"#);
    eventually("web in the catalog", Duration::from_secs(5), || {
        (catalog_instances(p, "web") == 1).then_some(())
    });

    let (status, body) = http(
        p,
        "PUT",
        "/v1/catalog/deregister",
        r#"{"Node":"ae","ServiceID":"web"}"#,
    );
    assert_eq!((status, body.trim()), (200, "true"));
    assert_eq!(
        catalog_instances(p, "web"),
        0,
        "deregistered from the catalog"
    );
    eventually(
        "anti-entropy to restore web",
        Duration::from_secs(10),
        || (catalog_instances(p, "web") == 1).then_some(()),
    );

    let (status, body) = http(
        p,
        "PUT",
        "/v1/catalog/register",
        r#"{"Node":"ae","Address":"127.0.0.1","Service":{"Service":"stray","Port":1}}"#,
    );
    assert_eq!((status, body.trim()), (200, "true"));
    eventually(
        "anti-entropy to remove stray",
        Duration::from_secs(10),
        || (catalog_instances(p, "stray") == 0).then_some(()),
    );
    assert_eq!(
        catalog_instances(p, "web"),
        1,
        "the agent's own service stays"
    );
    drop(agent);
}

#[test]
fn ttl_check_expires_to_critical_without_reports() {
    let (agent, p) = start(&["-dev"]);
    register(p, r#"{"Name":"api","Check":{"TTL":"1s"}}"#);
    let (status, _) = http(p, "PUT", "/v1/agent/check/pass/service:api?note=alive", "");
    assert_eq!(status, 200);
    assert_eq!(check_status(p, "service:api"), "passing");
    let (status, body) = http(p, "GET", "/v1/agent/health/service/id/api", "");
    assert_eq!(status, 200);
    assert_eq!(json(&body)["AggregatedStatus"], "passing");
    eventually("the TTL to expire", Duration::from_secs(5), || {
        (check_status(p, "service:api") == "critical").then_some(())
    });
    let (_, body) = http(p, "GET", "/v1/agent/checks", "");
    assert_eq!(
        json(&body)["service:api"]["Output"],
        "TTL expired (last output before timeout follows): alive"
    );
    drop(agent);
}

#[test]
fn flapping_is_damped_by_the_thresholds() {
    let (agent, p) = start(&["-dev"]);
    register(
        p,
        r#"{"Name":"db","Check":{"TTL":"30s","SuccessBeforePassing":2,"FailuresBeforeCritical":2}}"#,
    );
    let put = |verb: &str| {
        let (status, body) = http(p, "PUT", &format!("/v1/agent/check/{verb}/service:db"), "");
        assert_eq!(status, 200, "{body}");
        check_status(p, "service:db")
    };
    assert_eq!(put("pass"), "critical", "one success is not enough");
    assert_eq!(put("pass"), "passing");
    assert_eq!(put("fail"), "passing", "one failure is not enough");
    assert_eq!(put("pass"), "passing");
    assert_eq!(put("fail"), "passing", "the failure count restarted");
    assert_eq!(put("fail"), "critical");
    drop(agent);
}

#[test]
fn api_registered_services_survive_an_agent_restart() {
    let dir = temp_dir("agent-services-restart");
    let data_dir = format!("-data-dir={}", dir.display());
    let (agent, p) = start(&["-server", "-bootstrap", &data_dir]);
    register(
        p,
        r#"{"ID":"web-1","Name":"web","Tags":["v1"],"Port":8080,"Check":{"TTL":"30s"}}"#,
    );
    let (status, body) = http(
        p,
        "PUT",
        "/v1/agent/check/register",
        r#"{"Name":"disk","TTL":"1m"}"#,
    );
    assert_eq!(status, 200, "{body}");
    let (status, _) = agent.terminate(Duration::from_secs(5));
    assert!(status.success(), "{status}");

    let (agent, p) = start(&["-server", &data_dir]);
    let (_, body) = http(p, "GET", "/v1/agent/services", "");
    let services = json(&body);
    assert_eq!(services["web-1"]["Service"], "web");
    assert_eq!(services["web-1"]["Tags"], serde_json::json!(["v1"]));
    assert_eq!(services["web-1"]["Port"], 8080);
    let (_, body) = http(p, "GET", "/v1/agent/checks", "");
    let checks = json(&body);
    assert!(checks.get("service:web-1").is_some(), "{body}");
    assert!(checks.get("disk").is_some(), "{body}");
    let (status, _) = agent.terminate(Duration::from_secs(5));
    assert!(status.success(), "{status}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn config_file_service_shows_up_among_the_agent_services() {
    let dir = temp_dir("agent-services-config");
    std::fs::write(
        dir.join("web.json"),
        r#"{"service": {"name": "web", "tags": ["rails"], "port": 80}}"#,
    )
    .expect("write web.json");
    let (agent, p) = start(&["-dev", &format!("-config-dir={}", dir.display())]);
    let (_, body) = http(p, "GET", "/v1/agent/services", "");
    let services = json(&body);
    assert_eq!(services["web"]["Service"], "web");
    assert_eq!(services["web"]["Tags"], serde_json::json!(["rails"]));
    assert_eq!(services["web"]["Port"], 80);
    drop(agent);
}

#[test]
fn maintenance_takes_a_service_out_and_back() {
    let (agent, p) = start(&["-dev"]);
    register(
        p,
        r#"{"Name":"web","Check":{"TTL":"30s","Status":"passing"}}"#,
    );
    let health = || http(p, "GET", "/v1/agent/health/service/id/web?format=text", "");
    assert_eq!(health(), (200, "passing".to_owned()));
    let (status, _) = http(
        p,
        "PUT",
        "/v1/agent/service/maintenance/web?enable=true&reason=deploy",
        "",
    );
    assert_eq!(status, 200);
    assert_eq!(health(), (503, "maintenance".to_owned()));
    let (_, body) = http(p, "GET", "/v1/agent/checks", "");
    assert_eq!(json(&body)["_service_maintenance:web"]["Notes"], "deploy");
    let (status, _) = http(p, "PUT", "/v1/agent/maintenance?enable=true", "");
    assert_eq!(status, 200);
    let (_, body) = http(p, "GET", "/v1/agent/checks", "");
    assert_eq!(json(&body)["_node_maintenance"]["Status"], "critical");
    http(p, "PUT", "/v1/agent/maintenance?enable=false", "");
    http(
        p,
        "PUT",
        "/v1/agent/service/maintenance/web?enable=false",
        "",
    );
    assert_eq!(health(), (200, "passing".to_owned()));
    drop(agent);
}

#[test]
fn unknown_ids_get_consuls_answers() {
    let (agent, p) = start(&["-dev"]);
    assert_eq!(
        http(p, "PUT", "/v1/agent/service/deregister/nope", ""),
        (
            404,
            "Unknown service ID \"nope\". Ensure that the service ID is passed, not the service name."
                .to_owned()
        )
    );
    assert_eq!(
        http(p, "PUT", "/v1/agent/check/deregister/nope", ""),
        (
            404,
            "Unknown check ID \"nope\". Ensure that the check ID is passed, not the check name."
                .to_owned()
        )
    );
    assert_eq!(
        http(p, "PUT", "/v1/agent/check/pass/nope", ""),
        (
            500,
            "CheckID \"nope\" does not have associated TTL".to_owned()
        )
    );
    assert_eq!(
        http(p, "GET", "/v1/agent/health/service/id/nope?format=text", ""),
        (404, "ServiceId nope not found".to_owned())
    );
    assert_eq!(
        http(
            p,
            "GET",
            "/v1/agent/health/service/name/nope?format=text",
            ""
        ),
        (404, "ServiceName nope Not Found".to_owned())
    );
    assert_eq!(
        http(
            p,
            "PUT",
            "/v1/agent/service/maintenance/nope?enable=true",
            ""
        ),
        (404, "No service registered with ID \"nope\"".to_owned())
    );
    assert_eq!(
        http(p, "PUT", "/v1/agent/maintenance", ""),
        (400, "Missing value for enable".to_owned())
    );
    let (status, body) = http(p, "GET", "/v1/agent/service/nope", "");
    assert_eq!((status, body.as_str()), (404, "unknown service ID: nope"));
    drop(agent);
}
