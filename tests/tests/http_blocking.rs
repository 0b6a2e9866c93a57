//! Blocking KV queries over loopback: wake on change, time out unchanged, and cancellation when
//! the client disconnects.

mod http_support;

use std::time::{Duration, Instant};

use http_support::TestServer;
use synod_runtime_smol::http::{MemoryBackend, ServerConfig};

fn server() -> TestServer<MemoryBackend> {
    TestServer::start(ServerConfig::default())
}

#[test]
fn blocking_get_returns_when_the_key_changes() {
    let s = server();
    s.request("PUT", "/v1/kv/watched", b"v1");
    let index = s.request("GET", "/v1/kv/watched", b"").index();

    let mut client = s.connect();
    client.send(
        "GET",
        &format!("/v1/kv/watched?index={index}&wait=10s"),
        b"",
    );
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    s.request("PUT", "/v1/kv/watched", b"v2");
    let reply = client.reply();
    assert_eq!(reply.status, 200);
    assert!(reply.index() > index);
    assert!(
        reply.text().contains(r#""Value":"djI=""#),
        "{}",
        reply.text()
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn blocking_get_times_out_with_the_same_index_when_nothing_changes() {
    let s = server();
    s.request("PUT", "/v1/kv/still", b"v");
    let index = s.request("GET", "/v1/kv/still", b"").index();
    let started = Instant::now();
    let reply = s.request("GET", &format!("/v1/kv/still?index={index}&wait=1s"), b"");
    let waited = started.elapsed();
    assert_eq!((reply.status, reply.index()), (200, index));
    // wait plus at most wait/16 of jitter, plus scheduling slack.
    assert!(waited >= Duration::from_secs(1), "{waited:?}");
    assert!(waited < Duration::from_millis(1_062 + 1_000), "{waited:?}");
}

#[test]
fn writes_elsewhere_do_not_end_a_blocking_query_early() {
    let s = server();
    s.request("PUT", "/v1/kv/mine", b"v");
    let index = s.request("GET", "/v1/kv/mine", b"").index();
    let mut client = s.connect();
    client.send("GET", &format!("/v1/kv/mine?index={index}&wait=1s"), b"");
    std::thread::sleep(Duration::from_millis(100));
    s.request("PUT", "/v1/kv/other", b"x");
    let started = Instant::now();
    let reply = client.reply();
    assert_eq!(reply.index(), index);
    assert!(started.elapsed() >= Duration::from_millis(700));
}

/// Polls `condition` for up to five seconds.
fn eventually(condition: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !condition() {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

#[test]
fn a_client_that_disconnects_cancels_its_parked_query() {
    let s = server();
    s.request("PUT", "/v1/kv/k", b"v");
    let index = s.request("GET", "/v1/kv/k", b"").index();

    let mut client = s.connect();
    client.send("GET", &format!("/v1/kv/k?index={index}&wait=5m"), b"");
    assert!(eventually(|| s.backend.parked_queries() == 1));
    drop(client);
    assert!(eventually(|| s.backend.parked_queries() == 0));
    // The server is still serving.
    assert_eq!(s.request("GET", "/v1/kv/k?raw", b"").text(), "v");
}

#[test]
fn a_blocking_query_on_a_missing_key_wakes_when_it_is_created() {
    let s = server();
    let missing = s.request("GET", "/v1/kv/later", b"");
    assert_eq!(missing.status, 404);
    let mut client = s.connect();
    client.send(
        "GET",
        &format!("/v1/kv/later?index={}&wait=10s", missing.index()),
        b"",
    );
    assert!(eventually(|| s.backend.parked_queries() == 1));
    s.request("PUT", "/v1/kv/later", b"now");
    let reply = client.reply();
    assert_eq!(reply.status, 200);
    assert!(reply.index() > missing.index());
}
