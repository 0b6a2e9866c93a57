use std::collections::BTreeMap;
use std::time::Duration;

use crate::agent::{Action, LocalError, LocalState, NodeView, Source, full_sync_interval};
use crate::health::check::{CheckDefinition, CheckKind, ServiceDefinition};
use crate::health::scheduler::Outcome;
use crate::health::serf::serf_health_check;
use crate::rand::Rng;
use crate::state::catalog::types::{
    CatalogCommand, Check, Deregistration, HealthStatus, Node, Registration, Service,
};
use crate::time::Instant;

const SEC: u64 = 1_000_000;

fn at(secs: u64) -> Instant {
    Instant::from_micros(secs * SEC)
}

fn node() -> Node {
    Node {
        id: "uuid-1".into(),
        node: "n1".into(),
        address: "10.0.0.1".into(),
        datacenter: "dc1".into(),
        tagged_addresses: BTreeMap::new(),
        meta: BTreeMap::new(),
    }
}

fn ttl_check(id: &str, service_id: &str) -> CheckDefinition {
    CheckDefinition {
        id: id.into(),
        name: id.into(),
        notes: String::new(),
        service_id: service_id.into(),
        initial_status: HealthStatus::Critical,
        kind: CheckKind::Ttl {
            ttl: Duration::from_secs(30),
        },
        interval: Duration::ZERO,
        timeout: Duration::ZERO,
        success_before_passing: 0,
        failures_before_warning: 0,
        failures_before_critical: 0,
        deregister_critical_service_after: None,
        output_max_size: 4096,
    }
}

fn web(checks: Vec<CheckDefinition>) -> ServiceDefinition {
    ServiceDefinition {
        id: "web".into(),
        name: "web".into(),
        tags: vec!["rails".into()],
        address: String::new(),
        port: 80,
        meta: BTreeMap::new(),
        weights: Default::default(),
        enable_tag_override: false,
        tagged_addresses: BTreeMap::new(),
        checks,
    }
}

fn row(def: &CheckDefinition, status: HealthStatus, output: &str) -> Check {
    def.catalog_check("n1", status, output)
}

fn register(service: Option<Service>, checks: Vec<Check>, with_node: bool) -> CatalogCommand {
    CatalogCommand::Register(Box::new(Registration {
        node: node(),
        skip_node_update: !with_node,
        service,
        checks,
    }))
}

fn deregister(service_id: Option<&str>, check_id: Option<&str>) -> CatalogCommand {
    CatalogCommand::Deregister(Deregistration {
        node: "n1".into(),
        service_id: service_id.map(str::to_owned),
        check_id: check_id.map(str::to_owned),
    })
}

/// A state whose catalog already matches (node registered, changes taken).
fn synced_with(service: ServiceDefinition) -> LocalState {
    let mut local = LocalState::new(at(0), node(), Rng::new(7));
    local.add_service(at(0), service, Source::Api, false);
    let _ = local.take_changes();
    local
}

#[test]
fn fresh_state_asks_for_a_full_sync_that_registers_the_node() {
    let mut local = LocalState::new(at(0), node(), Rng::new(1));
    assert_eq!(local.poll_timeout(), Some(at(0)));
    local.handle_timeout(at(0));
    assert_eq!(local.poll_action(), Some(Action::FullSync));
    assert_eq!(local.poll_action(), None);
    let commands = local.full_sync(at(0), &NodeView::default());
    assert_eq!(commands, vec![register(None, vec![], true)]);
    assert!(!local.needs_sync());
}

#[test]
fn full_sync_is_rescheduled_within_one_to_two_intervals() {
    let mut local = LocalState::new(at(0), node(), Rng::new(1));
    local.handle_timeout(at(0));
    let _ = local.full_sync(at(0), &NodeView::default());
    let next = local.poll_timeout().expect("a deadline");
    assert!(
        next >= at(60) && next < at(120),
        "next full sync at {next:?}"
    );
}

#[test]
fn adding_a_service_registers_it_with_its_checks_in_one_write() {
    let check = ttl_check("service:web", "web");
    let mut local = synced_with(web(vec![]));
    let mut moved = web(vec![check.clone()]);
    moved.port = 81;
    local.add_service(at(1), moved.clone(), Source::Api, false);
    assert!(local.needs_sync());
    assert_eq!(
        local.take_changes(),
        vec![register(
            Some(moved.catalog_service()),
            vec![row(&check, HealthStatus::Critical, "")],
            false
        )]
    );
    assert!(!local.needs_sync());
}

