use std::time::Duration;

use crate::health::check::{CheckDefinition, CheckKind, DEFAULT_OUTPUT_MAX_SIZE};
use crate::health::scheduler::{Action, Outcome, Scheduler, TtlError};
use crate::rand::Rng;
use crate::state::catalog::types::HealthStatus::{self, Critical, Passing, Warning};
use crate::time::Instant;

const SEED: u64 = 42;
const SECOND: u64 = 1_000_000;

fn at(secs: u64) -> Instant {
    Instant::from_micros(secs * SECOND)
}

fn tcp(id: &str, interval_secs: u64) -> CheckDefinition {
    CheckDefinition {
        id: id.into(),
        name: id.into(),
        notes: String::new(),
        service_id: String::new(),
        initial_status: Critical,
        kind: CheckKind::Tcp {
            address: "localhost:80".into(),
        },
        interval: Duration::from_secs(interval_secs),
        timeout: Duration::from_secs(2),
        success_before_passing: 0,
        failures_before_warning: 0,
        failures_before_critical: 0,
        deregister_critical_service_after: None,
        output_max_size: DEFAULT_OUTPUT_MAX_SIZE,
    }
}

fn ttl(id: &str, secs: u64) -> CheckDefinition {
    CheckDefinition {
        kind: CheckKind::Ttl {
            ttl: Duration::from_secs(secs),
        },
        interval: Duration::ZERO,
        timeout: Duration::ZERO,
        ..tcp(id, 1)
    }
}

fn drain(s: &mut Scheduler) -> Vec<Action> {
    std::iter::from_fn(|| s.poll_action()).collect()
}

fn run(id: &str, deadline: Instant) -> Action {
    Action::RunCheck {
        check_id: id.into(),
        spec: CheckKind::Tcp {
            address: "localhost:80".into(),
        },
        deadline,
    }
}

fn changed(id: &str, status: HealthStatus, output: &str) -> Action {
    Action::StatusChanged {
        check_id: id.into(),
        status,
        output: output.into(),
    }
}

fn outcome(status: HealthStatus, output: &str) -> Outcome {
    Outcome {
        status,
        output: output.into(),
    }
}

/// Adds a 10 s TCP check at 0 and returns when it first runs (the seeded stagger).
fn first_run_of(s: &mut Scheduler, def: CheckDefinition) -> Instant {
    s.add(Instant::ZERO, def);
    s.poll_timeout().expect("a periodic check has a deadline")
}

#[test]
fn first_runs_are_offset_by_the_seeded_rng_within_the_interval() {
    let mut s = Scheduler::new(Rng::new(SEED));
    s.add(Instant::ZERO, tcp("a", 10));
    s.add(Instant::ZERO, tcp("b", 10));
    let mut rng = Rng::new(SEED);
    let a = Instant::from_micros(rng.below(10 * SECOND));
    let b = Instant::from_micros(rng.below(10 * SECOND));
    assert_eq!(s.poll_timeout(), Some(a.min(b)));
    let (early, late) = if a <= b {
        (("a", a), ("b", b))
    } else {
        (("b", b), ("a", a))
    };
    s.handle_timeout(early.1);
    let timeout = Duration::from_secs(2);
    assert_eq!(
        drain(&mut s),
        vec![run(early.0, early.1.saturating_add(timeout))]
    );
    assert_eq!(s.poll_timeout(), Some(late.1));
    s.handle_timeout(late.1);
    assert_eq!(
        drain(&mut s),
        vec![run(late.0, late.1.saturating_add(timeout))]
    );
}

