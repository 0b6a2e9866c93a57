//! Failed members are reaped after `reconnect_timeout`; a node restarting under the same name
//! rejoins, refuting its tombstone with a higher incarnation.

use std::cell::RefCell;
use synod_core::gossip::{Config, Event, MemberStatus};
use synod_core::time::Duration;
use synod_sim::gossip::{Cluster, NetConfig};

#[test]
fn failed_member_is_reaped_after_reconnect_timeout_then_can_rejoin() {
    let n = 5;
    let victim = 4;
    let config = Config {
        reconnect_timeout: Duration::from_secs(60),
        ..Config::lan()
    };
    let mut c = Cluster::new(61, NetConfig::default());
    let reaped = RefCell::new(Vec::new());
    let mut observe = |_, o, e: &Event| {
        if let Event::MemberReaped(m) = e {
            reaped.borrow_mut().push((o, m.name.clone()));
        }
    };
    assert!(c.form_pool(n, &config, None, Duration::from_secs(30), &mut observe));
    c.crash(victim);
    c.run_for(Duration::from_secs(30), &mut observe);
    for o in 0..victim {
        assert_eq!(c.status(o, victim), Some(MemberStatus::Failed));
    }
    assert!(reaped.borrow().is_empty(), "reaped too early");
    c.run_for(Duration::from_secs(45), &mut observe);
    for o in 0..victim {
        assert_eq!(
            c.status(o, victim),
            None,
            "{o} still lists the failed member"
        );
    }
    let mut got = reaped.borrow().clone();
    got.sort();
    let expected: Vec<(usize, String)> = (0..victim).map(|o| (o, Cluster::name(victim))).collect();
    assert_eq!(got, expected);

    c.restart(victim, config, &[0], &mut observe);
    c.run_for(Duration::from_secs(10), &mut observe);
    let incarnation = c.gossip(victim).local().incarnation;
    assert!(incarnation >= 1, "rejoin refutes the tombstone");
    for o in 0..n {
        assert_eq!(c.status(o, victim), Some(MemberStatus::Alive), "{o}");
        assert_eq!(c.live_members(o), n);
    }
}
