//! Catalog semantics, one behaviour per test.

use std::collections::BTreeMap;

use super::{apply_ok, check, deregister, done, node, register, service};
use crate::state::catalog::CatalogTarget;
use crate::state::catalog::types::{
    CatalogCommand, CatalogCommandResult, CatalogError, CatalogQuery, CatalogQueryResult,
    CheckStateFilter, HealthStatus, Indexed, NodeServices, Registration,
};
use crate::state::watch::WatchId;
use crate::state::{Command, CommandResult, State, WatchStatus};

fn health(state: &State, name: &str, passing_only: bool) -> (Vec<(String, String)>, u64) {
    let (result, index) = state.query_catalog(&CatalogQuery::ServiceHealth {
        service: name.into(),
        tags: vec![],
        node_meta: vec![],
        passing_only,
    });
    let CatalogQueryResult::ServiceHealth(entries) = result else {
        panic!("wrong result kind: {result:?}");
    };
    let rows = entries
        .into_iter()
        .map(|e| (e.node.item.node, e.service.item.id))
        .collect();
    (rows, index)
}

fn check_ids(state: &State, query: CatalogQuery) -> Vec<String> {
    match state.query_catalog(&query).0 {
        CatalogQueryResult::Checks(checks) => checks.into_iter().map(|c| c.item.check_id).collect(),
        other => panic!("wrong result kind: {other:?}"),
    }
}

#[test]
fn register_creates_node_service_and_checks_with_their_indexes() {
    let mut state = State::new();
    apply_ok(
        &mut state,
        vec![(
            5,
            register(
                node("n1", "10.0.0.1"),
                Some(service("", "web", &["rails"])),
                vec![check("web-http", HealthStatus::Passing, "web")],
            ),
        )],
    );
    let (result, index) = state.query_catalog(&CatalogQuery::NodeServices { node: "n1".into() });
    let mut web = service("web", "web", &["rails"]);
    web.id = "web".into();
    assert_eq!(
        result,
        CatalogQueryResult::NodeServices(Some(NodeServices {
            node: Indexed {
                create_index: 5,
                modify_index: 5,
                item: node("n1", "10.0.0.1"),
            },
            services: vec![Indexed {
                create_index: 5,
                modify_index: 5,
                item: web,
            }],
        }))
    );
    assert_eq!(index, 5);
    let (checks, _) = state.query_catalog(&CatalogQuery::NodeChecks { node: "n1".into() });
    let CatalogQueryResult::Checks(checks) = checks else {
        panic!("wrong result kind");
    };
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0].item.node, "n1");
    assert_eq!(checks[0].item.service_name, "web");
    assert_eq!(checks[0].item.service_tags, vec!["rails".to_string()]);
}

#[test]
fn unknown_node_and_empty_catalog_answer_with_index_one() {
    let state = State::new();
    let (result, index) = state.query_catalog(&CatalogQuery::NodeServices { node: "x".into() });
    assert_eq!((result, index), (CatalogQueryResult::NodeServices(None), 1));
    assert_eq!(health(&state, "web", false), (vec![], 1));
}

#[test]
fn identical_reregistration_bumps_no_index() {
    let mut state = State::new();
    let cmd = register(node("n1", "a"), Some(service("w1", "web", &[])), vec![]);
    apply_ok(&mut state, vec![(2, cmd.clone())]);
    assert_eq!(
        state.watch_catalog(WatchId(1), CatalogTarget::Service("web".into()), 2),
        WatchStatus::Parked
    );
    apply_ok(&mut state, vec![(3, cmd)]);
    assert_eq!(state.take_woken(), vec![]);
    assert_eq!(health(&state, "web", false).1, 2);
}

#[test]
fn skip_node_update_leaves_an_existing_node_alone() {
    let mut state = State::new();
    apply_ok(
        &mut state,
        vec![(2, register(node("n1", "a"), None, vec![]))],
    );
    let cmd = Command::Catalog(CatalogCommand::Register(Box::new(Registration {
        node: node("n1", ""),
        skip_node_update: true,
        service: Some(service("w1", "web", &[])),
        checks: vec![],
    })));
    assert_eq!(state.apply(3, &cmd), done());
    let nodes = state.query_catalog(&CatalogQuery::Nodes { node_meta: vec![] });
    let CatalogQueryResult::Nodes(nodes) = nodes.0 else {
        panic!("wrong result kind");
    };
    assert_eq!(nodes[0].item.address, "a");
    assert_eq!(nodes[0].modify_index, 2);
}

