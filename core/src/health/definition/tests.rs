use std::collections::BTreeMap;
use std::time::Duration;

use super::{DefinitionError, decode_check_body, decode_config, decode_service_body};
use crate::health::check::{CheckKind, DEFAULT_OUTPUT_MAX_SIZE, HttpProbe};
use crate::state::catalog::types::{HealthStatus, ServiceAddress, Weights};

fn err(path: &str, reason: &str) -> DefinitionError {
    DefinitionError {
        path: path.into(),
        reason: reason.into(),
    }
}

#[test]
fn the_seed_walkthrough_service_decodes_with_defaults() {
    let defs = decode_config(br#"{"service": {"name": "web", "tags": ["rails"], "port": 80}}"#)
        .expect("valid config");
    assert_eq!(defs.checks, vec![]);
    let [web] = defs.services.as_slice() else {
        panic!("one service expected: {defs:?}");
    };
    assert_eq!((web.id.as_str(), web.name.as_str()), ("web", "web"));
    assert_eq!(web.tags, vec!["rails"]);
    assert_eq!(web.port, 80);
    assert_eq!(
        web.weights,
        Weights {
            passing: 1,
            warning: 1
        }
    );
    assert!(web.checks.is_empty());
}

#[test]
fn config_services_and_checks_lists_decode_in_order() {
    let json = br#"{
        "datacenter": "dc1",
        "services": [{"name": "a"}, {"id": "b2", "name": "b"}],
        "check": {"name": "mem", "args": ["/bin/check_mem"], "interval": "30s"},
        "checks": [{"id": "beat", "name": "heartbeat", "ttl": "15s", "status": "passing"}]
    }"#;
    let defs = decode_config(json).expect("valid config");
    let ids: Vec<&str> = defs.services.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, vec!["a", "b2"]);
    let checks: Vec<(&str, &str)> = defs
        .checks
        .iter()
        .map(|c| (c.id.as_str(), c.kind.type_name()))
        .collect();
    assert_eq!(checks, vec![("mem", "script"), ("beat", "ttl")]);
    assert_eq!(defs.checks[0].timeout, Duration::from_secs(30));
    assert_eq!(defs.checks[1].initial_status, HealthStatus::Passing);
}

#[test]
fn nested_service_checks_get_consuls_ids_names_and_service() {
    let json = br#"{"service": {"name": "redis", "id": "redis1", "port": 6379,
        "check": {"tcp": "localhost:6379", "interval": "10s"},
        "checks": [{"http": "http://localhost/health", "interval": "1m30s", "timeout": "1s"}]}}"#;
    let defs = decode_config(json).expect("valid config");
    let checks = &defs.services[0].checks;
    let summary: Vec<(&str, &str, &str)> = checks
        .iter()
        .map(|c| (c.id.as_str(), c.name.as_str(), c.service_id.as_str()))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("service:redis1:1", "Service 'redis' check", "redis1"),
            ("service:redis1:2", "Service 'redis' check", "redis1"),
        ]
    );
    assert_eq!(checks[0].timeout, Duration::from_secs(10));
    assert_eq!(checks[0].initial_status, HealthStatus::Critical);
    assert_eq!(checks[1].interval, Duration::from_secs(90));
    assert_eq!(checks[1].timeout, Duration::from_secs(1));
    let single =
        decode_config(br#"{"service": {"name": "w", "check": {"ttl": "5s"}}}"#).expect("valid");
    assert_eq!(single.services[0].checks[0].id, "service:w");
}

#[test]
fn api_bodies_use_camel_case_and_every_field_decodes() {
    let json = br#"{
        "ID": "web1", "Name": "web", "Tags": ["a", "b"], "Address": "10.0.0.5", "Port": 8080,
        "Meta": {"Version": "1"}, "EnableTagOverride": true,
        "Weights": {"Passing": 10, "Warning": 1},
        "TaggedAddresses": {"lan": {"Address": "10.0.0.5", "Port": 8080}},
        "Check": {"CheckID": "web-http", "Name": "HTTP", "HTTP": "http://localhost:8080/",
                  "Method": "POST", "Header": {"X-Token": ["t"]}, "Body": "{}",
                  "TLSSkipVerify": true, "Interval": "10s", "SuccessBeforePassing": 2,
                  "FailuresBeforeCritical": 3, "DeregisterCriticalServiceAfter": "90m",
                  "Notes": "n", "OutputMaxSize": 100},
        "Connect": {"Native": false}, "SomethingNew": 1
    }"#;
    let web = decode_service_body(json).expect("valid body");
    assert_eq!(
        web.meta,
        BTreeMap::from([("Version".to_string(), "1".to_string())])
    );
    assert!(web.enable_tag_override);
    assert_eq!(
        web.weights,
        Weights {
            passing: 10,
            warning: 1
        }
    );
    assert_eq!(
        web.tagged_addresses,
        BTreeMap::from([(
            "lan".to_string(),
            ServiceAddress {
                address: "10.0.0.5".into(),
                port: 8080
            }
        )])
    );
    let check = &web.checks[0];
    assert_eq!(
        check.kind,
        CheckKind::Http(HttpProbe {
            url: "http://localhost:8080/".into(),
            method: "POST".into(),
            header: BTreeMap::from([("X-Token".to_string(), vec!["t".to_string()])]),
            body: "{}".into(),
            tls_skip_verify: true,
            tls_server_name: String::new(),
            disable_redirects: false,
        })
    );
    assert_eq!(
        (check.id.as_str(), check.name.as_str()),
        ("web-http", "HTTP")
    );
    assert_eq!(
        (
            check.success_before_passing,
            check.failures_before_warning,
            check.failures_before_critical
        ),
        (2, 3, 3)
    );
    assert_eq!(
        check.deregister_critical_service_after,
        Some(Duration::from_secs(5400))
    );
    assert_eq!(check.output_max_size, 100);
}

