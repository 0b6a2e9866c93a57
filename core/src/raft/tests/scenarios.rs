//! One test per script in `testdata/`.

use crate::raft::tests::datadriven::run;

macro_rules! scenario {
    ($test:ident, $file:literal) => {
        #[test]
        fn $test() {
            run($file, include_str!(concat!("../testdata/", $file)));
        }
    };
}

scenario!(single_node_elects_itself_and_commits, "single_node.txt");
scenario!(
    figure7_followers_converge_to_leader_log,
    "fig7_log_divergence.txt"
);
scenario!(
    figure8_old_term_entries_commit_only_through_current_term,
    "fig8_old_term_commit.txt"
);
scenario!(three_voters_elect_one_leader, "election.txt");
scenario!(
    partitioned_node_rejoins_without_raising_term,
    "prevote_partition.txt"
);
