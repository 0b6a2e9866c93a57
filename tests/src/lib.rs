//! Helpers for end-to-end tests.

pub mod failover;
pub mod http_call;
pub mod process_cluster;
