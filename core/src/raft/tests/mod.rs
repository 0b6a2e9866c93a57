//! Raft unit tests per concern, asserting the exact actions emitted. Multi-node scenarios
//! (datadriven scripts, randomized faults) are in `core/tests/raft/`.

mod fixture;

mod commit_test;
mod election_test;
mod membership_test;
mod read_test;
mod replication_test;
mod snapshot_test;
mod transfer_test;
