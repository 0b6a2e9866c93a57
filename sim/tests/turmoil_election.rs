//! A fresh 3-server cluster over turmoil sockets elects exactly one leader and keeps it.

mod turmoil_support;

use synod_core::raft::Role;
use turmoil_support::{ELECTION_TIMEOUT, Scenario};

#[test]
fn three_servers_elect_exactly_one_leader_and_keep_it() {
    let mut s = Scenario::three_servers(0x5EED_0001);
    let all = ["n1", "n2", "n3"];
    let took = s.run_until(ELECTION_TIMEOUT * 4, "first leader", |st| {
        st.len() == 3 && turmoil_support::agreed_leader(st, &all).is_some()
    });
    println!("first leader agreed after {took:?}");
    let (leader, term) = s.agreed_leader(&all).expect("agreed above");

    // Stable: no new election while nothing fails (step() also checks one leader per term).
    s.run_for(ELECTION_TIMEOUT * 5);
    let statuses = s.statuses();
    let leaders: Vec<&String> = statuses
        .iter()
        .filter(|(_, st)| st.role == Role::Leader)
        .map(|(name, _)| name)
        .collect();
    assert_eq!(leaders, vec![&leader]);
    assert_eq!(s.agreed_leader(&all), Some((leader, term)));
}

#[test]
fn same_seed_replays_the_same_election() {
    let timeline = |seed: u64| {
        let mut s = Scenario::three_servers(seed);
        let all = ["n1", "n2", "n3"];
        let took = s.run_until(ELECTION_TIMEOUT * 4, "first leader", |st| {
            st.len() == 3 && turmoil_support::agreed_leader(st, &all).is_some()
        });
        (took, s.agreed_leader(&all))
    };
    assert_eq!(timeline(0x5EED_0004), timeline(0x5EED_0004));
}
