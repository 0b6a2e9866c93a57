//! Whole simulated runs: a fixed set of seeds passes, and a seed replays identically.

use synod_sim::world::run_seed;

#[test]
fn fixed_seed_set_passes() {
    for seed in [1, 2, 3, 4] {
        let report = run_seed(seed);
        assert_eq!(report.failure, None, "seed {seed}: {:#?}", report.options);
        assert!(report.stats.ops > 0, "seed {seed} ran no client operations");
        assert!(
            report.stats.leader_terms > 0,
            "seed {seed} never elected a leader"
        );
    }
}

#[test]
fn same_seed_gives_the_same_trace_hash() {
    let first = run_seed(7);
    let second = run_seed(7);
    assert_eq!(first.trace_hash, second.trace_hash);
    assert_eq!(first.stats, second.stats);
    assert_ne!(first.trace_hash, run_seed(8).trace_hash);
}