#[test]
fn check_on_an_unknown_service_rejects_the_whole_registration() {
    let mut state = State::new();
    let cmd = register(
        node("n1", "a"),
        Some(service("w1", "web", &[])),
        vec![check("c", HealthStatus::Passing, "nope")],
    );
    assert_eq!(
        state.apply(2, &cmd),
        CommandResult::Catalog(CatalogCommandResult::Rejected(
            CatalogError::UnknownService {
                check_id: "c".into(),
                service_id: "nope".into()
            }
        ))
    );
    assert_eq!(state.catalog().nodes().count(), 0);
    assert_eq!(state.catalog().target_index(&CatalogTarget::Nodes), 0);
}

#[test]
fn registration_without_node_or_address_is_rejected() {
    let mut state = State::new();
    let reject = |e| CommandResult::Catalog(CatalogCommandResult::Rejected(e));
    assert_eq!(
        state.apply(2, &register(node("", "a"), None, vec![])),
        reject(CatalogError::MissingNode)
    );
    assert_eq!(
        state.apply(3, &register(node("n", ""), None, vec![])),
        reject(CatalogError::MissingAddress)
    );
}

#[test]
fn deregistering_a_service_removes_its_checks_but_not_node_checks() {
    let mut state = State::new();
    apply_ok(
        &mut state,
        vec![
            (
                2,
                register(
                    node("n1", "a"),
                    Some(service("w1", "web", &[])),
                    vec![
                        check("serfHealth", HealthStatus::Passing, ""),
                        check("w1-http", HealthStatus::Passing, "w1"),
                    ],
                ),
            ),
            (3, deregister("n1", Some("w1"), None)),
        ],
    );
    assert_eq!(
        check_ids(&state, CatalogQuery::NodeChecks { node: "n1".into() }),
        vec!["serfHealth"]
    );
    assert_eq!(health(&state, "web", false), (vec![], 3));
}

#[test]
fn deregistering_a_node_removes_everything_on_it() {
    let mut state = State::new();
    apply_ok(
        &mut state,
        vec![
            (
                2,
                register(
                    node("n1", "a"),
                    Some(service("w1", "web", &[])),
                    vec![check("serfHealth", HealthStatus::Passing, "")],
                ),
            ),
            (3, deregister("n1", None, None)),
        ],
    );
    assert_eq!(state.catalog().nodes().count(), 0);
    assert_eq!(state.catalog().services().count(), 0);
    assert_eq!(state.catalog().checks().count(), 0);
    let any = CatalogQuery::ChecksInState {
        state: CheckStateFilter::Any,
        node_meta: vec![],
    };
    assert_eq!(state.query_catalog(&any).1, 3);
}

#[test]
fn passing_filter_drops_an_instance_with_any_non_passing_node_or_service_check() {
    let mut state = State::new();
    apply_ok(
        &mut state,
        vec![
            (
                2,
                register(node("a", "1"), Some(service("w", "web", &[])), vec![]),
            ),
            (
                3,
                register(
                    node("b", "2"),
                    Some(service("w", "web", &[])),
                    vec![check("serfHealth", HealthStatus::Warning, "")],
                ),
            ),
            (
                4,
                register(
                    node("c", "3"),
                    Some(service("w", "web", &[])),
                    vec![check("w-http", HealthStatus::Critical, "w")],
                ),
            ),
            (
                5,
                register(
                    node("d", "4"),
                    Some(service("w", "web", &[])),
                    vec![
                        check("serfHealth", HealthStatus::Passing, ""),
                        check("w-http", HealthStatus::Passing, "w"),
                    ],
                ),
            ),
        ],
    );
    let all: Vec<_> = ["a", "b", "c", "d"].map(|n| (n.into(), "w".into())).into();
    assert_eq!(health(&state, "web", false).0, all);
    let passing = vec![("a".into(), "w".into()), ("d".into(), "w".into())];
    assert_eq!(health(&state, "web", true).0, passing);
}

