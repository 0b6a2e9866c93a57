//! The leader is cut off: the majority elects a new one, the old one steps down, and after the
//! partition heals nobody's term rises (pre-vote kept the isolated node from inflating it).

mod turmoil_support;

use synod_core::raft::Role;
use turmoil_support::{ELECTION_TIMEOUT, Scenario, agreed_leader, summary};

#[test]
fn isolated_leader_is_replaced_steps_down_and_rejoins_without_raising_the_term() {
    let mut s = Scenario::three_servers(0x5EED_0002);
    let all = ["n1", "n2", "n3"];
    s.run_until(ELECTION_TIMEOUT * 4, "first leader", |st| {
        st.len() == 3 && agreed_leader(st, &all).is_some()
    });
    let (old, old_term) = s.agreed_leader(&all).expect("agreed above");
    let majority: Vec<&str> = all.iter().copied().filter(|n| *n != old).collect();

    for other in &majority {
        s.sim.partition(old.as_str(), *other);
    }
    // A follower waits one randomized election timeout ([t, 2t)) after the last heartbeat.
    let took = s.run_until(ELECTION_TIMEOUT * 2, "new leader in the majority", |st| {
        agreed_leader(st, &majority).is_some_and(|(_, term)| term > old_term)
    });
    println!("majority elected a new leader {took:?} after the partition");
    let (new, new_term) = s.agreed_leader(&majority).expect("agreed above");
    assert_ne!(new, old);

    // Check-quorum: the old leader hears from no quorum and steps down.
    s.run_until(ELECTION_TIMEOUT * 2, "old leader steps down", |st| {
        st.get(&old).is_some_and(|o| o.role != Role::Leader)
    });
    // Pre-vote: while cut off it never wins a pre-vote, so its term stays put.
    s.run_for(ELECTION_TIMEOUT * 5);
    let isolated = s.statuses()[&old].clone();
    assert_eq!(isolated.term, old_term, "isolated node raised its term");

    for other in &majority {
        s.sim.repair(old.as_str(), *other);
    }
    s.run_until(
        ELECTION_TIMEOUT * 4,
        "old leader follows the new one",
        |st| agreed_leader(st, &all) == Some((new.clone(), new_term)),
    );
    s.run_for(ELECTION_TIMEOUT * 3);
    let statuses = s.statuses();
    assert!(
        statuses.values().all(|st| st.term == new_term),
        "term rose after healing: {:#?}",
        summary(&statuses)
    );
    assert_eq!(agreed_leader(&statuses, &all), Some((new, new_term)));
}
