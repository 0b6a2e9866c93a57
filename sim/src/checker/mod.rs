//! Checkers for simulated runs: Raft invariants after every step, and per-key linearizability of
//! the client history at the end.

pub mod history;
pub mod invariants;
pub mod linearizability;

pub use history::{History, OpId, OpKind, Operation, Outcome};
pub use invariants::{InvariantChecker, RaftView, Violation};
pub use linearizability::{NonLinearizable, check_history, check_key};