#[test]
fn health_entries_carry_node_checks_and_only_their_own_service_checks() {
    let mut state = State::new();
    apply_ok(
        &mut state,
        vec![
            (
                2,
                register(node("a", "1"), Some(service("w1", "web", &[])), vec![]),
            ),
            (
                3,
                register(
                    node("a", "1"),
                    Some(service("w2", "web", &[])),
                    vec![
                        check("serfHealth", HealthStatus::Passing, ""),
                        check("w1-c", HealthStatus::Passing, "w1"),
                        check("w2-c", HealthStatus::Passing, "w2"),
                    ],
                ),
            ),
        ],
    );
    let (result, _) = state.query_catalog(&CatalogQuery::ServiceHealth {
        service: "web".into(),
        tags: vec![],
        node_meta: vec![],
        passing_only: false,
    });
    let CatalogQueryResult::ServiceHealth(entries) = result else {
        panic!("wrong result kind");
    };
    let checks: Vec<Vec<String>> = entries
        .iter()
        .map(|e| e.checks.iter().map(|c| c.item.check_id.clone()).collect())
        .collect();
    assert_eq!(
        checks,
        vec![vec!["serfHealth", "w1-c"], vec!["serfHealth", "w2-c"]]
    );
}

#[test]
fn services_list_sorted_unique_tags_and_tag_filter_ignores_case() {
    let mut state = State::new();
    apply_ok(
        &mut state,
        vec![
            (
                2,
                register(
                    node("a", "1"),
                    Some(service("w", "web", &["v2", "Rails"])),
                    vec![],
                ),
            ),
            (
                3,
                register(
                    node("b", "2"),
                    Some(service("w", "web", &["v1", "Rails"])),
                    vec![],
                ),
            ),
            (
                4,
                register(node("b", "2"), Some(service("db", "db", &[])), vec![]),
            ),
        ],
    );
    let (result, index) = state.query_catalog(&CatalogQuery::Services { node_meta: vec![] });
    let expected: BTreeMap<String, Vec<String>> = [
        ("db".to_string(), vec![]),
        (
            "web".to_string(),
            vec!["Rails".into(), "v1".into(), "v2".into()],
        ),
    ]
    .into();
    assert_eq!((result, index), (CatalogQueryResult::Services(expected), 4));
    let (tagged, _) = state.query_catalog(&CatalogQuery::ServiceNodes {
        service: "web".into(),
        tags: vec!["rails".into(), "V1".into()],
        node_meta: vec![],
    });
    let CatalogQueryResult::ServiceNodes(instances) = tagged else {
        panic!("wrong result kind");
    };
    let nodes: Vec<&str> = instances
        .iter()
        .map(|i| i.node.item.node.as_str())
        .collect();
    assert_eq!(nodes, vec!["b"]);
}

#[test]
fn node_meta_filter_requires_every_pair() {
    let mut state = State::new();
    let mut tagged = node("a", "1");
    tagged.meta = [
        ("rack".to_string(), "r1".to_string()),
        ("os".into(), "linux".into()),
    ]
    .into();
    apply_ok(
        &mut state,
        vec![
            (2, register(tagged, None, vec![])),
            (3, register(node("b", "2"), None, vec![])),
        ],
    );
    let names = |filter: Vec<(String, String)>| match state
        .query_catalog(&CatalogQuery::Nodes { node_meta: filter })
        .0
    {
        CatalogQueryResult::Nodes(nodes) => {
            nodes.into_iter().map(|n| n.item.node).collect::<Vec<_>>()
        }
        other => panic!("wrong result kind: {other:?}"),
    };
    assert_eq!(names(vec![]), vec!["a", "b"]);
    assert_eq!(names(vec![("rack".into(), "r1".into())]), vec!["a"]);
    assert_eq!(
        names(vec![
            ("rack".into(), "r1".into()),
            ("os".into(), "bsd".into())
        ]),
        Vec::<String>::new()
    );
}

