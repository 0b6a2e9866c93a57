//! HTTP protocol behaviour of the API server over loopback: methods, redirects, keep-alive,
//! pipelining and timeouts.

mod http_support;

use std::time::{Duration, Instant};

use http_support::{TestServer, request_bytes};
use synod_runtime_smol::http::ServerConfig;

fn server() -> TestServer<synod_runtime_smol::http::MemoryBackend> {
    TestServer::start(ServerConfig::default())
}

#[test]
fn wrong_methods_get_405_with_allow() {
    let s = server();
    let reply = s.request("POST", "/v1/kv/x", b"");
    assert_eq!(
        (reply.status, reply.text()),
        (405, "method POST not allowed")
    );
    assert_eq!(reply.header("Allow"), Some("OPTIONS,GET,PUT,DELETE"));
    let status = s.request("PUT", "/v1/status/leader", b"");
    assert_eq!(status.status, 405);
    assert_eq!(status.header("Allow"), Some("OPTIONS,GET"));
}

#[test]
fn options_lists_allowed_methods() {
    let s = server();
    let reply = s.request("OPTIONS", "/v1/kv/x", b"");
    assert_eq!((reply.status, reply.body.len()), (200, 0));
    assert_eq!(reply.header("Allow"), Some("OPTIONS,GET,PUT,DELETE"));
}

#[test]
fn unclean_paths_redirect_like_go() {
    let s = server();
    let reply = s.request("GET", "//v1//kv/x?raw", b"");
    assert_eq!(reply.status, 301);
    assert_eq!(reply.header("Location"), Some("/v1/kv/x?raw"));
    assert_eq!(
        reply.text(),
        "<a href=\"/v1/kv/x?raw\">Moved Permanently</a>.\n\n"
    );
    let subtree = s.request("GET", "/v1/kv", b"");
    assert_eq!(
        (subtree.status, subtree.header("Location")),
        (301, Some("/v1/kv/"))
    );
}

#[test]
fn unknown_paths_are_404_with_consuls_hint() {
    let s = server();
    let api = s.request("GET", "/v1/nope", b"");
    assert_eq!(
        (api.status, api.text()),
        (404, "Invalid URL path: not a recognized HTTP API endpoint")
    );
    let other = s.request("GET", "/nope", b"");
    assert_eq!(
        other.text(),
        "Invalid URL path: if attempting to use the HTTP API, ensure the path starts with '/v1/'"
    );
}

#[test]
fn pipelined_requests_are_answered_in_order_on_one_connection() {
    let s = server();
    let mut client = s.connect();
    let mut both = request_bytes("PUT", "/v1/kv/p", b"first");
    both.extend(request_bytes("GET", "/v1/kv/p?raw", b""));
    client.send_raw(&both);
    let put = client.reply();
    let get = client.reply();
    assert_eq!((put.status, put.text()), (200, "true"));
    assert_eq!((get.status, get.text()), (200, "first"));
    assert_eq!(get.header("Connection"), None);
    // The connection is still usable afterwards.
    client.send("GET", "/v1/status/leader", b"");
    assert_eq!(client.reply().status, 200);
}