#[test]
fn a_check_body_defaults_its_id_to_its_name() {
    let check =
        decode_check_body(br#"{"Name": "mem", "TTL": "30s", "ServiceID": "web1"}"#).expect("valid");
    assert_eq!(
        (check.id.as_str(), check.service_id.as_str()),
        ("mem", "web1")
    );
    assert_eq!(
        check.kind,
        CheckKind::Ttl {
            ttl: Duration::from_secs(30)
        }
    );
    assert_eq!(check.output_max_size, DEFAULT_OUTPUT_MAX_SIZE);
    assert_eq!(check.deregister_critical_service_after, None);
}

#[test]
fn errors_name_the_key_and_the_reason() {
    let cases: [(&[u8], DefinitionError); 11] = [
        (
            br#"{"service": {"name": "web", "port": "eighty"}}"#,
            err("service.port", "expected a non-negative whole number"),
        ),
        (
            br#"{"service": {"name": "web", "port": true}}"#,
            err("service.port", "expected a number"),
        ),
        (
            br#"{"service": {"name": "web", "port": 70000}}"#,
            err("service.port", "must be at most 65535"),
        ),
        (
            br#"{"service": {"tags": ["x"]}}"#,
            err("service.name", "missing service name"),
        ),
        (
            br#"{"services": [{"name": "a"}, {"name": "b", "tags": "x"}]}"#,
            err("services[1].tags", "expected a list"),
        ),
        (
            br#"{"service": {"name": "web", "prot": 80}}"#,
            err("service.prot", "unknown key"),
        ),
        (
            br#"{"service": {"name": "w", "checks": [{"tcp": "h:1"}]}}"#,
            err(
                "service.checks[0].interval",
                "missing (required for tcp checks)",
            ),
        ),
        (
            br#"{"check": {"name": "c", "ttl": "5s", "http": "http://x"}}"#,
            err(
                "check",
                "only one of http, tcp, ttl, args or script may be set",
            ),
        ),
        (
            br#"{"check": {"name": "c"}}"#,
            err("check", "one of http, tcp, ttl, args or script is required"),
        ),
        (
            br#"{"check": {"name": "c", "ttl": "soon"}}"#,
            err("check.ttl", "invalid duration \"soon\""),
        ),
        (
            br#"{"check": {"name": "c", "grpc": "localhost:1"}}"#,
            err("check.grpc", "unsupported check type"),
        ),
    ];
    for (json, want) in cases {
        let got = decode_config(json).map(|_| ());
        assert_eq!(got, Err(want), "{}", String::from_utf8_lossy(json));
    }
    let body = decode_check_body(br#"{"Name": "c", "TTL": "5s", "Status": "ok"}"#);
    assert_eq!(
        body.map(|_| ()),
        Err(err(
            "Status",
            "\"ok\" is not one of passing, warning, critical"
        ))
    );
}

#[test]
fn error_text_reads_path_colon_reason() {
    let e = decode_config(br#"{"service": {"name": "web", "port": true}}"#).expect_err("invalid");
    assert_eq!(e.to_string(), "service.port: expected a number");
}

#[test]
fn non_objects_and_bad_json_are_errors_not_panics() {
    for json in [
        &b"[]"[..],
        b"null",
        b"{",
        b"\xff",
        b"{\"service\": 1}",
        b"{\"services\": {}}",
    ] {
        assert!(
            decode_config(json).is_err(),
            "{}",
            String::from_utf8_lossy(json)
        );
        assert!(decode_service_body(json).is_err());
    }
}

#[test]
fn definitions_convert_to_catalog_rows() {
    let web = decode_service_body(
        br#"{"Name": "web", "Port": 80, "Tags": ["t"], "Check": {"TTL": "10s", "Notes": "n"}}"#,
    )
    .expect("valid body");
    let service = web.catalog_service();
    assert_eq!(
        (
            service.id.as_str(),
            service.service.as_str(),
            service.port,
            service.tags.clone()
        ),
        ("web", "web", 80, vec!["t".to_string()])
    );
    let check = web.checks[0].catalog_check("n1", HealthStatus::Warning, "out");
    assert_eq!(
        (
            check.node.as_str(),
            check.check_id.as_str(),
            check.service_id.as_str()
        ),
        ("n1", "service:web", "web")
    );
    assert_eq!(
        (
            check.check_type.as_str(),
            check.status,
            check.notes.as_str()
        ),
        ("ttl", HealthStatus::Warning, "n")
    );
    assert_eq!(check.output, "out");
}
