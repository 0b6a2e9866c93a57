//! Helpers for end-to-end tests.

pub mod etcd_cluster;
pub mod failover;
pub mod http_call;
pub mod process_cluster;