#[test]
fn a_periodic_check_runs_every_interval_on_its_own_grid() {
    let mut s = Scheduler::new(Rng::new(SEED));
    let first = first_run_of(&mut s, tcp("a", 10));
    s.handle_timeout(first);
    assert_eq!(
        drain(&mut s),
        vec![run("a", first.saturating_add(Duration::from_secs(2)))]
    );
    s.handle_outcome(
        first.saturating_add(Duration::from_millis(5)),
        "a",
        outcome(Passing, "ok"),
    );
    assert_eq!(drain(&mut s), vec![changed("a", Passing, "ok")]);
    let second = first.saturating_add(Duration::from_secs(10));
    assert_eq!(s.poll_timeout(), Some(second));
    s.handle_timeout(second);
    assert_eq!(
        drain(&mut s),
        vec![run("a", second.saturating_add(Duration::from_secs(2)))]
    );
}

#[test]
fn a_slot_is_skipped_while_the_previous_probe_is_still_running() {
    let mut s = Scheduler::new(Rng::new(SEED));
    let first = first_run_of(&mut s, tcp("a", 10));
    s.handle_timeout(first);
    drain(&mut s);
    let second = first.saturating_add(Duration::from_secs(10));
    s.handle_timeout(second);
    assert_eq!(drain(&mut s), vec![]);
    assert_eq!(
        s.poll_timeout(),
        Some(first.saturating_add(Duration::from_secs(20)))
    );
}

#[test]
fn failures_before_critical_damps_a_flapping_check() {
    let mut s = Scheduler::new(Rng::new(SEED));
    let def = CheckDefinition {
        initial_status: Passing,
        failures_before_warning: 3,
        failures_before_critical: 3,
        ..tcp("a", 10)
    };
    let first = first_run_of(&mut s, def);
    let mut results = Vec::new();
    for (i, status) in [Critical, Critical, Passing, Critical, Critical, Critical]
        .into_iter()
        .enumerate()
    {
        let now = first.saturating_add(Duration::from_secs(10 * i as u64));
        s.handle_timeout(now);
        drain(&mut s);
        s.handle_outcome(now, "a", outcome(status, &format!("run {i}")));
        results.push(drain(&mut s));
    }
    assert_eq!(
        results,
        vec![
            vec![],
            vec![],
            vec![Action::OutputChanged {
                check_id: "a".into(),
                output: "run 2".into()
            }],
            vec![],
            vec![],
            vec![changed("a", Critical, "run 5")],
        ]
    );
}

#[test]
fn success_before_passing_holds_a_recovering_check_critical() {
    let mut s = Scheduler::new(Rng::new(SEED));
    let def = CheckDefinition {
        success_before_passing: 2,
        ..tcp("a", 10)
    };
    let first = first_run_of(&mut s, def);
    s.handle_timeout(first);
    drain(&mut s);
    s.handle_outcome(first, "a", outcome(Passing, "ok"));
    assert_eq!(drain(&mut s), vec![]);
    assert_eq!(s.status("a"), Some((Critical, "")));
    let next = first.saturating_add(Duration::from_secs(10));
    s.handle_timeout(next);
    drain(&mut s);
    s.handle_outcome(next, "a", outcome(Warning, "slow"));
    assert_eq!(drain(&mut s), vec![changed("a", Warning, "slow")]);
}

