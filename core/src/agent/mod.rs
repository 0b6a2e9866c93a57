//! The agent's own services and checks, the core half: what this agent registered (from config
//! files or its HTTP API), their check status (through [`crate::health::Scheduler`]), node and
//! service maintenance, and anti-entropy — the exact catalog writes that make the catalog's view
//! of this node equal to what the agent knows, plus the periodic full-sync deadline.
//!
//! The runtime owns one [`LocalState`], feeds it registrations, probe outcomes, TTL reports,
//! timeouts and the catalog's view of the node, and carries out the [`Action`]s and the catalog
//! commands it hands out.

mod entries;
pub mod full_sync;
mod local_state;
mod maintenance;
mod rows;
mod views;

pub use entries::{AgentCheck, AgentService, Source};
pub use full_sync::{FULL_SYNC_INTERVAL, NodeView, full_sync_interval, scaled_interval};
pub use local_state::{Action, LocalError, LocalState};

#[cfg(test)]
mod tests;
