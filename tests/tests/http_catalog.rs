//! The catalog and health HTTP API over loopback against the in-memory backend: register,
//! read back every endpoint with Consul's exact JSON, deregister, errors, and blocking
//! queries that wake on their own service only.

mod http_support;

use std::time::{Duration, Instant};

use http_support::TestServer;
use synod_runtime_smol::http::{MemoryBackend, ServerConfig};

fn server() -> TestServer<MemoryBackend> {
    TestServer::start(ServerConfig::default())
}

const NODE_ID: &str = "40e4a748-2192-161a-0510-9bf59fe950b5";

/// Node `foo` with service `web1` (web, tag v1, port 80) and a passing check on it.
fn register_foo(s: &TestServer<MemoryBackend>) {
    let body = format!(
        r#"{{"Node":"foo","ID":"{NODE_ID}","Address":"10.1.2.3","TaggedAddresses":{{"lan":"10.1.2.3"}},
            "NodeMeta":{{"rack":"r1"}},
            "Service":{{"ID":"web1","Service":"web","Tags":["v1"],"Port":80}},
            "Check":{{"CheckID":"web1-alive","Name":"web alive","Status":"passing","ServiceID":"web1"}}}}"#
    );
    let reply = s.request("PUT", "/v1/catalog/register", body.as_bytes());
    assert_eq!((reply.status, reply.text()), (200, "true"));
}

fn node_json(index: u64) -> String {
    format!(
        r#"{{"ID":"{NODE_ID}","Node":"foo","Address":"10.1.2.3","Datacenter":"dc1","TaggedAddresses":{{"lan":"10.1.2.3"}},"Meta":{{"rack":"r1"}},"CreateIndex":{index},"ModifyIndex":{index}}}"#
    )
}

fn web1_json(index: u64) -> String {
    format!(
        r#"{{"ID":"web1","Service":"web","Tags":["v1"],"Address":"","Meta":{{}},"Port":80,"Weights":{{"Passing":1,"Warning":1}},"EnableTagOverride":false,"Proxy":{{"Mode":"","MeshGateway":{{}},"Expose":{{}}}},"Connect":{{}},"CreateIndex":{index},"ModifyIndex":{index}}}"#
    )
}

fn check_json(status: &str, create: u64, modify: u64) -> String {
    format!(
        r#"{{"Node":"foo","CheckID":"web1-alive","Name":"web alive","Status":"{status}","Notes":"","Output":"","ServiceID":"web1","ServiceName":"web","ServiceTags":["v1"],"Type":"","Interval":"","Timeout":"","ExposedPort":0,"Definition":{{}},"CreateIndex":{create},"ModifyIndex":{modify}}}"#
    )
}

#[test]
fn registered_service_reads_back_with_consuls_json_on_every_endpoint() {
    let s = server();
    register_foo(&s);

    let reply = s.request("GET", "/v1/catalog/service/web", b"");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.index(), 2);
    assert_eq!(reply.header("X-Consul-KnownLeader"), Some("true"));
    assert_eq!(
        reply.text(),
        format!(
            r#"[{{"ID":"{NODE_ID}","Node":"foo","Address":"10.1.2.3","Datacenter":"dc1","TaggedAddresses":{{"lan":"10.1.2.3"}},"NodeMeta":{{"rack":"r1"}},"ServiceKind":"","ServiceID":"web1","ServiceName":"web","ServiceTags":["v1"],"ServiceAddress":"","ServiceWeights":{{"Passing":1,"Warning":1}},"ServiceMeta":{{}},"ServicePort":80,"ServiceSocketPath":"","ServiceEnableTagOverride":false,"ServiceProxy":{{"Mode":"","MeshGateway":{{}},"Expose":{{}}}},"ServiceConnect":{{}},"CreateIndex":2,"ModifyIndex":2}}]"#
        )
    );
    assert_eq!(
        s.request("GET", "/v1/catalog/nodes", b"").text(),
        format!("[{}]", node_json(2))
    );
    assert_eq!(
        s.request("GET", "/v1/catalog/services", b"").text(),
        r#"{"web":["v1"]}"#
    );
    assert_eq!(
        s.request("GET", "/v1/catalog/node/foo", b"").text(),
        format!(
            r#"{{"Node":{},"Services":{{"web1":{}}}}}"#,
            node_json(2),
            web1_json(2)
        )
    );
    assert_eq!(
        s.request("GET", "/v1/catalog/node-services/foo", b"")
            .text(),
        format!(
            r#"{{"Node":{},"Services":[{}]}}"#,
            node_json(2),
            web1_json(2)
        )
    );
    let check = check_json("passing", 2, 2);
    assert_eq!(
        s.request("GET", "/v1/health/node/foo", b"").text(),
        format!("[{check}]")
    );
    assert_eq!(
        s.request("GET", "/v1/health/checks/web", b"").text(),
        format!("[{check}]")
    );
    assert_eq!(
        s.request("GET", "/v1/health/state/passing", b"").text(),
        format!("[{check}]")
    );
    assert_eq!(
        s.request("GET", "/v1/health/service/web?passing", b"")
            .text(),
        format!(
            r#"[{{"Node":{},"Service":{},"Checks":[{check}]}}]"#,
            node_json(2),
            web1_json(2)
        )
    );
    assert_eq!(
        s.request("GET", "/v1/catalog/datacenters", b"").text(),
        r#"["dc1"]"#
    );
}

