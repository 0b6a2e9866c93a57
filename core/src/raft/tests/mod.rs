//! Raft tests: unit tests per concern asserting exact actions, and datadriven scenarios.

mod cluster;
mod datadriven;
mod fixture;
mod format;
mod scenarios;

mod commit_test;
mod election_test;
mod membership_test;
mod random_test;
mod read_test;
mod replication_test;
mod snapshot_test;
mod transfer_test;
