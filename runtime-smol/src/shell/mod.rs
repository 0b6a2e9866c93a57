//! The event loop that drives a core Node, generic over its environment.
//!
//! [`Shell`] owns the `Node`; [`NodeHandle`] is how the rest of the agent talks to it. The loop
//! runs on any single-threaded executor that can poll `futures_lite`/`async_channel` futures:
//! smol in production ([`smol_env`]), tokio's `LocalSet` under turmoil in simulation.
//!
//! Peers: one outbound TCP connection per peer carries our frames to it (bounded queue, frames
//! dropped on overflow — Raft retransmits); frames from a peer arrive on the connection *it*
//! opened. Every connection operation has a deadline ([`ShellConfig`]): a connect or write that
//! hangs is abandoned and retried with backoff, and an inbound connection silent for two
//! election timeouts is closed. The last rule matters when a stream lost bytes (a partition on
//! a link without retransmission, a half-dead socket): closing it resets the sender, which
//! reconnects, instead of frames queueing forever behind the gap.

mod config;
mod env;
mod event_loop;
mod events;
mod handle;
mod inbound;
pub mod log;
mod memory_disk;
mod peers;
pub mod smol_env;
pub(crate) mod timing;
mod watches;

pub use config::ShellConfig;
pub use env::{Conn, Disk, Env, Listener};
pub use event_loop::{Shell, StopReason};
pub use handle::{NodeHandle, Status};
pub use inbound::ClientConnHandler;
pub use memory_disk::{MemoryDisk, MemoryImage};

#[cfg(test)]
mod tests;
