//! Lifeguard's dynamic suspicion timeout: independent confirmations from other members bring a
//! crashed member's timeout down from `max` toward `min`.

use std::cell::RefCell;
use synod_core::gossip::{Config, Event};
use synod_core::time::{Duration, Instant};
use synod_sim::gossip::{Cluster, NetConfig};

#[test]
fn confirmations_shrink_suspicion_of_a_crashed_member_below_max() {
    let mut c = Cluster::new(21, NetConfig::default());
    let failed_at: RefCell<Vec<Instant>> = RefCell::new(Vec::new());
    let mut observe = |now, _, e: &Event| {
        if let Event::MemberFailed(_) = e {
            failed_at.borrow_mut().push(now);
        }
    };
    let n = 8;
    let config = Config::lan();
    assert!(c.form_pool(n, &config, None, Duration::from_secs(30), &mut observe));
    let victim = 7;
    let crashed_at = c.now();
    c.crash(victim);
    let min = config.suspicion_min(n);
    let max = min * config.suspicion_max_timeout_mult;
    // Per observer: the suspicion as first seen, and the most confirmed state seen.
    let mut first_seen: Vec<Option<(Duration, u32)>> = vec![None; n];
    let mut most_confirmed: Vec<Option<(Duration, u32)>> = vec![None; n];
    for _ in 0..400 {
        c.run_for(Duration::from_millis(50), &mut observe);
        for o in 0..n - 1 {
            let Some(s) = c.gossip(o).suspicion(&Cluster::name(victim)) else {
                continue;
            };
            let seen = (s.timeout(), s.confirmations());
            first_seen[o].get_or_insert(seen);
            if most_confirmed[o].is_none_or(|(_, k)| seen.1 > k) {
                most_confirmed[o] = Some(seen);
            }
        }
        if failed_at.borrow().len() == n - 1 {
            break;
        }
    }
    assert!(
        first_seen.contains(&Some((max, 0))),
        "a fresh suspicion starts at max: {first_seen:?}"
    );
    assert!(
        most_confirmed
            .iter()
            .flatten()
            .any(|(timeout, k)| *k >= 1 && *timeout < max),
        "confirmations shrink the timeout: {most_confirmed:?}"
    );
    let failed_at = failed_at.into_inner();
    assert_eq!(
        failed_at.len(),
        n - 1,
        "every live member marks the crash failed"
    );
    // Far sooner than the undiminished 24 s timer.
    let slowest = failed_at.iter().max().copied().unwrap_or(Instant::MAX) - crashed_at;
    assert!(slowest < Duration::from_secs(15), "took {slowest:?}");
}
