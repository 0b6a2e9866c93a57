//! End to end: a client agent (no `-server`) in front of three servers on loopback — it shows in
//! `synod members` as a client, forwards KV reads, writes and blocking queries over client RPC,
//! and keeps working through another server when the one it talks to is killed.

mod cli_support;

use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use cli_support::{Agent, free_port, http, http_exchange, run_to_end, temp_dir};

/// An agent of the test cluster.
struct Node {
    agent: Agent,
    http: u16,
    serf: u16,
    rpc: u16,
    _dir: PathBuf,
}

impl Node {
    /// Starts agent `name` with `extra` flags (`-server`, `-join`, ...).
    fn start(name: &str, extra: &[String]) -> Node {
        let (http, serf, rpc) = (free_port(), free_port(), free_port());
        let dir = temp_dir(&format!("client-{name}"));
        let mut args = vec![
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
        Node {
            agent,
            http,
            serf,
            rpc,
            _dir: dir,
        }
    }

    fn join_flag(&self) -> String {
        format!("-join=127.0.0.1:{}", self.serf)
    }

    fn rpc_addr(&self) -> String {
        format!("127.0.0.1:{}", self.rpc)
    }

    /// `synod <args> -http-addr=<this agent>`: (exit code, stdout).
    fn cli(&self, args: &[&str]) -> (Option<i32>, String) {
        let flag = format!("-http-addr=127.0.0.1:{}", self.http);
        let mut all = args.to_vec();
        all.push(&flag);
        let (status, out, _) = run_to_end(&all);
        (status.code(), out)
    }

    fn leader(&self) -> String {
        let (status, body) = http(self.http, "GET", "/v1/status/leader", "");
        if status == 200 {
            body.trim().trim_matches('"').to_owned()
        } else {
            String::new()
        }
    }

    /// The `consul.<key>` stat of `/v1/agent/self`.
    fn consul_stat(&self, key: &str) -> String {
        let (_, body) = http(self.http, "GET", "/v1/agent/self", "");
        let json: serde_json::Value = serde_json::from_str(&body).expect("agent/self is JSON");
        json["Stats"]["consul"][key]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

/// Polls `check` until it holds or `limit` passes (then fails the test naming `what`).
fn eventually(limit: Duration, what: &str, mut check: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < limit, "timed out waiting for: {what}");
        thread::sleep(Duration::from_millis(100));
    }
    start.elapsed()
}

/// Three `-bootstrap-expect 3` servers joined through the first one, with one leader known.
fn three_servers() -> Vec<Node> {
    let expect = "-bootstrap-expect=3".to_owned();
    let first = Node::start("s1", &["-server".to_owned(), expect.clone()]);
    let join = first.join_flag();
    let mut servers = vec![first];
    for name in ["s2", "s3"] {
        let flags = ["-server".to_owned(), expect.clone(), join.clone()];
        servers.push(Node::start(name, &flags));
    }
    eventually(Duration::from_secs(20), "one leader known by all", || {
        let leaders: Vec<String> = servers.iter().map(Node::leader).collect();
        !leaders[0].is_empty() && leaders.iter().all(|l| *l == leaders[0])
    });
    servers
}

/// `(status, X-Consul-Index, body)` of a GET through `port`.
fn get_with_index(port: u16, target: &str) -> (u16, u64, String) {
    let (status, head, body) = http_exchange(port, "GET", target, "");
    let index = head
        .lines()
        .find_map(|line| line.strip_prefix("X-Consul-Index: "))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0);
    (status, index, body)
}