#[test]
fn ttl_pass_marks_only_that_check_for_sync() {
    let check = ttl_check("service:web", "web");
    let mut local = synced_with(web(vec![check.clone()]));
    local
        .ttl_update(at(2), "service:web", HealthStatus::Passing, "ok")
        .expect("a ttl check");
    assert!(local.needs_sync());
    assert_eq!(
        local.take_changes(),
        vec![register(
            None,
            vec![row(&check, HealthStatus::Passing, "ok")],
            false
        )]
    );
}

#[test]
fn output_only_change_waits_for_the_next_write() {
    let check = ttl_check("service:web", "web");
    let mut local = synced_with(web(vec![check.clone()]));
    local
        .ttl_update(at(2), "service:web", HealthStatus::Passing, "ok")
        .expect("ttl");
    let _ = local.take_changes();
    local
        .ttl_update(at(3), "service:web", HealthStatus::Passing, "still ok")
        .expect("ttl");
    assert!(!local.needs_sync());
    assert_eq!(
        local.take_changes(),
        vec![register(
            None,
            vec![row(&check, HealthStatus::Passing, "still ok")],
            false
        )]
    );
}

#[test]
fn ttl_report_for_unknown_or_probe_check_is_refused() {
    let mut local = synced_with(web(vec![]));
    assert_eq!(
        local.ttl_update(at(1), "nope", HealthStatus::Passing, ""),
        Err(LocalError::NotTtl("nope".into()))
    );
}

#[test]
fn removing_a_service_deregisters_it_once() {
    let mut local = synced_with(web(vec![ttl_check("service:web", "web")]));
    local.remove_service("web").expect("known");
    assert_eq!(local.take_changes(), vec![deregister(Some("web"), None)]);
    assert_eq!(local.take_changes(), vec![]);
    assert_eq!(
        local.remove_service("web"),
        Err(LocalError::UnknownService("web".into()))
    );
}

#[test]
fn full_sync_restores_a_service_deleted_in_the_catalog() {
    let check = ttl_check("service:web", "web");
    let mut local = synced_with(web(vec![check.clone()]));
    let view = NodeView {
        node: Some(node()),
        services: vec![],
        checks: vec![serf_health_check("n1", true)],
    };
    assert_eq!(
        local.full_sync(at(60), &view),
        vec![register(
            Some(web(vec![]).catalog_service()),
            vec![row(&check, HealthStatus::Critical, "")],
            false
        )]
    );
}

#[test]
fn full_sync_removes_what_the_agent_does_not_know_except_serf_health_and_consul() {
    let mut local = synced_with(web(vec![]));
    let stray = Service {
        id: "stray".into(),
        service: "stray".into(),
        ..Service::default()
    };
    let consul = Service {
        id: "consul".into(),
        service: "consul".into(),
        ..Service::default()
    };
    let stray_check = Check {
        node: "n1".into(),
        check_id: "stray-check".into(),
        service_id: "stray".into(),
        ..Check::default()
    };
    let node_check = Check {
        node: "n1".into(),
        check_id: "disk".into(),
        ..Check::default()
    };
    let view = NodeView {
        node: Some(node()),
        services: vec![web(vec![]).catalog_service(), stray, consul],
        checks: vec![serf_health_check("n1", true), stray_check, node_check],
    };
    assert_eq!(
        local.full_sync(at(60), &view),
        vec![
            deregister(Some("stray"), None),
            deregister(None, Some("disk"))
        ]
    );
}

#[test]
fn full_sync_of_an_equal_catalog_writes_nothing() {
    let check = ttl_check("service:web", "web");
    let mut local = synced_with(web(vec![check.clone()]));
    let mut catalog_row = row(&check, HealthStatus::Critical, "");
    catalog_row.service_name = "web".into();
    catalog_row.service_tags = vec!["rails".into()];
    let view = NodeView {
        node: Some(node()),
        services: vec![web(vec![]).catalog_service()],
        checks: vec![catalog_row, serf_health_check("n1", true)],
    };
    assert_eq!(local.full_sync(at(60), &view), vec![]);
}

#[test]
fn full_sync_rewrites_a_node_row_that_differs() {
    let mut local = synced_with(web(vec![]));
    let view = NodeView {
        node: Some(Node {
            address: "10.9.9.9".into(),
            ..node()
        }),
        services: vec![web(vec![]).catalog_service()],
        checks: vec![],
    };
    assert_eq!(
        local.full_sync(at(60), &view),
        vec![register(None, vec![], true)]
    );
}

#[test]
fn tag_override_keeps_catalog_side_tags() {
    let mut def = web(vec![]);
    def.enable_tag_override = true;
    let mut local = synced_with(def.clone());
    let mut edited = def.catalog_service();
    edited.tags = vec!["edited".into()];
    let view = NodeView {
        node: Some(node()),
        services: vec![edited],
        checks: vec![],
    };
    assert_eq!(local.full_sync(at(60), &view), vec![]);
}

