//! One member handles everything it receives seconds late. With Lifeguard its local health
//! awareness rises and it stops accusing healthy peers; classic SWIM declares them failed.

use std::cell::Cell;
use synod_core::gossip::{Config, Event};
use synod_core::time::Duration;
use synod_sim::gossip::{Cluster, NetConfig};

const N: usize = 6;
const SLOW: usize = 2;

/// Failures declared about members other than the slow one, and the slow node's peak score.
fn run_with_slow_node(lifeguard: bool) -> (usize, u32) {
    let config = Config {
        lifeguard,
        ..Config::lan()
    };
    let mut c = Cluster::new(31, NetConfig::default());
    let false_failures = Cell::new(0);
    let counting = Cell::new(false);
    let slow_name = Cluster::name(SLOW);
    let mut observe = |_, _, e: &Event| {
        if let Event::MemberFailed(m) = e
            && counting.get()
            && m.name != slow_name
        {
            false_failures.set(false_failures.get() + 1);
        }
    };
    assert!(c.form_pool(N, &config, None, Duration::from_secs(30), &mut observe));
    counting.set(true);
    c.set_inbound_delay(SLOW, Duration::from_secs(6));
    let mut peak = 0;
    for _ in 0..60 {
        c.run_for(Duration::from_secs(1), &mut observe);
        peak = peak.max(c.gossip(SLOW).awareness_score());
    }
    (false_failures.get(), peak)
}

#[test]
fn slow_node_with_lifeguard_raises_awareness_and_accuses_no_one() {
    let (false_failures, peak) = run_with_slow_node(true);
    assert_eq!(false_failures, 0);
    assert!(peak >= 3, "awareness peaked at {peak}");
}

#[test]
fn slow_node_without_lifeguard_declares_healthy_peers_failed() {
    let (false_failures, peak) = run_with_slow_node(false);
    assert!(false_failures > 0);
    assert_eq!(peak, 0);
}