#[test]
fn checks_in_state_filters_by_exact_status() {
    let mut state = State::new();
    apply_ok(
        &mut state,
        vec![(
            2,
            register(
                node("a", "1"),
                None,
                vec![
                    check("p", HealthStatus::Passing, ""),
                    check("w", HealthStatus::Warning, ""),
                    check("c", HealthStatus::Critical, ""),
                ],
            ),
        )],
    );
    let ids = |state_filter| {
        check_ids(
            &state,
            CatalogQuery::ChecksInState {
                state: state_filter,
                node_meta: vec![],
            },
        )
    };
    assert_eq!(ids(CheckStateFilter::Any), vec!["c", "p", "w"]);
    assert_eq!(
        ids(CheckStateFilter::Only(HealthStatus::Critical)),
        vec!["c"]
    );
    assert_eq!(
        ids(CheckStateFilter::Only(HealthStatus::Warning)),
        vec!["w"]
    );
}

#[test]
fn a_service_watch_ignores_other_services_but_wakes_on_its_nodes_checks() {
    let mut state = State::new();
    apply_ok(
        &mut state,
        vec![
            (
                2,
                register(node("a", "1"), Some(service("w", "web", &[])), vec![]),
            ),
            (
                3,
                register(node("b", "2"), Some(service("d", "db", &[])), vec![]),
            ),
        ],
    );
    let web = CatalogTarget::Service("web".into());
    assert_eq!(
        state.watch_catalog(WatchId(1), web.clone(), 3),
        WatchStatus::Parked
    );
    apply_ok(
        &mut state,
        vec![
            (
                4,
                register(node("b", "2"), Some(service("d", "db", &["x"])), vec![]),
            ),
            (
                5,
                register(
                    node("b", "2"),
                    None,
                    vec![check("serfHealth", HealthStatus::Critical, "")],
                ),
            ),
        ],
    );
    assert_eq!(state.take_woken(), vec![]);
    apply_ok(
        &mut state,
        vec![(
            6,
            register(
                node("a", "1"),
                None,
                vec![check("serfHealth", HealthStatus::Critical, "")],
            ),
        )],
    );
    assert_eq!(state.take_woken(), vec![WatchId(1)]);
    assert_eq!(health(&state, "web", false).1, 6);
    assert_eq!(health(&state, "db", false).1, 5);
}

#[test]
fn a_deleted_service_keeps_its_own_index() {
    let mut state = State::new();
    apply_ok(
        &mut state,
        vec![
            (
                2,
                register(node("a", "1"), Some(service("w", "web", &[])), vec![]),
            ),
            (3, deregister("a", Some("w"), None)),
            (
                4,
                register(node("a", "1"), Some(service("d", "db", &[])), vec![]),
            ),
        ],
    );
    assert_eq!(health(&state, "web", false), (vec![], 3));
    assert_eq!(health(&state, "never", false), (vec![], 4));
}

#[test]
fn renaming_a_service_instance_moves_it_between_names() {
    let mut state = State::new();
    apply_ok(
        &mut state,
        vec![
            (
                2,
                register(node("a", "1"), Some(service("x", "web", &[])), vec![]),
            ),
            (
                3,
                register(node("a", "1"), Some(service("x", "api", &[])), vec![]),
            ),
        ],
    );
    assert_eq!(health(&state, "web", false), (vec![], 3));
    assert_eq!(
        health(&state, "api", false),
        (vec![("a".into(), "x".into())], 3)
    );
}

#[test]
fn snapshot_carries_the_catalog_and_a_v1_snapshot_restores_an_empty_one() {
    let mut state = State::new();
    apply_ok(
        &mut state,
        vec![(
            2,
            register(
                node("a", "1"),
                Some(service("w", "web", &["t"])),
                vec![check("c", HealthStatus::Warning, "w")],
            ),
        )],
    );
    let bytes = state.snapshot();
    let restored = State::restore(&bytes).expect("own snapshot restores");
    assert_eq!(restored.catalog(), state.catalog());
    assert_eq!(restored.snapshot(), bytes);

    let mut v1 = vec![1u8];
    v1.extend(crate::wire::to_postcard(&(
        7u64,
        0u64,
        Vec::<u8>::new(),
        Vec::<u8>::new(),
    )));
    let old = State::restore(&v1).expect("v1 snapshot restores");
    assert_eq!((old.index(), old.catalog().nodes().count()), (7, 0));
}
