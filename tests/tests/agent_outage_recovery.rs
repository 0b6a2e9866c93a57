//! End to end: manual outage recovery with `<data-dir>/raft/peers.json` (the seed notes' §10).
//! Three servers lose two of their number for good; the survivor alone has no quorum, and
//! elects itself once the operator lists it as the only server in peers.json. Nothing the
//! cluster acknowledged is lost, and the file is consumed.

mod cli_support;

use std::fs;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use cli_support::{Agent, free_port, http, temp_dir};

struct Ports {
    http: u16,
    serf: u16,
    rpc: u16,
}

/// A server's flags: its own ports and data dir, loopback only, no DNS.
fn server_args(name: &str, dir: &Path, ports: &Ports) -> Vec<String> {
    vec![
        "-server".to_owned(),
        format!("-node={name}"),
        "-bind=127.0.0.1".to_owned(),
        format!("-data-dir={}", dir.display()),
        format!("-http-port={}", ports.http),
        format!("-server-port={}", ports.rpc),
        format!("-serf-lan-port={}", ports.serf),
        "-dns-port=-1".to_owned(),
    ]
}

fn start(name: &str, dir: &Path, ports: &Ports, extra: &[String]) -> Agent {
    let mut args = server_args(name, dir, ports);
    args.extend_from_slice(extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut agent = Agent::start(&args);
    agent.wait_for("synod agent running", Duration::from_secs(20));
    agent
}

fn eventually(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(200));
    }
}

fn leader(http_port: u16) -> String {
    let (_, body) = http(http_port, "GET", "/v1/status/leader", "");
    body.trim().trim_matches('"').to_owned()
}

fn node_id(http_port: u16) -> String {
    let (status, body) = http(http_port, "GET", "/v1/agent/self", "");
    assert_eq!(status, 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).expect("agent self is JSON");
    json["Config"]["NodeID"]
        .as_str()
        .expect("Config.NodeID")
        .to_owned()
}

#[test]
fn a_lone_survivor_recovers_from_peers_json_with_its_data() {
    let ports: Vec<Ports> = (0..3)
        .map(|_| Ports {
            http: free_port(),
            serf: free_port(),
            rpc: free_port(),
        })
        .collect();
    let dirs: Vec<PathBuf> = (0..3).map(|i| temp_dir(&format!("outage-{i}"))).collect();
    let mut agents: Vec<Agent> = (0..3)
        .map(|i| {
            let extra = vec![
                "-bootstrap-expect=3".to_owned(),
                format!("-retry-join=127.0.0.1:{}", ports[(i + 1) % 3].serf),
                "-retry-interval=1s".to_owned(),
            ];
            start(&format!("outage{i}"), &dirs[i], &ports[i], &extra)
        })
        .collect();
    eventually(Duration::from_secs(30), "a leader", || {
        !leader(ports[0].http).is_empty()
    });
    let (status, body) = http(ports[0].http, "PUT", "/v1/kv/survives", "yes");
    assert_eq!((status, body.trim()), (200, "true"));
    let survivor_id = node_id(ports[0].http);

    for agent in agents.drain(..) {
        agent.kill_hard();
    }

    // Without the file the survivor has no quorum: no leader, writes refused.
    let survivor = start("outage0", &dirs[0], &ports[0], &[]);
    thread::sleep(Duration::from_secs(3));
    assert_eq!(
        leader(ports[0].http),
        "",
        "one of three servers must not lead"
    );
    survivor.kill_hard();

    let peers_json = dirs[0].join("raft").join("peers.json");
    let rpc_addr = format!("127.0.0.1:{}", ports[0].rpc);
    fs::write(
        &peers_json,
        format!(r#"[{{"id": "{survivor_id}", "address": "{rpc_addr}", "non_voter": false}}]"#),
    )
    .expect("write peers.json");
    let mut survivor = start("outage0", &dirs[0], &ports[0], &[]);
    survivor.wait_for(
        "deleted peers.json file after successful recovery",
        Duration::from_secs(5),
    );
    eventually(Duration::from_secs(15), "the survivor to lead", || {
        leader(ports[0].http) == rpc_addr
    });
    assert!(!peers_json.exists(), "peers.json is consumed");
    let (status, body) = http(ports[0].http, "GET", "/v1/kv/survives?raw", "");
    assert_eq!((status, body.as_str()), (200, "yes"));
    let (status, body) = http(ports[0].http, "PUT", "/v1/kv/after", "recovery");
    assert_eq!((status, body.trim()), (200, "true"));
    let (_, config) = http(ports[0].http, "GET", "/v1/operator/raft/configuration", "");
    assert_eq!(config.matches("\"ID\"").count(), 1, "{config}");
}

#[test]
fn a_bad_peers_json_refuses_to_start_and_stays_for_the_operator() {
    let dir = temp_dir("outage-bad");
    fs::create_dir_all(dir.join("raft")).expect("raft dir");
    let peers_json = dir.join("raft").join("peers.json");
    fs::write(
        &peers_json,
        r#"[{"id": "not-a-uuid", "address": "127.0.0.1:1"}]"#,
    )
    .expect("write");
    let ports = Ports {
        http: free_port(),
        serf: free_port(),
        rpc: free_port(),
    };
    let args = server_args("bad", &dir, &ports);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (status, lines) = Agent::start(&args).wait_exit(Duration::from_secs(10));
    assert_eq!(status.code(), Some(1), "{lines:?}");
    let output = lines.join("\n");
    assert!(
        output.contains("peers.json: [0].id: expected a node ID (UUID)"),
        "{output}"
    );
    assert!(peers_json.exists(), "the operator's file is left in place");
}
