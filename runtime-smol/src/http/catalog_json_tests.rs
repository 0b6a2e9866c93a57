use std::collections::BTreeMap;

use synod_core::state::catalog::types::{
    Check, HealthStatus, Indexed, Node, NodeServices, Service, ServiceHealth, ServiceInstance,
};

use super::*;
use crate::http::json;

fn indexed<T>(item: T, create_index: u64, modify_index: u64) -> Indexed<T> {
    Indexed {
        create_index,
        modify_index,
        item,
    }
}

fn node() -> Indexed<Node> {
    indexed(
        Node {
            id: "40e4a748-2192-161a-0510-9bf59fe950b5".into(),
            node: "foo".into(),
            address: "10.1.2.3".into(),
            datacenter: "dc1".into(),
            tagged_addresses: BTreeMap::from([("lan".into(), "10.1.2.3".into())]),
            meta: BTreeMap::new(),
        },
        5,
        6,
    )
}

fn web() -> Indexed<Service> {
    indexed(
        Service {
            id: "web1".into(),
            service: "web".into(),
            tags: vec!["v1".into()],
            port: 80,
            ..Service::default()
        },
        7,
        8,
    )
}

fn text<T: serde::Serialize>(value: &T) -> String {
    String::from_utf8(json::encode(value, false).unwrap()).unwrap()
}

#[test]
fn node_has_consuls_fields_in_go_order_with_empty_maps_not_null() {
    assert_eq!(
        text(&NodeJson::from(&node())),
        r#"{"ID":"40e4a748-2192-161a-0510-9bf59fe950b5","Node":"foo","Address":"10.1.2.3","Datacenter":"dc1","TaggedAddresses":{"lan":"10.1.2.3"},"Meta":{},"CreateIndex":5,"ModifyIndex":6}"#
    );
}

#[test]
fn service_node_row_flattens_node_and_service_with_the_services_indexes() {
    let row = ServiceInstance {
        node: node(),
        service: web(),
    };
    assert_eq!(
        text(&ServiceNodeJson::from(&row)),
        r#"{"ID":"40e4a748-2192-161a-0510-9bf59fe950b5","Node":"foo","Address":"10.1.2.3","Datacenter":"dc1","TaggedAddresses":{"lan":"10.1.2.3"},"NodeMeta":{},"ServiceKind":"","ServiceID":"web1","ServiceName":"web","ServiceTags":["v1"],"ServiceAddress":"","ServiceWeights":{"Passing":1,"Warning":1},"ServiceMeta":{},"ServicePort":80,"ServiceSocketPath":"","ServiceEnableTagOverride":false,"ServiceProxy":{"Mode":"","MeshGateway":{},"Expose":{}},"ServiceConnect":{},"CreateIndex":7,"ModifyIndex":8}"#
    );
}

#[test]
fn health_check_writes_status_text_and_go_durations() {
    let check = indexed(
        Check {
            node: "foo".into(),
            check_id: "service:web1".into(),
            name: "web check".into(),
            status: HealthStatus::Warning,
            service_id: "web1".into(),
            service_name: "web".into(),
            service_tags: vec![],
            check_type: "http".into(),
            interval_us: 10_000_000,
            timeout_us: 1_500_000,
            ..Check::default()
        },
        9,
        9,
    );
    assert_eq!(
        text(&HealthCheckJson::from(&check)),
        r#"{"Node":"foo","CheckID":"service:web1","Name":"web check","Status":"warning","Notes":"","Output":"","ServiceID":"web1","ServiceName":"web","ServiceTags":[],"Type":"http","Interval":"10s","Timeout":"1.5s","ExposedPort":0,"Definition":{},"CreateIndex":9,"ModifyIndex":9}"#
    );
}

#[test]
fn node_services_map_by_id_and_list_form_has_null_node_when_unknown() {
    let found = NodeServices {
        node: node(),
        services: vec![web()],
    };
    let by_id = text(&NodeServicesJson::from(&found));
    assert!(by_id.starts_with(r#"{"Node":{"ID":"40e4a748"#), "{by_id}");
    assert!(
        by_id.contains(r#""Services":{"web1":{"ID":"web1","Service":"web","Tags":["v1"],"Address":"","Meta":{},"Port":80,"Weights":{"Passing":1,"Warning":1},"EnableTagOverride":false,"Proxy":{"Mode":"","MeshGateway":{},"Expose":{}},"Connect":{},"CreateIndex":7,"ModifyIndex":8}}}"#),
        "{by_id}"
    );
    assert_eq!(
        text(&NodeServiceListJson::from(None)),
        r#"{"Node":null,"Services":[]}"#
    );
    assert_eq!(text(&None::<NodeServicesJson<'_>>), "null");
}

#[test]
fn check_service_node_nests_node_service_and_checks() {
    let entry = ServiceHealth {
        node: node(),
        service: web(),
        checks: vec![],
    };
    let out = text(&CheckServiceNodeJson::from(&entry));
    assert!(out.starts_with(r#"{"Node":{"ID":"#), "{out}");
    assert!(out.contains(r#","Service":{"ID":"web1","#), "{out}");
    assert!(out.ends_with(r#","Checks":[]}"#), "{out}");
}