#[test]
fn unknown_names_answer_empty_lists_or_null() {
    let s = server();
    register_foo(&s);
    for (target, body) in [
        ("/v1/catalog/service/nope", "[]"),
        ("/v1/catalog/node/nope", "null"),
        (
            "/v1/catalog/node-services/nope",
            r#"{"Node":null,"Services":[]}"#,
        ),
        ("/v1/health/service/nope", "[]"),
        ("/v1/health/node/nope", "[]"),
        ("/v1/health/checks/nope", "[]"),
        ("/v1/health/state/critical", "[]"),
    ] {
        let reply = s.request("GET", target, b"");
        assert_eq!((reply.status, reply.text()), (200, body), "{target}");
        assert!(reply.index() >= 1, "{target}");
    }
}

/// A row's node name: `Node` is the name on catalog rows and checks, the node object on
/// health entries.
fn node_name(row: &serde_json::Value) -> String {
    let node = &row["Node"];
    node.as_str()
        .or_else(|| node["Node"].as_str())
        .expect("a node name")
        .to_owned()
}

#[test]
fn filters_by_tag_node_meta_and_passing() {
    let s = server();
    register_foo(&s);
    let critical = r#"{"Node":"bar","Address":"10.1.2.4","NodeMeta":{"rack":"r2"},
        "Service":{"ID":"web2","Service":"web","Tags":["V2"]},
        "Check":{"CheckID":"web2-alive","Name":"web alive","Status":"critical","ServiceID":"web2"}}"#;
    assert_eq!(
        s.request("PUT", "/v1/catalog/register", critical.as_bytes())
            .status,
        200
    );
    let nodes_of = |target: &str| -> Vec<String> {
        let reply = s.request("GET", target, b"");
        assert_eq!(reply.status, 200, "{target}: {}", reply.text());
        let rows: serde_json::Value = serde_json::from_slice(&reply.body).expect("json");
        rows.as_array()
            .expect("array")
            .iter()
            .map(node_name)
            .collect()
    };
    assert_eq!(nodes_of("/v1/catalog/service/web"), ["bar", "foo"]);
    assert_eq!(nodes_of("/v1/catalog/service/web?tag=v2"), ["bar"]);
    assert_eq!(
        nodes_of("/v1/catalog/service/web?tag=v1&tag=v2"),
        Vec::<String>::new()
    );
    assert_eq!(
        nodes_of("/v1/catalog/service/web?node-meta=rack:r1"),
        ["foo"]
    );
    assert_eq!(nodes_of("/v1/health/service/web"), ["bar", "foo"]);
    assert_eq!(nodes_of("/v1/health/service/web?passing"), ["foo"]);
    assert_eq!(
        nodes_of("/v1/health/service/web?passing=false"),
        ["bar", "foo"]
    );
    assert_eq!(nodes_of("/v1/health/state/critical"), ["bar"]);
    assert_eq!(nodes_of("/v1/health/state/any?node-meta=rack:r2"), ["bar"]);
    assert_eq!(nodes_of("/v1/catalog/nodes?node-meta=rack:r2"), ["bar"]);
}

