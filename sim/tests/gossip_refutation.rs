//! A member cut off long enough to be suspected, but not declared failed, refutes the
//! suspicion with a higher incarnation once it can talk again.

use std::cell::RefCell;
use synod_core::gossip::{Config, Event, MemberStatus};
use synod_core::time::Duration;
use synod_sim::gossip::{Cluster, NetConfig};

#[test]
fn briefly_isolated_member_refutes_suspicion_with_higher_incarnation() {
    let mut c = Cluster::new(11, NetConfig::default());
    let failed = RefCell::new(Vec::new());
    let mut observe = |_, _, e: &Event| {
        if let Event::MemberFailed(m) = e {
            failed.borrow_mut().push(m.name.clone());
        }
    };
    assert!(c.form_pool(
        5,
        &Config::lan(),
        None,
        Duration::from_secs(30),
        &mut observe
    ));
    let isolated = 3;
    c.partition(&[0, 0, 0, 1, 0]);
    // Heal as soon as anyone suspects it: well inside the 4 s minimum suspicion timeout.
    let mut suspected = false;
    for _ in 0..100 {
        c.run_for(Duration::from_millis(100), &mut observe);
        if (0..5).any(|o| c.status(o, isolated) == Some(MemberStatus::Suspect)) {
            suspected = true;
            break;
        }
    }
    assert!(suspected, "the isolated member was never suspected");
    c.heal();
    c.run_for(Duration::from_secs(10), &mut observe);
    assert!(failed.borrow().is_empty(), "declared failed: {failed:?}");
    let incarnation = c.gossip(isolated).local().incarnation;
    assert!(incarnation >= 1);
    for o in 0..5 {
        let view = c.view(o, isolated).expect("still a member");
        assert_eq!(
            (view.status, view.incarnation),
            (MemberStatus::Alive, incarnation)
        );
    }
}
