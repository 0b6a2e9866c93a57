//! Deterministic simulation of synod: a runtime-free world simulator (VOPR) and turmoil scenarios.

pub mod checker;
pub mod gossip;
pub mod turmoil_env;
pub mod world;
