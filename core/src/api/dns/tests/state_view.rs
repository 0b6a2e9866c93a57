//! The adapter over the replicated catalog: health aggregation, case-insensitive and by-address
//! lookups, servers and the SOA serial, as answers see them.

use simple_dns::{RCODE, TYPE};

use super::*;
use crate::api::dns::{LocalNode, StateView};
use crate::state::catalog::types::{
    CatalogCommand, Check, Deregistration, HealthStatus, Node, Registration, Service,
};
use crate::state::{Command, State};

const LOCAL: LocalNode<'static> = LocalNode {
    name: "agent-one",
    addr: IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 1)),
};

fn node(name: &str, address: &str) -> Node {
    Node {
        node: name.into(),
        address: address.into(),
        datacenter: "dc1".into(),
        ..Node::default()
    }
}

fn service(id: &str, name: &str, address: &str, tags: &[&str]) -> Service {
    Service {
        id: id.into(),
        service: name.into(),
        address: address.into(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        port: 80,
        ..Service::default()
    }
}

fn check(id: &str, status: HealthStatus, service_id: &str) -> Check {
    Check {
        check_id: id.into(),
        name: id.into(),
        status,
        service_id: service_id.into(),
        ..Check::default()
    }
}

/// Applies registrations at increasing indexes starting at 2.
fn state(registrations: Vec<(Node, Option<Service>, Vec<Check>)>) -> State {
    let mut state = State::new();
    for (i, (node, service, checks)) in registrations.into_iter().enumerate() {
        let reg = Registration {
            node,
            skip_node_update: false,
            service,
            checks,
        };
        let index = i as u64 + 2;
        state.apply(
            index,
            &Command::Catalog(CatalogCommand::Register(Box::new(reg))),
        );
    }
    state
}

fn a_answers(state: &State, name: &str) -> Vec<String> {
    let view = StateView::new(state.catalog(), "dc1", LOCAL);
    let bytes = ask(&view, name, TYPE::A);
    let reply = parse(&bytes);
    assert_eq!(reply.rcode(), RCODE::NoError);
    sorted(&reply.answers)
}

#[test]
fn an_instance_takes_the_worst_of_its_own_and_its_nodes_checks() {
    let s = state(vec![
        (
            node("n1", "10.0.0.1"),
            Some(service("web", "web", "", &[])),
            vec![check("svc", HealthStatus::Passing, "web")],
        ),
        (
            node("n2", "10.0.0.2"),
            Some(service("web", "web", "", &[])),
            vec![
                check("svc", HealthStatus::Passing, "web"),
                check("serfHealth", HealthStatus::Critical, ""),
            ],
        ),
        (
            node("n3", "10.0.0.3"),
            Some(service("web", "web", "", &[])),
            vec![check(
                "_service_maintenance:web",
                HealthStatus::Maintenance,
                "web",
            )],
        ),
        (
            node("n4", "10.0.0.4"),
            Some(service("web", "web", "", &[])),
            vec![check("disk", HealthStatus::Warning, "")],
        ),
    ]);
    let view = StateView::new(s.catalog(), "dc1", LOCAL);
    let health: Vec<(&str, Health)> = view
        .service_instances("web", None)
        .iter()
        .map(|i| (i.node.name, i.health))
        .collect();
    assert_eq!(
        health,
        [
            ("n1", Health::Passing),
            ("n2", Health::Critical),
            ("n3", Health::Critical),
            ("n4", Health::Warning),
        ]
    );
    assert_eq!(
        a_answers(&s, "web.service.consul"),
        [
            "web.service.consul. 0 A 10.0.0.1",
            "web.service.consul. 0 A 10.0.0.4"
        ]
    );
}

#[test]
fn a_failing_check_hides_an_instance_until_it_passes_again() {
    let mut s = state(vec![
        (
            node("n1", "10.0.0.1"),
            Some(service("web", "web", "", &[])),
            vec![],
        ),
        (
            node("n2", "10.0.0.2"),
            Some(service("web", "web", "", &[])),
            vec![check("svc", HealthStatus::Passing, "web")],
        ),
    ]);
    let set = |s: &mut State, index: u64, status: HealthStatus| {
        let reg = Registration {
            node: node("n2", "10.0.0.2"),
            skip_node_update: true,
            service: None,
            checks: vec![check("svc", status, "web")],
        };
        s.apply(
            index,
            &Command::Catalog(CatalogCommand::Register(Box::new(reg))),
        );
    };
    set(&mut s, 10, HealthStatus::Critical);
    assert_eq!(
        a_answers(&s, "web.service.consul"),
        ["web.service.consul. 0 A 10.0.0.1"]
    );
    set(&mut s, 11, HealthStatus::Passing);
    assert_eq!(
        a_answers(&s, "web.service.consul"),
        [
            "web.service.consul. 0 A 10.0.0.1",
            "web.service.consul. 0 A 10.0.0.2"
        ]
    );
}

#[test]
fn names_match_whatever_their_registered_case() {
    let s = state(vec![
        (
            node("Node-One", "10.0.0.1"),
            Some(service("w1", "Web", "", &["Primary"])),
            vec![],
        ),
        (
            node("n2", "10.0.0.2"),
            Some(service("w2", "web", "", &[])),
            vec![],
        ),
    ]);
    assert_eq!(
        a_answers(&s, "WEB.service.consul"),
        [
            "WEB.service.consul. 0 A 10.0.0.1",
            "WEB.service.consul. 0 A 10.0.0.2"
        ]
    );
    assert_eq!(
        a_answers(&s, "primary.web.service.consul"),
        ["primary.web.service.consul. 0 A 10.0.0.1"]
    );
    assert_eq!(
        a_answers(&s, "node-one.node.consul"),
        ["node-one.node.consul. 0 A 10.0.0.1"]
    );
}

#[test]
fn reverse_lookups_find_nodes_then_service_addresses_and_follow_changes() {
    let mut s = state(vec![
        (node("n1", "10.0.0.1"), None, vec![]),
        (
            node("n2", "10.0.0.2"),
            Some(service("db1", "db", "10.9.9.9", &[])),
            vec![],
        ),
    ]);
    let view = StateView::new(s.catalog(), "dc1", LOCAL);
    assert_eq!(
        view.node_by_addr(ip("10.0.0.1")).map(|n| n.name),
        Some("n1")
    );
    assert_eq!(view.service_by_addr(ip("10.9.9.9")), Some("db"));
    assert_eq!(view.node_by_addr(ip("10.9.9.9")), None);
    let moved = Registration {
        node: node("n1", "10.0.0.7"),
        skip_node_update: false,
        service: None,
        checks: vec![],
    };
    s.apply(
        10,
        &Command::Catalog(CatalogCommand::Register(Box::new(moved))),
    );
    let gone = Deregistration {
        node: "n2".into(),
        service_id: Some("db1".into()),
        check_id: None,
    };
    s.apply(11, &Command::Catalog(CatalogCommand::Deregister(gone)));
    let view = StateView::new(s.catalog(), "dc1", LOCAL);
    assert_eq!(view.node_by_addr(ip("10.0.0.1")), None);
    assert_eq!(
        view.node_by_addr(ip("10.0.0.7")).map(|n| n.name),
        Some("n1")
    );
    assert_eq!(view.service_by_addr(ip("10.9.9.9")), None);
    assert_eq!(view.service_instances("db", None), []);
}

#[test]
fn servers_are_the_nodes_running_consul_else_the_local_agent() {
    let alone = state(vec![(node("n1", "10.0.0.1"), None, vec![])]);
    let view = StateView::new(alone.catalog(), "dc1", LOCAL);
    let names = |v: &StateView<'_>| -> Vec<(String, IpAddr)> {
        v.servers()
            .iter()
            .map(|n| (n.name.to_string(), n.addr))
            .collect()
    };
    assert_eq!(names(&view), [("agent-one".to_string(), LOCAL.addr)]);
    let s = state(vec![
        (
            node("s1", "10.0.1.1"),
            Some(service("consul", "consul", "", &[])),
            vec![],
        ),
        (
            node("s2", "10.0.1.2"),
            Some(service("consul", "consul", "", &[])),
            vec![],
        ),
    ]);
    let view = StateView::new(s.catalog(), "dc1", LOCAL);
    assert_eq!(
        names(&view),
        [
            ("s1".to_string(), ip("10.0.1.1")),
            ("s2".to_string(), ip("10.0.1.2"))
        ]
    );
}