#[test]
fn a_client_agent_lists_as_client_forwards_kv_and_blocking_reads_and_survives_a_server_kill() {
    let mut servers = three_servers();
    let client = Node::start("c1", &[servers[0].join_flag()]);

    // Gossip: four members, the client typed `client`, and the client knows it is one.
    eventually(Duration::from_secs(15), "the client sees 4 members", || {
        client.cli(&["members"]).1.lines().count() == 5
    });
    let (code, members) = client.cli(&["members"]);
    assert_eq!(code, Some(0), "{members}");
    let types: Vec<(String, String)> = members
        .lines()
        .skip(1)
        .map(|line| {
            let columns: Vec<&str> = line.split_whitespace().collect();
            (columns[0].to_owned(), columns[3].to_owned())
        })
        .collect();
    assert_eq!(
        types,
        [
            ("s1", "server"),
            ("s2", "server"),
            ("s3", "server"),
            ("c1", "client")
        ]
        .map(|(n, t)| (n.to_owned(), t.to_owned())),
        "{members}"
    );
    let (_, this) = http(client.http, "GET", "/v1/agent/self", "");
    let this: serde_json::Value = serde_json::from_str(&this).expect("agent/self is JSON");
    assert_eq!(this["Config"]["Server"], false);
    assert_eq!(this["Member"]["Tags"]["role"], "node");

    // KV through the client: the write is forwarded to the leader, the read too.
    eventually(
        Duration::from_secs(10),
        "a write through the client",
        || http(client.http, "PUT", "/v1/kv/greeting", "hello") == (200, "true".into()),
    );
    assert_eq!(
        http(client.http, "GET", "/v1/kv/greeting?raw", ""),
        (200, "hello".to_owned())
    );
    assert_eq!(client.leader(), servers[0].leader());
    // Operator reads are a server's answer too.
    let (code, peers) = client.cli(&["operator", "raft", "list-peers"]);
    assert_eq!(code, Some(0), "{peers}");
    assert_eq!(peers.lines().count(), 4, "{peers}");
    assert_eq!(peers.matches("leader").count(), 1, "{peers}");
    for server in &servers {
        assert!(peers.contains(&server.rpc_addr()), "{peers}");
    }

    // A blocking query on the client parks until a write made at a server.
    let (status, index, _) = get_with_index(client.http, "/v1/kv/greeting");
    assert_eq!(status, 200);
    assert!(index > 0);
    let client_http = client.http;
    let parked = thread::spawn(move || {
        let started = Instant::now();
        let target = format!("/v1/kv/greeting?raw&index={index}&wait=8s");
        let (status, new_index, body) = get_with_index(client_http, &target);
        (status, new_index, body, started.elapsed())
    });
    thread::sleep(Duration::from_millis(500));
    assert_eq!(
        http(servers[1].http, "PUT", "/v1/kv/greeting", "bonjour"),
        (200, "true".to_owned())
    );
    let (status, new_index, body, took) = parked.join().expect("the blocking reader");
    assert_eq!((status, body.as_str()), (200, "bonjour"));
    assert!(new_index > index);
    assert!(
        took >= Duration::from_millis(400) && took < Duration::from_secs(4),
        "woke after {took:?}"
    );

    // Kill -9 the server the client talks to: its requests go through another one, and a
    // blocking query parked through it moves to another server and still wakes.
    assert_eq!(
        http(client.http, "PUT", "/v1/kv/watched", "unseen"),
        (200, "true".to_owned())
    );
    let (status, watched_index, _) = get_with_index(client.http, "/v1/kv/watched");
    assert_eq!(status, 200);
    let parked = thread::spawn(move || {
        let target = format!("/v1/kv/watched?raw&index={watched_index}&wait=8s");
        get_with_index(client_http, &target)
    });
    thread::sleep(Duration::from_millis(300));
    let connected = client.consul_stat("connected_server");
    let victim = servers
        .iter()
        .position(|s| s.rpc_addr() == connected)
        .unwrap_or_else(|| panic!("the client talks to one of the servers: {connected:?}"));
    servers.remove(victim).agent.kill_hard();
    let took = eventually(Duration::from_secs(15), "a write after the kill", || {
        http(client.http, "PUT", "/v1/kv/after-kill", "still here") == (200, "true".into())
    });
    println!("first write through the client {took:?} after killing its server");
    assert_eq!(
        http(servers[0].http, "PUT", "/v1/kv/watched", "seen"),
        (200, "true".to_owned())
    );
    let (status, _, body) = parked.join().expect("the blocking reader");
    assert_eq!((status, body.as_str()), (200, "seen"));
    assert_eq!(
        http(client.http, "GET", "/v1/kv/after-kill?raw", ""),
        (200, "still here".to_owned())
    );
    let now_connected = client.consul_stat("connected_server");
    assert!(
        servers.iter().any(|s| s.rpc_addr() == now_connected),
        "connected to {now_connected:?} after the kill"
    );
    assert_eq!(
        http(servers[0].http, "GET", "/v1/kv/after-kill?raw", ""),
        (200, "still here".to_owned())
    );

    // `synod leave` on the client: it leaves the pool and exits; the servers see it left.
    let (code, out) = client.cli(&["leave"]);
    assert_eq!(code, Some(0), "{out}");
    let (status, _) = client.agent.wait_exit(Duration::from_secs(10));
    assert!(status.success());
    eventually(
        Duration::from_secs(10),
        "the servers see the client left",
        || {
            let (_, members) = servers[0].cli(&["members"]);
            members
                .lines()
                .any(|line| line.starts_with("c1 ") && line.contains(" left "))
        },
    );
}

#[test]
fn a_client_cannot_bootstrap() {
    let dir = temp_dir("client-bootstrap");
    let data_dir = format!("-data-dir={}", dir.display());
    let http_port = format!("-http-port={}", free_port());
    for flag in ["-bootstrap", "-bootstrap-expect=3"] {
        let agent = Agent::start(&[flag, &data_dir, &http_port, "-dns-port=-1"]);
        let (status, lines) = agent.wait_exit(Duration::from_secs(10));
        assert!(!status.success(), "{flag}: {lines:?}");
        let expected = if flag == "-bootstrap" {
            "'bootstrap = true' requires 'server = true'"
        } else {
            "'bootstrap_expect > 0' requires 'server = true'"
        };
        assert!(
            lines.iter().any(|line| line.contains(expected)),
            "{flag}: {lines:?}"
        );
    }
}

#[test]
fn a_client_that_knows_no_server_says_so() {
    let client = Node::start("lonely", &[]);
    assert_eq!(
        http(client.http, "PUT", "/v1/kv/k", "v"),
        (500, "No known Consul servers".to_owned())
    );
    assert_eq!(
        http(client.http, "GET", "/v1/kv/k", ""),
        (500, "No known Consul servers".to_owned())
    );
    // Without a server there is no leader to report.
    assert_eq!(client.leader(), "");
    let (_, this) = http(client.http, "GET", "/v1/agent/self", "");
    let this: serde_json::Value = serde_json::from_str(&this).expect("agent/self is JSON");
    assert_eq!(this["Stats"]["consul"]["known_servers"], "0");
}