#[test]
fn deregistering_a_service_then_the_node_removes_them_and_their_checks() {
    let s = server();
    register_foo(&s);
    let reply = s.request(
        "PUT",
        "/v1/catalog/deregister",
        br#"{"Node":"foo","ServiceID":"web1"}"#,
    );
    assert_eq!((reply.status, reply.text()), (200, "true"));
    assert_eq!(
        s.request("GET", "/v1/catalog/service/web", b"").text(),
        "[]"
    );
    assert_eq!(s.request("GET", "/v1/health/node/foo", b"").text(), "[]");
    assert_eq!(
        s.request("GET", "/v1/catalog/nodes", b"").text(),
        format!("[{}]", node_json(2))
    );
    let reply = s.request("PUT", "/v1/catalog/deregister", br#"{"Node":"foo"}"#);
    assert_eq!((reply.status, reply.text()), (200, "true"));
    assert_eq!(s.request("GET", "/v1/catalog/nodes", b"").text(), "[]");
    assert_eq!(s.request("GET", "/v1/catalog/node/foo", b"").text(), "null");
}

#[test]
fn errors_answer_consuls_status_and_text() {
    let s = server();
    for (method, target, body, status, text) in [
        (
            "GET",
            "/v1/catalog/service/",
            "",
            400,
            "Missing service name",
        ),
        ("GET", "/v1/catalog/node/", "", 400, "Missing node name"),
        ("GET", "/v1/health/node/", "", 400, "Missing node name"),
        ("GET", "/v1/health/checks/", "", 400, "Missing service name"),
        (
            "GET",
            "/v1/health/service/",
            "",
            400,
            "Missing service name",
        ),
        ("GET", "/v1/health/state/", "", 400, "Missing check state"),
        (
            "GET",
            "/v1/health/service/web?passing=maybe",
            "",
            400,
            "Invalid value for ?passing",
        ),
        (
            "GET",
            "/v1/catalog/nodes?dc=dc9",
            "",
            500,
            "No path to datacenter",
        ),
        (
            "PUT",
            "/v1/catalog/register",
            r#"{"Address":"a"}"#,
            500,
            "Must provide node",
        ),
        (
            "PUT",
            "/v1/catalog/register",
            r#"{"Node":"n"}"#,
            500,
            "Must provide address",
        ),
        (
            "PUT",
            "/v1/catalog/deregister",
            r#"{}"#,
            500,
            "Must provide node",
        ),
        (
            "GET",
            "/v1/catalog/nodes?stale&consistent",
            "",
            400,
            "Cannot specify ?stale with ?consistent, conflicting semantics.",
        ),
        (
            "GET",
            "/v1/catalog/register",
            "",
            405,
            "method GET not allowed",
        ),
        (
            "PUT",
            "/v1/health/state/any",
            "",
            405,
            "method PUT not allowed",
        ),
    ] {
        let reply = s.request(method, target, body.as_bytes());
        assert_eq!(
            (reply.status, reply.text().trim_end()),
            (status, text),
            "{method} {target}"
        );
    }
    let reply = s.request("PUT", "/v1/catalog/register", b"{");
    assert_eq!(reply.status, 400);
    assert!(
        reply.text().starts_with("Request decode failed: "),
        "{}",
        reply.text()
    );
    let reply = s.request("GET", "/v1/health/state/bogus", b"");
    assert_eq!(reply.status, 400, "{}", reply.text());
}

#[test]
fn pretty_output_is_indented_with_four_spaces() {
    let s = server();
    register_foo(&s);
    let reply = s.request("GET", "/v1/catalog/services?pretty", b"");
    assert_eq!(
        reply.text(),
        "{\n    \"web\": [\n        \"v1\"\n    ]\n}\n"
    );
}

fn set_web1_check(s: &TestServer<MemoryBackend>, status: &str) {
    let body = format!(
        r#"{{"Node":"foo","Address":"10.1.2.3","SkipNodeUpdate":true,
            "Check":{{"CheckID":"web1-alive","Name":"web alive","Status":"{status}","ServiceID":"web1"}}}}"#
    );
    assert_eq!(
        s.request("PUT", "/v1/catalog/register", body.as_bytes())
            .status,
        200
    );
}

#[test]
fn blocking_health_query_returns_promptly_when_that_services_health_changes() {
    let s = server();
    register_foo(&s);
    let index = s.request("GET", "/v1/health/service/web", b"").index();
    let mut client = s.connect();
    client.send(
        "GET",
        &format!("/v1/health/service/web?index={index}&wait=20s"),
        b"",
    );
    std::thread::sleep(Duration::from_millis(200));
    let changed_at = Instant::now();
    set_web1_check(&s, "critical");
    let reply = client.reply();
    assert_eq!(reply.status, 200);
    assert!(reply.index() > index);
    assert!(
        reply.text().contains(r#""Status":"critical""#),
        "{}",
        reply.text()
    );
    assert!(
        changed_at.elapsed() < Duration::from_secs(2),
        "{:?}",
        changed_at.elapsed()
    );
}

#[test]
fn blocking_health_query_keeps_waiting_through_unrelated_changes() {
    let s = server();
    register_foo(&s);
    let index = s.request("GET", "/v1/health/service/web", b"").index();
    let mut client = s.connect();
    let started = Instant::now();
    client.send(
        "GET",
        &format!("/v1/health/service/web?index={index}&wait=1500ms"),
        b"",
    );
    std::thread::sleep(Duration::from_millis(200));
    // Another service on another node, and a KV write: neither touches web.
    let other = r#"{"Node":"baz","Address":"10.1.2.9","Service":{"Service":"db"},
        "Check":{"CheckID":"db","Name":"db","Status":"critical","ServiceID":"db"}}"#;
    assert_eq!(
        s.request("PUT", "/v1/catalog/register", other.as_bytes())
            .status,
        200
    );
    assert_eq!(s.request("PUT", "/v1/kv/unrelated", b"x").status, 200);
    let reply = client.reply();
    let waited = started.elapsed();
    assert_eq!((reply.status, reply.index()), (200, index));
    assert!(waited >= Duration::from_millis(1_500), "{waited:?}");
}
