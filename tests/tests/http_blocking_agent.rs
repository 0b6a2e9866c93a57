//! End to end: blocking KV queries on real `synod` agents park on what they read, so writes to
//! other keys leave them parked, their own key's write wakes them at once, and on a follower the
//! index they return comes from the same state that woke them.

mod cli_support;

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use cli_support::{Agent, free_port, http_exchange, temp_dir};

/// The `X-Consul-Index` of a response head.
fn consul_index(head: &str) -> u64 {
    head.lines()
        .find_map(|line| line.strip_prefix("X-Consul-Index: "))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no X-Consul-Index in {head}"))
}

/// Writes `value` at `key` through `port`; the index the write landed at, read back.
fn put(port: u16, key: &str, value: &str) -> u64 {
    let (status, _, body) = http_exchange(port, "PUT", &format!("/v1/kv/{key}"), value);
    assert_eq!((status, body.as_str()), (200, "true"));
    let (status, head, _) = http_exchange(port, "GET", &format!("/v1/kv/{key}"), "");
    assert_eq!(status, 200);
    consul_index(&head)
}

/// Starts `GET target` on another thread; its (status, head, body) arrive on the receiver.
fn park(port: u16, target: String) -> mpsc::Receiver<(u16, String, String)> {
    let (done, replies) = mpsc::channel();
    thread::spawn(move || {
        let _ = done.send(http_exchange(port, "GET", &target, ""));
    });
    replies
}

fn start_dev_agent() -> (Agent, u16) {
    let http = free_port();
    let mut agent = Agent::start(&[
        "-dev",
        &format!("-http-port={http}"),
        &format!("-server-port={}", free_port()),
        "-dns-port=-1",
    ]);
    agent.wait_for("New leader elected", Duration::from_secs(10));
    (agent, http)
}

#[test]
fn a_parked_kv_query_sleeps_through_other_writes_and_wakes_on_its_own_key() {
    let (_agent, port) = start_dev_agent();
    let seen = put(port, "watched", "v1");
    let replies = park(port, format!("/v1/kv/watched?index={seen}&wait=20s"));
    thread::sleep(Duration::from_millis(300));

    // Other keys, including ones the watched key is a prefix of or shares a prefix with.
    for key in ["other", "watchedx", "watch", "watched/child"] {
        put(port, key, "x");
    }
    assert!(
        replies.recv_timeout(Duration::from_millis(700)).is_err(),
        "woken by a write to another key"
    );

    let written_at = Instant::now();
    let index = put(port, "watched", "v2");
    let (status, head, body) = replies
        .recv_timeout(Duration::from_secs(5))
        .expect("woken by its own key");
    assert!(written_at.elapsed() < Duration::from_secs(2));
    assert_eq!(status, 200);
    assert_eq!(consul_index(&head), index);
    assert!(body.contains(r#""Value":"djI=""#), "{body}");
}

#[test]
fn a_parked_prefix_query_wakes_for_a_key_under_it_only() {
    let (_agent, port) = start_dev_agent();
    let seen = put(port, "app/a", "1");
    let replies = park(port, format!("/v1/kv/app/?recurse&index={seen}&wait=20s"));
    thread::sleep(Duration::from_millis(300));
    put(port, "apq", "x");
    put(port, "other/app/", "x");
    assert!(replies.recv_timeout(Duration::from_millis(700)).is_err());

    let index = put(port, "app/b", "2");
    let (status, head, body) = replies
        .recv_timeout(Duration::from_secs(5))
        .expect("woken by a key under the prefix");
    assert_eq!((status, consul_index(&head)), (200, index));
    assert!(body.contains(r#""Key":"app/b""#), "{body}");
}

/// Three servers formed with `-bootstrap-expect=3`, once one leads; (agents, HTTP ports,
/// RPC ports).
fn start_three_servers() -> (Vec<Agent>, Vec<u16>, Vec<u16>) {
    let serf: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let http: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let rpc: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let mut agents = Vec::new();
    for i in 0..3 {
        let dir = temp_dir(&format!("blocking-{i}"));
        let args = [
            "-server".to_owned(),
            format!("-node=blocking{i}"),
            "-bind=127.0.0.1".to_owned(),
            format!("-data-dir={}", dir.display()),
            format!("-http-port={}", http[i]),
            format!("-server-port={}", rpc[i]),
            format!("-serf-lan-port={}", serf[i]),
            "-dns-port=-1".to_owned(),
            "-bootstrap-expect=3".to_owned(),
            format!("-retry-join=127.0.0.1:{}", serf[(i + 1) % 3]),
            "-retry-interval=1s".to_owned(),
        ];
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut agent = Agent::start(&args);
        agent.wait_for("synod agent running", Duration::from_secs(20));
        agents.push(agent);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, _, body) = http_exchange(http[0], "PUT", "/v1/kv/formed", "yes");
        if status == 200 && body == "true" {
            return (agents, http, rpc);
        }
        assert!(Instant::now() < deadline, "no leader: {status} {body}");
        thread::sleep(Duration::from_millis(100));
    }
}

/// The HTTP port of a server that does not lead.
fn a_follower(http: &[u16], rpc: &[u16]) -> u16 {
    let (_, _, leader) = http_exchange(http[0], "GET", "/v1/status/leader", "");
    let leading = rpc
        .iter()
        .position(|port| leader.contains(&format!(":{port}\"")))
        .unwrap_or_else(|| panic!("leader {leader} is one of the three"));
    http[(leading + 1) % 3]
}

#[test]
fn a_blocking_default_read_on_a_follower_wakes_on_the_write_and_reports_its_index() {
    let (_agents, http, rpc) = start_three_servers();
    let follower = a_follower(&http, &rpc);
    let (status, head, _) = http_exchange(follower, "GET", "/v1/kv/formed", "");
    assert_eq!(status, 200);
    let seen = consul_index(&head);
    let replies = park(follower, format!("/v1/kv/followed?index={seen}&wait=20s"));
    thread::sleep(Duration::from_millis(300));
    put(follower, "unrelated", "x");
    assert!(replies.recv_timeout(Duration::from_millis(500)).is_err());

    // Written through the follower (forwarded to the leader).
    let (status, _, body) = http_exchange(follower, "PUT", "/v1/kv/followed", "v");
    assert_eq!((status, body.as_str()), (200, "true"));
    let (status, head, body) = replies
        .recv_timeout(Duration::from_secs(5))
        .expect("woken by the write");
    assert_eq!(status, 200);
    assert!(body.contains(r#""Key":"followed""#), "{body}");
    let woken_at = consul_index(&head);
    assert!(woken_at > seen);
    // The index is the key's own, whichever server is asked.
    let (_, head, _) = http_exchange(follower, "GET", "/v1/kv/followed", "");
    assert_eq!(consul_index(&head), woken_at);
}
