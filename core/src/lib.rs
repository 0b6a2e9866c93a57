//! synod-core: pure, sans-IO state machines.
//!
//! No I/O, no clock, no threads, no global randomness: time comes in as an argument, randomness
//! from a seeded [`rand::Rng`], and every output is plain data the driver drains.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod agent;
pub mod api;
pub mod fuzzing;
pub mod go_duration;
pub mod gossip;
pub mod health;
pub mod ids;
pub mod node;
pub mod raft;
pub mod rand;
pub mod state;
pub mod time;
pub mod wire;