#[test]
fn replacing_config_definitions_leaves_api_ones_alone() {
    let mut local = LocalState::new(at(0), node(), Rng::new(3));
    let mut api = web(vec![]);
    api.id = "api-web".into();
    local.add_service(at(0), api, Source::Api, false);
    let mut db = web(vec![]);
    db.id = "db".into();
    db.name = "db".into();
    assert!(local.replace_config(at(0), vec![db], vec![]).is_empty());
    let _ = local.take_changes();
    let mut cache = web(vec![]);
    cache.id = "cache".into();
    cache.name = "cache".into();
    assert!(
        local
            .replace_config(at(1), vec![cache.clone()], vec![])
            .is_empty()
    );
    let ids: Vec<&str> = local.services().map(|s| s.def.id.as_str()).collect();
    assert_eq!(ids, vec!["api-web", "cache"]);
    assert_eq!(
        local.take_changes(),
        vec![
            deregister(Some("db"), None),
            register(Some(cache.catalog_service()), vec![], false)
        ]
    );
}

#[test]
fn config_check_for_a_missing_service_is_reported() {
    let mut local = LocalState::new(at(0), node(), Rng::new(3));
    let errors = local.replace_config(at(0), vec![], vec![ttl_check("c", "ghost")]);
    assert_eq!(
        errors,
        vec![LocalError::MissingService {
            service_id: "ghost".into()
        }]
    );
}

#[test]
fn node_maintenance_adds_and_removes_a_critical_check() {
    let mut local = synced_with(web(vec![]));
    local.set_node_maintenance(true, "upgrade");
    let commands = local.take_changes();
    let CatalogCommand::Register(reg) = &commands[0] else {
        panic!("expected a registration, got {commands:?}");
    };
    assert_eq!(reg.checks.len(), 1);
    assert_eq!(reg.checks[0].check_id, "_node_maintenance");
    assert_eq!(reg.checks[0].status, HealthStatus::Critical);
    assert_eq!(reg.checks[0].notes, "upgrade");
    local.set_node_maintenance(false, "");
    assert_eq!(
        local.take_changes(),
        vec![deregister(None, Some("_node_maintenance"))]
    );
}

#[test]
fn service_maintenance_needs_a_known_service() {
    let mut local = synced_with(web(vec![]));
    assert_eq!(
        local.set_service_maintenance("nope", true, ""),
        Err(LocalError::NoServiceForMaintenance("nope".into()))
    );
    local
        .set_service_maintenance("web", true, "")
        .expect("known service");
    let checks = local.service_checks("web");
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0].row.check_id, "_service_maintenance:web");
    assert_eq!(checks[0].row.service_name, "web");
}

#[test]
fn critical_service_is_reaped_after_its_deadline() {
    let mut check = ttl_check("service:web", "web");
    check.deregister_critical_service_after = Some(Duration::from_secs(5));
    let mut local = synced_with(web(vec![check]));
    local.handle_timeout(at(5));
    // The full sync came due too (at 0): drain it first.
    let actions: Vec<Action> = std::iter::from_fn(|| local.poll_action()).collect();
    assert_eq!(
        actions,
        vec![
            Action::ServiceReaped {
                service_id: "web".into(),
                source: Source::Api,
                check_ids: vec!["service:web".into()],
            },
            Action::FullSync
        ]
    );
    assert!(local.service("web").is_none());
    assert_eq!(local.take_changes(), vec![deregister(Some("web"), None)]);
}

#[test]
fn probe_results_pass_through_thresholds_before_syncing() {
    let mut check = ttl_check("service:web", "web");
    check.kind = CheckKind::Tcp {
        address: "127.0.0.1:1".into(),
    };
    check.interval = Duration::from_secs(10);
    check.timeout = Duration::from_secs(1);
    check.success_before_passing = 2;
    let mut local = synced_with(web(vec![check.clone()]));
    let ok = || Outcome {
        status: HealthStatus::Passing,
        output: "up".into(),
    };
    local.handle_outcome(at(1), "service:web", ok());
    assert!(!local.needs_sync());
    local.handle_outcome(at(11), "service:web", ok());
    assert_eq!(
        local.take_changes(),
        vec![register(
            None,
            vec![row(&check, HealthStatus::Passing, "up")],
            false
        )]
    );
}

#[test]
fn sync_interval_grows_with_cluster_size() {
    assert_eq!(full_sync_interval(1), Duration::from_secs(60));
    assert_eq!(full_sync_interval(128), Duration::from_secs(60));
    assert_eq!(full_sync_interval(129), Duration::from_secs(120));
    assert_eq!(full_sync_interval(256), Duration::from_secs(120));
    assert_eq!(full_sync_interval(257), Duration::from_secs(180));
    assert_eq!(full_sync_interval(10_000), Duration::from_secs(480));
}