#[test]
fn connection_close_and_http10_end_the_connection() {
    let s = server();
    let mut client = s.connect();
    client.send_raw(b"GET /v1/status/leader HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    let reply = client.reply();
    assert_eq!(reply.header("Connection"), Some("close"));
    assert!(client.closed_by_server());

    let mut old = s.connect();
    old.send_raw(b"GET /v1/status/leader HTTP/1.0\r\n\r\n");
    assert_eq!(old.reply().status, 200);
    assert!(old.closed_by_server());

    let mut kept = s.connect();
    kept.send_raw(b"GET /v1/status/leader HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_eq!(kept.reply().header("Connection"), Some("keep-alive"));
    kept.send_raw(b"GET /v1/status/peers HTTP/1.0\r\n\r\n");
    assert_eq!(kept.reply().text(), r#"["127.0.0.1:8300"]"#);
}

#[test]
fn chunked_uploads_and_expect_continue_work() {
    let s = server();
    let mut client = s.connect();
    client.send_raw(
        b"PUT /v1/kv/c HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    let interim = client.reply();
    assert_eq!(interim.status, 100);
    client.send_raw(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
    assert_eq!(client.reply().text(), "true");
    assert_eq!(s.request("GET", "/v1/kv/c?raw", b"").text(), "abcde");
}

#[test]
fn malformed_requests_get_go_style_400_and_close() {
    let s = server();
    let mut client = s.connect();
    client.send_raw(b"GET /v1/kv/a HTTP/1.1\r\n\r\n");
    let reply = client.reply();
    assert_eq!(
        (reply.status, reply.text()),
        (400, "400 Bad Request: missing required Host header")
    );
    assert_eq!(reply.header("Connection"), Some("close"));
    assert!(client.closed_by_server());
}

#[test]
fn oversize_heads_are_431() {
    let s = server();
    let mut client = s.connect();
    let long = "a".repeat(9 * 1024);
    client
        .send_raw(format!("GET /v1/kv/a HTTP/1.1\r\nHost: t\r\nX-Long: {long}\r\n\r\n").as_bytes());
    let reply = client.reply();
    assert_eq!(
        (reply.status, reply.text()),
        (431, "431 Request Header Fields Too Large")
    );
}

#[test]
fn slow_headers_and_idle_connections_are_closed() {
    let s = TestServer::start(ServerConfig {
        header_timeout: Duration::from_millis(200),
        idle_timeout: Duration::from_millis(300),
        ..ServerConfig::default()
    });
    let mut slow = s.connect();
    slow.send_raw(b"GET /v1/kv/a HTTP/1.1\r\nHost");
    let started = Instant::now();
    assert!(slow.closed_by_server());
    assert!(started.elapsed() < Duration::from_secs(5));

    let mut idle = s.connect();
    idle.send("GET", "/v1/status/leader", b"");
    assert_eq!(idle.reply().status, 200);
    let started = Instant::now();
    assert!(idle.closed_by_server());
    assert!(started.elapsed() >= Duration::from_millis(250));
}

#[test]
fn connections_over_the_cap_are_closed_until_a_slot_frees() {
    let s = TestServer::start(ServerConfig {
        max_connections: 1,
        ..ServerConfig::default()
    });
    let mut first = s.connect();
    first.send("GET", "/v1/status/leader", b"");
    assert_eq!(first.reply().status, 200);
    let mut second = s.connect();
    assert!(second.closed_by_server());
    drop(first);
    // The slot is released once the server notices the first client left.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut retry = s.connect();
        retry.send("GET", "/v1/status/leader", b"");
        let mut probe = [0u8; 1];
        if std::io::Read::read(&mut retry.stream, &mut probe).is_ok_and(|n| n == 1) {
            break;
        }
        assert!(Instant::now() < deadline, "slot never freed");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn bodies_are_gzipped_for_clients_that_accept_it() {
    use std::io::Read;

    let s = server();
    assert_eq!(s.request("PUT", "/v1/kv/zipped", b"hello").status, 200);
    let plain = s.request("GET", "/v1/kv/zipped", b"");
    assert_eq!(plain.header("Vary"), Some("Accept-Encoding"));
    assert_eq!(plain.header("Content-Encoding"), None);

    let mut client = s.connect();
    client.send_raw(
        b"GET /v1/kv/zipped HTTP/1.1\r\nHost: t\r\nAccept-Encoding: deflate, gzip\r\n\r\n",
    );
    let zipped = client.reply();
    assert_eq!(zipped.status, 200);
    assert_eq!(zipped.header("Content-Encoding"), Some("gzip"));
    let mut body = Vec::new();
    flate2::read::GzDecoder::new(zipped.body.as_slice())
        .read_to_end(&mut body)
        .expect("a gzip body");
    assert_eq!(body, plain.body);

    // Nothing to compress in an empty body: no Content-Encoding (gziphandler does the same).
    client.send_raw(b"GET /v1/kv/missing HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n");
    let empty = client.reply();
    assert_eq!(
        (empty.status, empty.header("Content-Encoding")),
        (404, None)
    );
}
