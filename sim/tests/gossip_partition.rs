//! A partition splits the pool in two; each side marks the other failed. After healing, Serf-style
//! reconnects and refutations bring every member back to alive on both sides.

use synod_core::gossip::{Config, MemberStatus};
use synod_core::time::Duration;
use synod_sim::gossip::{Cluster, NetConfig};

#[test]
fn both_sides_of_a_healed_partition_reconcile_to_alive() {
    let n = 6;
    let mut c = Cluster::new(41, NetConfig::default());
    let mut observe = |_, _, _: &_| {};
    assert!(c.form_pool(
        n,
        &Config::lan(),
        None,
        Duration::from_secs(30),
        &mut observe
    ));
    c.partition(&[0, 0, 0, 1, 1, 1]);
    c.run_for(Duration::from_secs(60), &mut observe);
    for (o, s) in [(0, 4), (1, 3), (4, 0), (5, 2)] {
        assert_eq!(c.status(o, s), Some(MemberStatus::Failed), "{o} sees {s}");
    }
    c.heal();
    c.run_for(Duration::from_secs(150), &mut observe);
    for o in 0..n {
        for s in 0..n {
            assert_eq!(c.status(o, s), Some(MemberStatus::Alive), "{o} sees {s}");
        }
    }
}