#[test]
fn the_soa_serial_is_the_catalogs_latest_index_and_weights_come_from_the_service() {
    let mut weighted = service("web", "web", "", &[]);
    weighted.weights.passing = 70_000;
    weighted.weights.warning = 3;
    let s = state(vec![
        (node("n1", "10.0.0.1"), None, vec![]),
        (node("n2", "10.0.0.2"), Some(weighted), vec![]),
    ]);
    let view = StateView::new(s.catalog(), "dc1", LOCAL);
    assert_eq!(view.soa_serial(), 3);
    let instances = view.service_instances("web", None);
    assert_eq!(
        instances.iter().map(|i| i.weights).collect::<Vec<_>>(),
        [Weights {
            passing: u16::MAX,
            warning: 3
        }]
    );
}

#[test]
fn nodes_whose_address_is_not_an_ip_are_not_answered() {
    let s = state(vec![(
        node("n1", "host.example.com"),
        Some(service("web", "web", "", &[])),
        vec![],
    )]);
    let view = StateView::new(s.catalog(), "dc1", LOCAL);
    assert_eq!(view.node("n1"), None);
    assert_eq!(view.service_instances("web", None), []);
}

/// Model-based: after every step of a random register/deregister history (names that differ
/// only in case, shared and non-IP addresses, moving services), the adapter's indexed lookups
/// agree with full scans of the catalog's tables.
mod model {
    use proptest::prelude::*;
    use std::net::IpAddr;

