//! A runtime-free, seeded simulator for gossip pools: many `Gossip` machines, one event queue,
//! a lossy latency network for datagrams and a reliable one for streams. It does not use
//! `sim::world`; gossip only needs packets and time.

mod cluster;
mod network;
pub mod scenario;

pub use cluster::{Cluster, NodeId};
pub use network::NetConfig;
