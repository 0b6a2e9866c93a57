//! A graceful leave is reported as `left`, a crash as `failed`.

use std::cell::RefCell;
use synod_core::gossip::{Config, Event, MemberStatus};
use synod_core::time::Duration;
use synod_sim::gossip::{Cluster, NetConfig};

#[test]
fn leaving_member_is_left_and_crashed_member_is_failed() {
    let n = 5;
    let (leaver, crasher) = (2, 3);
    let mut c = Cluster::new(51, NetConfig::default());
    let events = RefCell::new(Vec::new());
    let mut observe = |_, o, e: &Event| match e {
        Event::MemberLeft(m) => events.borrow_mut().push((o, "left", m.name.clone())),
        Event::MemberFailed(m) => events.borrow_mut().push((o, "failed", m.name.clone())),
        _ => {}
    };
    assert!(c.form_pool(
        n,
        &Config::lan(),
        None,
        Duration::from_secs(30),
        &mut observe
    ));
    c.leave(leaver, &mut observe);
    c.run_for(Duration::from_secs(2), &mut observe);
    c.crash(leaver);
    c.crash(crasher);
    c.run_for(Duration::from_secs(40), &mut observe);
    for o in [0, 1, 4] {
        assert_eq!(c.status(o, leaver), Some(MemberStatus::Left));
        assert_eq!(c.status(o, crasher), Some(MemberStatus::Failed));
    }
    // The crashed member may have seen the leave before crashing; check the survivors.
    let mut events = events.into_inner();
    events.retain(|(o, _, _)| *o != leaver && *o != crasher);
    events.sort();
    let expected: Vec<(usize, &str, String)> = [0, 1, 4]
        .into_iter()
        .flat_map(|o| {
            [
                (o, "failed", Cluster::name(crasher)),
                (o, "left", Cluster::name(leaver)),
            ]
        })
        .collect();
    assert_eq!(events, expected);
}
