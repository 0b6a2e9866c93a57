//! One test per script in `testdata/`.

use crate::datadriven::run;

macro_rules! scenario {
    ($test:ident, $file:literal) => {
        #[test]
        fn $test() {
            run($file, include_str!(concat!("testdata/", $file)));
        }
    };
}

scenario!(single_node_elects_itself_and_commits, "single_node.txt");
scenario!(
    minority_leader_cannot_commit_and_is_overwritten,
    "minority_partition.txt"
);
scenario!(
    snapshot_streams_in_chunks_and_installs_after_persist,
    "snapshot.txt"
);
scenario!(
    election_timeouts_are_per_node_and_redrawn,
    "election_timeouts.txt"
);
scenario!(learner_promotion_and_server_removal, "membership.txt");
scenario!(
    truncated_config_entry_reverts_membership,
    "config_revert.txt"
);
scenario!(
    acks_votes_and_applies_wait_for_persist,
    "persist_ordering.txt"
);
scenario!(
    read_index_waits_for_current_term_commit_and_quorum,
    "read_index.txt"
);
scenario!(
    leadership_transfer_catches_up_target_and_voids_lease,
    "transfer.txt"
);
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