    use super::{LOCAL, check, node, service};
    use crate::api::dns::{CatalogView, Health, StateView};
    use crate::state::catalog::Catalog;
    use crate::state::catalog::types::{
        CatalogCommand, Check, Deregistration, HealthStatus, Registration,
    };
    use crate::state::{Command, State};

    const ADDRS: [&str; 3] = ["10.0.0.1", "10.0.0.2", "10.0.9.1"];

    fn status() -> impl Strategy<Value = HealthStatus> {
        prop_oneof![
            Just(HealthStatus::Passing),
            Just(HealthStatus::Warning),
            Just(HealthStatus::Critical),
            Just(HealthStatus::Maintenance),
        ]
    }

    fn command() -> impl Strategy<Value = CatalogCommand> {
        let svc = (
            prop_oneof![Just("s1"), Just("s2")],
            prop_oneof![Just("web"), Just("Web"), Just("db")],
            prop_oneof![
                Just(""),
                Just("10.0.9.1"),
                Just("10.0.0.1"),
                Just("svc.host")
            ],
            proptest::collection::vec(prop_oneof![Just("x"), Just("X"), Just("y")], 0..3),
            0u16..3,
        )
            .prop_map(|(id, name, addr, tags, port)| {
                let mut s = service(id, name, addr, &tags);
                s.port = port;
                s
            });
        let checks = proptest::collection::vec(
            (
                prop_oneof![Just("c1"), Just("c2")],
                prop_oneof![Just(""), Just("s1"), Just("s2")],
                status(),
            ),
            0..3,
        );
        let register = (
            prop_oneof![Just("a"), Just("A"), Just("b")],
            prop_oneof![Just("10.0.0.1"), Just("10.0.0.2"), Just("node.host")],
            proptest::option::of(svc),
            checks,
        )
            .prop_map(|(name, addr, service, checks)| {
                let checks: Vec<Check> = checks
                    .into_iter()
                    .map(|(id, sid, st)| check(id, st, sid))
                    .collect();
                CatalogCommand::Register(Box::new(Registration {
                    node: node(name, addr),
                    skip_node_update: false,
                    service,
                    checks,
                }))
            });
        let deregister = (
            prop_oneof![Just("a"), Just("A"), Just("b")],
            proptest::option::of(prop_oneof![Just("s1"), Just("s2")]),
        )
            .prop_map(|(name, sid)| {
                CatalogCommand::Deregister(Deregistration {
                    node: name.into(),
                    service_id: sid.map(Into::into),
                    check_id: None,
                })
            });
        prop_oneof![4 => register, 1 => deregister]
    }

