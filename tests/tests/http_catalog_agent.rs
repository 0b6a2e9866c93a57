//! End to end on real `synod` servers: the leader registers every gossip member in the catalog
//! with `serfHealth` (and servers with the `consul` service), a killed server's node goes
//! critical on the others, and blocking health queries wake on their own service only.

mod cli_support;

use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use cli_support::{Agent, free_port, http, temp_dir};

/// One server agent with its ports.
struct Server {
    agent: Agent,
    name: String,
    http: u16,
    rpc: u16,
    _dir: PathBuf,
}

impl Server {
    /// Starts server `name` with LAN gossip on `serf` and `extra` flags.
    fn start(name: &str, serf: u16, extra: &[String]) -> Server {
        let (http, rpc) = (free_port(), free_port());
        let dir = temp_dir(&format!("catalog-{name}"));
        let mut args = vec![
            "-server".to_owned(),
            format!("-node={name}"),
            "-bind=127.0.0.1".to_owned(),
            format!("-data-dir={}", dir.display()),
            format!("-http-port={http}"),
            format!("-server-port={rpc}"),
            format!("-serf-lan-port={serf}"),
            "-dns-port=-1".to_owned(),
        ];
        args.extend_from_slice(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut agent = Agent::start(&args);
        agent.wait_for("synod agent running", Duration::from_secs(20));
        Server {
            agent,
            name: name.to_owned(),
            http,
            rpc,
            _dir: dir,
        }
    }

    fn get_json(&self, target: &str) -> serde_json::Value {
        let (status, body) = http(self.http, "GET", target, "");
        assert_eq!(status, 200, "{target}: {body}");
        serde_json::from_str(&body).expect("JSON answer")
    }

    /// `node`'s `serfHealth` check as this server sees it (stale reads: any server answers).
    fn serf_health(&self, node: &str) -> Option<serde_json::Value> {
        let checks = self.get_json(&format!("/v1/health/node/{node}?stale"));
        checks
            .as_array()?
            .iter()
            .find(|c| c["CheckID"] == "serfHealth")
            .cloned()
    }
}

/// Polls `check` every 200 ms until it holds; panics with `what` after `limit`.
fn eventually(limit: Duration, what: &str, mut check: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        thread::sleep(Duration::from_millis(200));
    }
    start.elapsed()
}

fn single_server(name: &str) -> Server {
    let mut server = Server::start(name, free_port(), &["-bootstrap".to_owned()]);
    server
        .agent
        .wait_for("New leader elected", Duration::from_secs(15));
    server
}

#[test]
fn a_server_registers_itself_with_serf_health_and_the_consul_service() {
    let server = single_server("self1");
    eventually(Duration::from_secs(10), "own serfHealth passing", || {
        server
            .serf_health("self1")
            .is_some_and(|c| c["Status"] == "passing")
    });
    let check = server.serf_health("self1").expect("serfHealth");
    assert_eq!(check["Name"], "Serf Health Status");
    assert_eq!(check["Output"], "Agent alive and reachable");
    assert_eq!(check["ServiceTags"], serde_json::json!([]));

    let nodes = server.get_json("/v1/catalog/nodes");
    assert_eq!(nodes[0]["Node"], "self1");
    assert_eq!(nodes[0]["Address"], "127.0.0.1");
    assert_eq!(nodes[0]["Datacenter"], "dc1");
    let consul = server.get_json("/v1/catalog/service/consul");
    assert_eq!(consul[0]["ServiceID"], "consul");
    assert_eq!(consul[0]["ServicePort"], server.rpc);
    assert_eq!(
        server.get_json("/v1/catalog/services"),
        serde_json::json!({"consul": []})
    );
    let healthy = server.get_json("/v1/health/service/consul?passing");
    assert_eq!(healthy.as_array().map(Vec::len), Some(1));
}

/// Sends a blocking GET on its own thread; joins to (status, X-Consul-Index, elapsed).
fn blocking_get(port: u16, target: String) -> thread::JoinHandle<(u16, u64, Duration)> {
    thread::spawn(move || {
        let started = Instant::now();
        let (status, head, _) = cli_support::http_exchange(port, "GET", &target, "");
        let index = index_of(&head);
        (status, index, started.elapsed())
    })
}

fn index_of(head: &str) -> u64 {
    head.lines()
        .find_map(|l| l.strip_prefix("X-Consul-Index: "))
        .and_then(|v| v.trim().parse().ok())
        .expect("an X-Consul-Index header")
}

