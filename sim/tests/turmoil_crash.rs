//! A follower crashes, misses writes, restarts from its log and catches up.

mod turmoil_support;

use bytes::Bytes;
use synod_core::node::{ClientRequest, ClientResponse, Consistency};
use synod_core::state::QueryResult;
use synod_core::state::kv_types::{KvCommand, KvQuery, KvQueryResult};
use turmoil_support::{ELECTION_TIMEOUT, Scenario, agreed_leader};

fn put(key: &str, value: &str) -> ClientRequest {
    ClientRequest::Write(
        KvCommand::Set {
            key: key.to_string(),
            value: Bytes::from(value.to_string()),
            flags: 0,
        }
        .into(),
    )
}

fn written(response: &ClientResponse) -> bool {
    matches!(response, ClientResponse::Written { .. })
}

#[test]
fn bounced_follower_recovers_its_log_and_catches_up_on_missed_writes() {
    let mut s = Scenario::three_servers(0x5EED_0003);
    let all = ["n1", "n2", "n3"];
    s.run_until(ELECTION_TIMEOUT * 4, "first leader", |st| {
        st.len() == 3 && agreed_leader(st, &all).is_some()
    });
    let (leader, _) = s.agreed_leader(&all).expect("agreed above");
    let follower = all
        .iter()
        .copied()
        .find(|n| *n != leader)
        .expect("3 servers");

    let before = s.request(&leader, put("before", "1"), ELECTION_TIMEOUT);
    assert!(written(&before), "{before:?}");
    s.run_until(ELECTION_TIMEOUT, "follower applies the first write", |st| {
        st[follower].applied >= st[&leader].commit
    });
    let applied_before_crash = s.statuses()[follower].applied;

    s.sim.crash(follower);
    s.step();
    assert!(
        !s.statuses().contains_key(follower),
        "a crashed server's loop must be gone"
    );
    for i in 0..5 {
        let r = s.request(&leader, put(&format!("during/{i}"), "2"), ELECTION_TIMEOUT);
        assert!(written(&r), "write with one follower down: {r:?}");
    }
    s.sim.bounce(follower);
    // It restarts from its own log first: nothing it had applied is lost...
    s.run_until(ELECTION_TIMEOUT, "follower restarted", |st| {
        st.contains_key(follower)
    });
    let restarted = s.statuses()[follower].clone();
    assert!(
        restarted.last_index >= applied_before_crash && restarted.commit.0 > 0,
        "restarted without its log: {restarted:?}"
    );
    // ...then catches up with everything committed while it was down.
    s.run_until(ELECTION_TIMEOUT * 4, "follower caught up", |st| {
        st.get(follower)
            .is_some_and(|f| f.applied >= st[&leader].commit && f.applied > applied_before_crash)
    });

    let read = s.request(
        follower,
        ClientRequest::Read {
            query: KvQuery::Get {
                key: "during/4".to_string(),
            }
            .into(),
            consistency: Consistency::Stale,
        },
        ELECTION_TIMEOUT,
    );
    match read {
        ClientResponse::Read {
            result: QueryResult::Kv(KvQueryResult::Entries(entries)),
            ..
        } => {
            assert_eq!(entries.len(), 1, "{entries:?}");
            assert_eq!(entries[0].value, Bytes::from_static(b"2"));
        }
        other => panic!("stale read on the bounced follower: {other:?}"),
    }
}
