use crate::health::maintenance::{
    DEFAULT_SERVICE_MAINTENANCE_REASON, node_maintenance_check, service_maintenance_check,
};
use crate::health::serf::serf_health_check;
use crate::health::status::{Damping, cap_output};
use crate::state::catalog::types::HealthStatus::{self, Critical, Passing, Warning};

fn run(damping: &mut Damping, results: &[HealthStatus]) -> Vec<Option<HealthStatus>> {
    results.iter().map(|r| damping.observe(*r)).collect()
}

#[test]
fn zero_thresholds_apply_every_result_at_once() {
    let mut d = Damping::new(0, 0, 0);
    assert_eq!(
        run(&mut d, &[Critical, Passing, Warning]),
        vec![Some(Critical), Some(Passing), Some(Warning)]
    );
}

#[test]
fn failures_before_critical_holds_until_enough_failures_in_a_row() {
    let mut d = Damping::new(0, 3, 3);
    assert_eq!(
        run(
            &mut d,
            &[
                Critical, Critical, Passing, Critical, Critical, Critical, Critical
            ]
        ),
        vec![
            None,
            None,
            Some(Passing),
            None,
            None,
            Some(Critical),
            Some(Critical)
        ]
    );
}

#[test]
fn failures_before_warning_turns_warning_first() {
    let mut d = Damping::new(0, 1, 3);
    assert_eq!(
        run(&mut d, &[Critical, Critical, Critical]),
        vec![Some(Warning), Some(Warning), Some(Critical)]
    );
}

#[test]
fn success_before_passing_needs_successes_in_a_row() {
    let mut d = Damping::new(2, 0, 0);
    assert_eq!(
        run(&mut d, &[Passing, Critical, Passing, Warning]),
        vec![None, Some(Critical), None, Some(Warning)]
    );
}

#[test]
fn output_is_capped_at_a_char_boundary() {
    assert_eq!(cap_output("abc", 4096), "abc");
    assert_eq!(cap_output("héllo", 2), "h");
    assert_eq!(cap_output(&"x".repeat(5000), 4096).len(), 4096);
}

#[test]
fn maintenance_checks_are_critical_with_consuls_ids_and_notes() {
    let node = node_maintenance_check("n1", "patching");
    assert_eq!(
        (
            node.check_id.as_str(),
            node.name.as_str(),
            node.status,
            node.notes.as_str()
        ),
        (
            "_node_maintenance",
            "Node Maintenance Mode",
            Critical,
            "patching"
        )
    );
    let service = service_maintenance_check("n1", "web1", "");
    assert_eq!(service.check_id, "_service_maintenance:web1");
    assert_eq!(service.service_id, "web1");
    assert_eq!(service.notes, DEFAULT_SERVICE_MAINTENANCE_REASON);
    assert_eq!(service.status, Critical);
}

#[test]
fn serf_health_follows_gossip_liveness_with_consuls_outputs() {
    let alive = serf_health_check("n1", true);
    assert_eq!(
        (
            alive.check_id.as_str(),
            alive.name.as_str(),
            alive.status,
            alive.output.as_str()
        ),
        (
            "serfHealth",
            "Serf Health Status",
            Passing,
            "Agent alive and reachable"
        )
    );
    let failed = serf_health_check("n1", false);
    assert_eq!(
        (failed.status, failed.output.as_str()),
        (Critical, "Agent not live or unreachable")
    );
    assert_eq!(
        (failed.node.as_str(), failed.service_id.as_str()),
        ("n1", "")
    );
}
