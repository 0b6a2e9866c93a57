//! The KV HTTP API over real loopback sockets against the in-memory backend.

mod http_support;

use http_support::TestServer;
use synod_runtime_smol::http::ServerConfig;

fn server() -> TestServer<synod_runtime_smol::http::MemoryBackend> {
    TestServer::start(ServerConfig::default())
}

#[test]
fn kv_walkthrough_put_get_raw_recurse_keys_cas_delete() {
    let s = server();

    let put = s.request("PUT", "/v1/kv/foo", b"bar");
    assert_eq!((put.status, put.text()), (200, "true"));
    assert_eq!(put.header("Content-Type"), Some("application/json"));

    let get = s.request("GET", "/v1/kv/foo", b"");
    assert_eq!(get.status, 200);
    assert_eq!(
        get.text(),
        r#"[{"LockIndex":0,"Key":"foo","Flags":0,"Value":"YmFy","CreateIndex":2,"ModifyIndex":2}]"#
    );
    assert_eq!(get.index(), 2);
    assert_eq!(get.header("X-Consul-Knownleader"), Some("true"));
    assert_eq!(get.header("X-Consul-Lastcontact"), Some("0"));
    assert_eq!(get.header("X-Consul-Effective-Consistency"), Some("leader"));
    assert_eq!(get.header("X-Consul-Default-Acl-Policy"), Some("allow"));

    let raw = s.request("GET", "/v1/kv/foo?raw", b"");
    assert_eq!((raw.status, raw.text()), (200, "bar"));
    assert_eq!(raw.header("Content-Type"), Some("text/plain"));
    assert_eq!(raw.header("X-Content-Type-Options"), Some("nosniff"));
    assert_eq!(raw.header("Content-Security-Policy"), Some("sandbox"));

    assert_eq!(
        s.request("PUT", "/v1/kv/foo/a?flags=42", b"1").text(),
        "true"
    );
    assert_eq!(s.request("PUT", "/v1/kv/foo/b/c", b"").text(), "true");

    let recurse = s.request("GET", "/v1/kv/foo?recurse", b"");
    assert_eq!(
        recurse.text(),
        concat!(
            r#"[{"LockIndex":0,"Key":"foo","Flags":0,"Value":"YmFy","CreateIndex":2,"ModifyIndex":2},"#,
            r#"{"LockIndex":0,"Key":"foo/a","Flags":42,"Value":"MQ==","CreateIndex":3,"ModifyIndex":3},"#,
            r#"{"LockIndex":0,"Key":"foo/b/c","Flags":0,"Value":null,"CreateIndex":4,"ModifyIndex":4}]"#
        )
    );
    assert_eq!(recurse.index(), 4);

    let keys = s.request("GET", "/v1/kv/foo/?keys&separator=/", b"");
    assert_eq!((keys.status, keys.text()), (200, r#"["foo/a","foo/b/"]"#));
    let all_keys = s.request("GET", "/v1/kv/?keys", b"");
    assert_eq!(all_keys.text(), r#"["foo","foo/a","foo/b/c"]"#);

    // cas=0 only creates; a stale index loses; the current index wins.
    assert_eq!(s.request("PUT", "/v1/kv/foo?cas=0", b"x").text(), "false");
    assert_eq!(s.request("PUT", "/v1/kv/foo?cas=99", b"x").text(), "false");
    assert_eq!(s.request("PUT", "/v1/kv/foo?cas=2", b"baz").text(), "true");
    assert_eq!(s.request("GET", "/v1/kv/foo?raw", b"").text(), "baz");
    assert_eq!(s.request("PUT", "/v1/kv/new?cas=0", b"n").text(), "true");

    // Delete with a stale cas fails, then a recursive delete removes the tree.
    assert_eq!(
        s.request("DELETE", "/v1/kv/foo/a?cas=2", b"").text(),
        "false"
    );
    assert_eq!(
        s.request("DELETE", "/v1/kv/foo?recurse", b"").text(),
        "true"
    );
    let gone = s.request("GET", "/v1/kv/foo", b"");
    assert_eq!((gone.status, gone.body.len()), (404, 0));
    assert!(gone.index() >= 1);
    assert_eq!(gone.header("X-Consul-Knownleader"), Some("true"));
    assert_eq!(s.request("GET", "/v1/kv/foo?recurse", b"").status, 404);
    assert_eq!(s.request("GET", "/v1/kv/foo/?keys", b"").status, 404);
    assert_eq!(s.request("GET", "/v1/kv/new?raw", b"").text(), "n");
}

#[test]
fn missing_keys_on_an_empty_store_still_carry_index_one() {
    let s = server();
    let reply = s.request("GET", "/v1/kv/nothing", b"");
    assert_eq!(reply.status, 404);
    assert_eq!(reply.index(), 1);
    let root = s.request("GET", "/v1/kv/?keys", b"");
    assert_eq!((root.status, root.text()), (200, "[]"));
}

#[test]
fn oversize_values_are_413_with_consuls_message() {
    let s = server();
    let value = vec![b'x'; 600 * 1024];
    let reply = s.request("PUT", "/v1/kv/big", &value);
    assert_eq!(reply.status, 413);
    assert_eq!(
        reply.text(),
        "Request body(614400 bytes) too large, max size: 524288 bytes. See \
         https://developer.hashicorp.com/docs/agent/config/config-files#kv_max_value_size."
    );
    assert_eq!(s.request("GET", "/v1/kv/big", b"").status, 404);
    // Exactly the limit is fine.
    let max = vec![b'y'; 512 * 1024];
    assert_eq!(s.request("PUT", "/v1/kv/big", &max).text(), "true");
}

#[test]
fn parameter_errors_use_consuls_status_and_text() {
    let s = server();
    let cases = [
        ("GET", "/v1/kv/", 400, "Missing key name"),
        ("PUT", "/v1/kv/", 400, "Missing key name"),
        ("DELETE", "/v1/kv/", 400, "Missing key name"),
        (
            "GET",
            "/v1/kv/a?stale&consistent",
            400,
            "Cannot specify ?stale with ?consistent, conflicting semantics.",
        ),
        ("GET", "/v1/kv/a?index=x", 400, "Invalid index"),
        (
            "GET",
            "/v1/kv/a?index=1&wait=forever",
            400,
            "Invalid wait time",
        ),
        (
            "PUT",
            "/v1/kv/a?cas=1&release=s1",
            400,
            "Conflicting flags: cas=1&release=s1",
        ),
        (
            "DELETE",
            "/v1/kv/a?recurse&cas=1",
            400,
            "Conflicting flags: cas=1&recurse=",
        ),
        (
            "PUT",
            "/v1/kv/a?flags=abc",
            400,
            "Invalid flags value: \"abc\"",
        ),
        (
            "PUT",
            "/v1/kv/a?acquire=s1",
            500,
            "Invalid session \"s1\": sessions are not supported yet",
        ),
        ("GET", "/v1/kv/a?dc=dc2", 500, "No path to datacenter"),
    ];
    for (method, target, status, text) in cases {
        let reply = s.request(method, target, b"");
        assert_eq!(
            (reply.status, reply.text()),
            (status, text),
            "{method} {target}"
        );
        assert_eq!(
            reply.header("Content-Type"),
            Some("text/plain; charset=utf-8")
        );
    }
    assert_eq!(s.request("GET", "/v1/kv/a?dc=dc1", b"").status, 404);
}

#[test]
fn consistency_modes_are_reported() {
    let s = server();
    s.request("PUT", "/v1/kv/a", b"1");
    for (query, mode) in [
        ("", "leader"),
        ("?stale", "stale"),
        ("?consistent", "consistent"),
    ] {
        let reply = s.request("GET", &format!("/v1/kv/a{query}"), b"");
        assert_eq!(reply.header("X-Consul-Effective-Consistency"), Some(mode));
    }
}

#[test]
fn pretty_output_is_indented_with_four_spaces() {
    let s = server();
    s.request("PUT", "/v1/kv/k", b"v");
    let reply = s.request("GET", "/v1/kv/k?pretty", b"");
    assert_eq!(
        reply.text(),
        "[\n    {\n        \"LockIndex\": 0,\n        \"Key\": \"k\",\n        \"Flags\": 0,\n        \
         \"Value\": \"dg==\",\n        \"CreateIndex\": 2,\n        \"ModifyIndex\": 2\n    }\n]\n"
    );
}

#[test]
fn keys_are_percent_decoded_and_flags_round_trip_at_u64_max() {
    let s = server();
    let put = s.request("PUT", "/v1/kv/a%20b%2Fc?flags=18446744073709551615", b"v");
    assert_eq!(put.text(), "true");
    let reply = s.request("GET", "/v1/kv/a%20b/c", b"");
    assert!(
        reply
            .text()
            .contains(r#""Key":"a b/c","Flags":18446744073709551615"#),
        "{}",
        reply.text()
    );
}

#[test]
fn status_endpoints_report_leader_and_peers() {
    let s = server();
    let leader = s.request("GET", "/v1/status/leader", b"");
    assert_eq!((leader.status, leader.text()), (200, r#""127.0.0.1:8300""#));
    let peers = s.request("GET", "/v1/status/peers", b"");
    assert_eq!(peers.text(), r#"["127.0.0.1:8300"]"#);
    s.backend.set_status(Default::default());
    assert_eq!(s.request("GET", "/v1/status/leader", b"").text(), r#""""#);
    assert_eq!(s.request("GET", "/v1/status/peers", b"").text(), "[]");
}
