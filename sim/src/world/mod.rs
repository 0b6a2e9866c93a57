//! Runtime-free discrete-event simulator: N `Node`s, a faulty network, per-node disks and clocks,
//! clients, and the checkers — all driven from one seed, one event at a time.
//!
//! A run has two phases. The safety phase injects every fault the seed turned on and checks the
//! Raft invariants after every step. Then everything heals and crashed nodes restart: the cluster
//! must elect, serve every client, converge, and the client history must be linearizable.

pub mod clock;
pub mod disk;
pub mod framing;
pub mod network;
pub mod options;
pub mod queue;
pub mod trace;
pub mod workload;

mod run;

pub use options::Options;
pub use run::{Failure, Report, Stats, run_options, run_seed};