    fn ip(addr: &str) -> Option<IpAddr> {
        addr.parse().ok()
    }

    /// The node DNS finds for `name` by scanning: an exact match, else the first by name that
    /// matches ignoring case; answered only when its address is an IP.
    fn scan_node(c: &Catalog, name: &str) -> Option<String> {
        let found = c
            .nodes()
            .find(|n| n.item.node == name)
            .or_else(|| c.nodes().find(|n| n.item.node.eq_ignore_ascii_case(name)))?;
        ip(&found.item.address).map(|_| found.item.node.clone())
    }

    fn worst(c: &Catalog, node: &str, service_id: &str) -> Health {
        c.checks()
            .filter(|k| k.item.node == node)
            .filter(|k| k.item.service_id.is_empty() || k.item.service_id == service_id)
            .map(|k| match k.item.status {
                HealthStatus::Passing => Health::Passing,
                HealthStatus::Warning => Health::Warning,
                _ => Health::Critical,
            })
            .max()
            .unwrap_or(Health::Passing)
    }

    type Row = (String, u16, Option<IpAddr>, Health);

    fn scan_instances(c: &Catalog, name: &str, tag: Option<&str>) -> Vec<Row> {
        let mut rows: Vec<Row> = c
            .services()
            .filter(|(_, s)| s.item.service.eq_ignore_ascii_case(name))
            .filter(|(_, s)| {
                tag.is_none_or(|t| s.item.tags.iter().any(|x| x.eq_ignore_ascii_case(t)))
            })
            .filter_map(|(n, s)| {
                let owner = c.nodes().find(|row| row.item.node == n)?;
                ip(&owner.item.address)?;
                Some((
                    n.to_string(),
                    s.item.port,
                    ip(&s.item.address),
                    worst(c, n, &s.item.id),
                ))
            })
            .collect();
        rows.sort();
        rows
    }

    fn view_instances(v: &StateView<'_>, name: &str, tag: Option<&str>) -> Vec<Row> {
        let mut rows: Vec<Row> = v
            .service_instances(name, tag)
            .iter()
            .map(|i| (i.node.name.to_string(), i.port, i.service_addr, i.health))
            .collect();
        rows.sort();
        rows
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn indexed_lookups_agree_with_full_scans(steps in proptest::collection::vec(command(), 1..25)) {
            let mut state = State::new();
            for (i, cmd) in steps.iter().enumerate() {
                state.apply(i as u64 + 2, &Command::Catalog(cmd.clone()));
                let c = state.catalog();
                let v = StateView::new(state.catalog(), "dc1", LOCAL);
                for name in ["a", "A", "b", "c"] {
                    let lower = name.to_ascii_lowercase();
                    prop_assert_eq!(v.node(&lower).map(|n| n.name.to_string()), scan_node(c, &lower));
                }
                for addr in ADDRS.iter().filter_map(|a| ip(a)) {
                    let by_node = c.nodes().find(|n| ip(&n.item.address) == Some(addr));
                    prop_assert_eq!(
                        v.node_by_addr(addr).map(|n| n.name.to_string()),
                        by_node.map(|n| n.item.node.clone())
                    );
                    let by_service = c.services().find(|(_, s)| ip(&s.item.address) == Some(addr));
                    prop_assert_eq!(
                        v.service_by_addr(addr).map(str::to_string),
                        by_service.map(|(_, s)| s.item.service.clone())
                    );
                }
                for name in ["web", "db", "nope"] {
                    for tag in [None, Some("x"), Some("y")] {
                        prop_assert_eq!(view_instances(&v, name, tag), scan_instances(c, name, tag), "{} {:?} after {:?}", name, tag, cmd);
                    }
                }
            }
        }
    }
}
