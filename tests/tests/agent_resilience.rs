//! End to end, issue 4's resilience: a 3-server cluster keeps taking writes when its leader is
//! killed with SIGKILL and loses nothing acknowledged across a full restart; and (as root, in
//! network namespaces) a leader cut off from the others is replaced, refuses writes, and
//! converges once the network heals.

mod cli_support;
mod netns_support;

use std::time::Duration;

use synod_tests::failover::{Acked, failover_trial, lost_after_full_restart};
use synod_tests::process_cluster::ProcessCluster;

/// A few trials keep `cargo test` short; `failover_bench` runs the 20 that give the figures.
const TRIALS: usize = 3;
/// Bound on forming, on one failover and on the final restart.
const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn killing_the_leader_lets_writes_resume_through_a_survivor_and_loses_nothing_acknowledged() {
    let work = cli_support::temp_dir("failover");
    let mut cluster = ProcessCluster::start(cli_support::synod_binary(), &work, 3, LIMIT)
        .expect("a 3-server cluster elects a leader");
    let mut acked = Acked::new();
    for trial in 0..TRIALS {
        let took = failover_trial(&mut cluster, trial, &mut acked, LIMIT)
            .unwrap_or_else(|e| panic!("trial {trial}: {e}"));
        println!("trial {trial}: first acknowledged write {took:?} after the kill");
    }
    let lost = lost_after_full_restart(&mut cluster, &acked, LIMIT).expect("cluster restarts");
    drop(cluster);
    // Three data dirs of preallocated WAL: the disk is shared.
    let _ = std::fs::remove_dir_all(&work);
    assert_eq!(lost, Acked::new(), "of {} acknowledged writes", acked.len());
}

#[test]
fn a_partitioned_leader_is_replaced_refuses_writes_and_converges_after_healing() {
    netns_support::partition_scenario();
}