#[test]
fn a_ttl_check_expires_to_critical_with_consuls_text() {
    let mut s = Scheduler::new(Rng::new(SEED));
    s.add(at(0), ttl("t", 5));
    assert_eq!(s.poll_timeout(), Some(at(5)));
    assert_eq!(s.ttl_update(at(3), "t", Passing, "alive"), Ok(()));
    assert_eq!(drain(&mut s), vec![changed("t", Passing, "alive")]);
    s.handle_timeout(at(7));
    assert_eq!(drain(&mut s), vec![]);
    s.handle_timeout(at(8));
    assert_eq!(
        drain(&mut s),
        vec![changed(
            "t",
            Critical,
            "TTL expired (last output before timeout follows): alive"
        )]
    );
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn a_ttl_check_that_never_reported_expires_with_the_bare_text() {
    let mut s = Scheduler::new(Rng::new(SEED));
    s.add(
        at(0),
        CheckDefinition {
            initial_status: Passing,
            ..ttl("t", 5)
        },
    );
    s.handle_timeout(at(5));
    assert_eq!(drain(&mut s), vec![changed("t", Critical, "TTL expired")]);
}

#[test]
fn ttl_updates_are_refused_for_unknown_and_non_ttl_checks() {
    let mut s = Scheduler::new(Rng::new(SEED));
    s.add(at(0), tcp("a", 10));
    assert_eq!(
        s.ttl_update(at(1), "a", Passing, ""),
        Err(TtlError::NotTtl("a".into()))
    );
    assert_eq!(
        s.ttl_update(at(1), "x", Passing, ""),
        Err(TtlError::UnknownCheck("x".into()))
    );
    assert_eq!(drain(&mut s), vec![]);
}

#[test]
fn output_is_capped_at_the_checks_limit() {
    let mut s = Scheduler::new(Rng::new(SEED));
    s.add(at(0), ttl("t", 5));
    s.ttl_update(at(1), "t", Warning, &"x".repeat(10_000))
        .expect("ttl check");
    assert_eq!(
        drain(&mut s),
        vec![changed("t", Warning, &"x".repeat(4096))]
    );
}

#[test]
fn a_service_critical_for_its_deregister_after_is_deregistered() {
    let mut s = Scheduler::new(Rng::new(SEED));
    let def = CheckDefinition {
        service_id: "web1".into(),
        initial_status: Passing,
        deregister_critical_service_after: Some(Duration::from_secs(60)),
        ..ttl("t", 5)
    };
    s.add(at(0), def);
    s.handle_timeout(at(5));
    assert_eq!(drain(&mut s), vec![changed("t", Critical, "TTL expired")]);
    s.handle_timeout(at(64));
    assert_eq!(drain(&mut s), vec![]);
    s.handle_timeout(at(65));
    assert_eq!(
        drain(&mut s),
        vec![Action::DeregisterService {
            service_id: "web1".into(),
            check_id: "t".into()
        }]
    );
}

#[test]
fn recovering_before_deregister_after_cancels_the_deregistration() {
    let mut s = Scheduler::new(Rng::new(SEED));
    let def = CheckDefinition {
        service_id: "web1".into(),
        deregister_critical_service_after: Some(Duration::from_secs(60)),
        ..ttl("t", 100)
    };
    s.add(at(0), def);
    s.ttl_update(at(30), "t", Passing, "").expect("ttl check");
    s.handle_timeout(at(90));
    assert_eq!(drain(&mut s), vec![changed("t", Passing, "")]);
}

#[test]
fn a_removed_check_has_no_deadlines_and_its_late_outcome_is_dropped() {
    let mut s = Scheduler::new(Rng::new(SEED));
    let first = first_run_of(&mut s, tcp("a", 10));
    s.handle_timeout(first);
    drain(&mut s);
    assert!(s.remove("a"));
    assert_eq!(s.poll_timeout(), None);
    s.handle_outcome(first, "a", outcome(Passing, "late"));
    assert_eq!(drain(&mut s), vec![]);
    assert!(!s.remove("a"));
}

#[test]
fn ten_thousand_checks_spread_evenly_over_their_interval() {
    let mut s = Scheduler::new(Rng::new(SEED));
    for i in 0..10_000 {
        s.add(Instant::ZERO, tcp(&format!("c{i}"), 10));
    }
    let mut per_second = Vec::new();
    let mut busiest_10ms = 0;
    for second in 0..10u64 {
        let mut in_second = 0;
        for slice in 1..=100u64 {
            s.handle_timeout(Instant::from_micros(second * SECOND + slice * 10_000 - 1));
            let fired = drain(&mut s).len();
            busiest_10ms = busiest_10ms.max(fired);
            in_second += fired;
        }
        per_second.push(in_second);
    }
    assert_eq!(per_second.iter().sum::<usize>(), 10_000);
    assert!(
        per_second.iter().all(|n| (850..=1150).contains(n)),
        "{per_second:?}"
    );
    assert!(
        busiest_10ms <= 30,
        "{busiest_10ms} checks in one 10 ms slice"
    );
}