fn register(port: u16, body: &str) {
    let (status, answer) = http(port, "PUT", "/v1/catalog/register", body);
    assert_eq!((status, answer.as_str()), (200, "true"));
}

fn set_web_check(port: u16, status: &str) {
    register(
        port,
        &format!(
            r#"{{"Node":"ext","Address":"10.0.0.1","SkipNodeUpdate":true,
                "Check":{{"CheckID":"web-up","Name":"web up","Status":"{status}","ServiceID":"web"}}}}"#
        ),
    );
}

#[test]
fn blocking_health_query_wakes_on_its_service_and_waits_through_unrelated_writes() {
    let server = single_server("block1");
    let p = server.http;
    register(
        p,
        r#"{"Node":"ext","Address":"10.0.0.1","Service":{"Service":"web","Port":80},
            "Check":{"CheckID":"web-up","Name":"web up","Status":"passing","ServiceID":"web"}}"#,
    );
    let (_, head, _) = cli_support::http_exchange(p, "GET", "/v1/health/service/web", "");
    let index = index_of(&head);

    // Unrelated writes (a KV key, another service) do not end the wait: same index at timeout.
    let parked = blocking_get(p, format!("/v1/health/service/web?index={index}&wait=2s"));
    thread::sleep(Duration::from_millis(300));
    assert_eq!(http(p, "PUT", "/v1/kv/unrelated", "x").0, 200);
    register(
        p,
        r#"{"Node":"ext","Address":"10.0.0.1","Service":{"Service":"db","Port":5432}}"#,
    );
    let (status, same, waited) = parked.join().expect("blocking client");
    assert_eq!((status, same), (200, index));
    assert!(waited >= Duration::from_secs(2), "{waited:?}");

    // A health change of web answers at once with a higher index.
    let parked = blocking_get(p, format!("/v1/health/service/web?index={index}&wait=20s"));
    thread::sleep(Duration::from_millis(300));
    let changed_at = Instant::now();
    set_web_check(p, "critical");
    let (status, moved, _) = parked.join().expect("blocking client");
    let latency = changed_at.elapsed();
    assert_eq!(status, 200);
    assert!(moved > index, "{moved} > {index}");
    assert!(latency < Duration::from_secs(2), "{latency:?}");
    let critical = server.get_json("/v1/health/state/critical");
    assert_eq!(critical[0]["CheckID"], "web-up");
    assert_eq!(
        server.get_json("/v1/health/service/web?passing"),
        serde_json::json!([])
    );
}

#[test]
fn a_killed_servers_node_goes_serf_health_critical_on_the_others() {
    let serf_ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let servers: Vec<Server> = (0..3)
        .map(|i| {
            let extra = vec![
                "-bootstrap-expect=3".to_owned(),
                format!("-retry-join=127.0.0.1:{}", serf_ports[(i + 1) % 3]),
                "-retry-interval=1s".to_owned(),
            ];
            Server::start(&format!("k{i}"), serf_ports[i], &extra)
        })
        .collect();
    for server in &servers {
        for other in &servers {
            eventually(
                Duration::from_secs(30),
                "every node registered passing",
                || {
                    server
                        .serf_health(&other.name)
                        .is_some_and(|c| c["Status"] == "passing")
                },
            );
        }
    }
    let consul = servers[0].get_json("/v1/catalog/service/consul?stale");
    assert_eq!(consul.as_array().map(Vec::len), Some(3));

    let mut servers = servers;
    let killed = servers.pop().expect("three servers");
    let killed_name = killed.name.clone();
    killed.agent.kill_hard();
    for server in &servers {
        let took = eventually(Duration::from_secs(25), "killed node critical", || {
            server
                .serf_health(&killed_name)
                .is_some_and(|c| c["Status"] == "critical")
        });
        println!("{} saw {killed_name} critical after {took:?}", server.name);
        let check = server.serf_health(&killed_name).expect("serfHealth");
        assert_eq!(check["Output"], "Agent not live or unreachable");
    }
    // The node and its consul service stay in the catalog; only `?passing` drops them.
    let all = servers[0].get_json("/v1/health/service/consul?stale");
    assert_eq!(all.as_array().map(Vec::len), Some(3));
    let passing = servers[0].get_json("/v1/health/service/consul?stale&passing");
    assert_eq!(passing.as_array().map(Vec::len), Some(2));
}
