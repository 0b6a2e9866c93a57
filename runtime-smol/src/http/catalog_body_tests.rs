use std::collections::BTreeMap;

use synod_core::state::catalog::types::{
    Check, Deregistration, HealthStatus, Node, Registration, Service, ServiceAddress, Weights,
};

use super::*;

#[test]
fn registration_decodes_consuls_body_with_any_key_case() {
    let body = br#"{
        "Datacenter": "dc1", "id": "40e4a748-2192-161a-0510-9bf59fe950b5", "node": "foo",
        "ADDRESS": "192.168.10.10", "TaggedAddresses": {"lan": "192.168.10.10"},
        "NodeMeta": {"somekey": "somevalue"},
        "Service": {"ID": "redis1", "Service": "redis", "Tags": ["primary"],
                    "Address": "127.0.0.1", "TaggedAddresses": {"lan": {"address": "127.0.0.1", "port": 8000}},
                    "Meta": {"redis_version": "4.0"}, "Port": 8000, "Weights": {"Passing": 3}},
        "Check": {"Node": "foo", "CheckID": "service:redis1", "Name": "Redis health check",
                  "Status": "passing", "ServiceID": "redis1",
                  "Definition": {"TCP": "localhost:8888", "Interval": "5s", "Timeout": "1s"}},
        "SkipNodeUpdate": false
    }"#;
    let registration = decode_registration(body, "dc1").unwrap();
    assert_eq!(
        registration,
        Registration {
            node: Node {
                id: "40e4a748-2192-161a-0510-9bf59fe950b5".into(),
                node: "foo".into(),
                address: "192.168.10.10".into(),
                datacenter: "dc1".into(),
                tagged_addresses: BTreeMap::from([("lan".into(), "192.168.10.10".into())]),
                meta: BTreeMap::from([("somekey".into(), "somevalue".into())]),
            },
            skip_node_update: false,
            service: Some(Service {
                id: "redis1".into(),
                service: "redis".into(),
                tags: vec!["primary".into()],
                address: "127.0.0.1".into(),
                port: 8000,
                meta: BTreeMap::from([("redis_version".into(), "4.0".into())]),
                weights: Weights {
                    passing: 3,
                    warning: 1
                },
                enable_tag_override: false,
                tagged_addresses: BTreeMap::from([(
                    "lan".into(),
                    ServiceAddress {
                        address: "127.0.0.1".into(),
                        port: 8000
                    }
                )]),
            }),
            checks: vec![Check {
                node: "foo".into(),
                check_id: "service:redis1".into(),
                name: "Redis health check".into(),
                status: HealthStatus::Passing,
                service_id: "redis1".into(),
                interval_us: 5_000_000,
                timeout_us: 1_000_000,
                ..Check::default()
            }],
        }
    );
}

#[test]
fn nulls_read_as_absent_and_check_status_defaults_to_critical() {
    let body = br#"{"Node":"n","Address":"a","TaggedAddresses":null,"Checks":[{"Name":"c","Status":null}],"Check":null}"#;
    let registration = decode_registration(body, "dc1").unwrap();
    assert!(registration.node.tagged_addresses.is_empty());
    assert_eq!(registration.checks.len(), 1);
    assert_eq!(registration.checks[0].status, HealthStatus::Critical);
    assert_eq!(registration.service, None);
}

#[test]
fn single_check_comes_after_the_checks_list() {
    let body = br#"{"Node":"n","Address":"a","Check":{"Name":"last"},"Checks":[{"Name":"first"}]}"#;
    let names: Vec<String> = decode_registration(body, "dc1")
        .unwrap()
        .checks
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["first", "last"]);
}

#[test]
fn malformed_bodies_are_400_request_decode_failed() {
    for body in [
        &b"{"[..],
        br#"{"Node":1}"#,
        br#"{"Service":{"Port":70000}}"#,
    ] {
        let error = decode_registration(body, "dc1").unwrap_err();
        assert_eq!(error.status, 400, "{body:?}");
        assert!(
            error.message.starts_with("Request decode failed: "),
            "{}",
            error.message
        );
    }
    let error =
        decode_registration(br#"{"Node":"n","Check":{"Interval":"soon"}}"#, "dc1").unwrap_err();
    assert_eq!(error.status, 400);
}

#[test]
fn another_datacenter_or_an_unknown_status_is_a_500() {
    let error = decode_registration(br#"{"Datacenter":"dc2","Node":"n"}"#, "dc1").unwrap_err();
    assert_eq!(error, HttpError::internal("No path to datacenter"));
    let error =
        decode_registration(br#"{"Node":"n","Check":{"Status":"bad"}}"#, "dc1").unwrap_err();
    assert_eq!(error, HttpError::internal("Invalid check status: \"bad\""));
}

#[test]
fn deregistration_names_the_node_and_optionally_a_service_or_check() {
    assert_eq!(
        decode_deregistration(br#"{"node":"foo","ServiceID":"web1"}"#, "dc1"),
        Ok(Deregistration {
            node: "foo".into(),
            service_id: Some("web1".into()),
            check_id: None,
        })
    );
    assert_eq!(
        decode_deregistration(br#"{"CheckID":"c"}"#, "dc1"),
        Err(HttpError::internal("Must provide node"))
    );
}
