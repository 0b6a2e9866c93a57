//! Blocking KV queries over loopback: wake on change, time out unchanged, and cancellation when
//! the client disconnects.

mod http_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use http_support::{TestServer, leader_status};
use synod_core::node::{ClientRequest, ClientResponse};
use synod_core::state::kv_types::KvQuery;
use synod_runtime_smol::http::{Backend, MemoryBackend, ServerConfig, Status};

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

/// Counts blocking waits that were abandoned before finishing.
struct CountingBackend {
    inner: MemoryBackend,
    abandoned: Arc<AtomicUsize>,
}

struct AbandonGuard {
    abandoned: Arc<AtomicUsize>,
    finished: bool,
}

impl Drop for AbandonGuard {
    fn drop(&mut self) {
        if !self.finished {
            self.abandoned.fetch_add(1, Ordering::SeqCst);
        }
    }
}

impl Backend for CountingBackend {
    async fn request(&self, request: ClientRequest) -> ClientResponse {
        self.inner.request(request).await
    }

    async fn status(&self) -> Status {
        self.inner.status().await
    }

    async fn wait_kv(&self, query: &KvQuery, min_index: u64, deadline: Instant) {
        let mut guard = AbandonGuard {
            abandoned: Arc::clone(&self.abandoned),
            finished: false,
        };
        self.inner.wait_kv(query, min_index, deadline).await;
        guard.finished = true;
    }
}

#[test]
fn a_client_that_disconnects_cancels_its_parked_query() {
    let abandoned = Arc::new(AtomicUsize::new(0));
    let backend = Arc::new(CountingBackend {
        inner: MemoryBackend::new(leader_status()),
        abandoned: Arc::clone(&abandoned),
    });
    let s = TestServer::with_backend(backend, ServerConfig::default());
    s.request("PUT", "/v1/kv/k", b"v");

    let mut client = s.connect();
    client.send("GET", "/v1/kv/k?index=1&wait=5m", b"");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(abandoned.load(Ordering::SeqCst), 0);
    drop(client);

    let deadline = Instant::now() + Duration::from_secs(5);
    while abandoned.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(abandoned.load(Ordering::SeqCst), 1);
    // The server is still serving.
    assert_eq!(s.request("GET", "/v1/kv/k?raw", b"").text(), "v");
}
