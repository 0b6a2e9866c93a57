//! Health checks, the core half: check and service definitions (and their JSON decoder), the
//! status rules (thresholds, output cap, TTL expiry, maintenance checks) and a [`Scheduler`]
//! that says when each probe runs. The runtime executes probes and reports outcomes back.

pub mod check;
pub mod definition;
pub mod duration;
pub mod maintenance;
pub mod scheduler;
pub mod serf;
pub mod status;

pub use check::{CheckDefinition, CheckKind, HttpProbe, ServiceDefinition};
pub use scheduler::{Action, Outcome, Scheduler, TtlError};

#[cfg(test)]
mod tests;
