//! What the event loop needs from its surroundings: a clock, timers, task spawning, TCP and a
//! disk. Production implements it over smol, simulation over turmoil; the loop never knows which.
//!
//! Methods return `impl Future` (not `async fn`) so callers may rely on nothing but `Future`,
//! and nothing here needs `dyn`.

use std::future::Future;
use std::io;
use std::net::SocketAddr;

use synod_core::ids::IoToken;
use synod_core::raft::LogWrite;
use synod_core::time::Instant;

/// Clock, timers, spawning and sockets of one runtime.
pub trait Env: Clone + 'static {
    /// An established TCP stream.
    type Conn: Conn;
    /// A bound TCP listener.
    type Listener: Listener<Conn = Self::Conn>;

    /// Monotonic time since this environment started (what `Node` gets as `now`).
    fn now(&self) -> Instant;
    /// Resolves once `now() >= deadline`.
    fn sleep_until(&self, deadline: Instant) -> impl Future<Output = ()>;
    /// Runs `task` concurrently on the current (single-threaded) executor.
    fn spawn(&self, task: impl Future<Output = ()> + 'static);
    /// Opens a TCP connection to `addr` (`host:port`).
    fn connect(&self, addr: &str) -> impl Future<Output = io::Result<Self::Conn>>;
    /// Binds a TCP listener.
    fn listen(&self, addr: SocketAddr) -> impl Future<Output = io::Result<Self::Listener>>;
}

/// A byte stream.
pub trait Conn: 'static {
    /// Reads some bytes; `Ok(0)` means the peer closed. Dropping the future loses no data.
    fn read(&mut self, buf: &mut [u8]) -> impl Future<Output = io::Result<usize>>;
    /// Writes all of `buf`.
    fn write_all(&mut self, buf: &[u8]) -> impl Future<Output = io::Result<()>>;
}

/// Accepts connections.
pub trait Listener: 'static {
    /// The accepted stream type.
    type Conn: Conn;
    /// Waits for the next connection.
    fn accept(&self) -> impl Future<Output = io::Result<Self::Conn>>;
    /// The address actually bound (port 0 resolved).
    fn local_addr(&self) -> io::Result<SocketAddr>;
}

/// Makes `LogWrite`s durable. Completion is reported asynchronously: each disk is built with
/// the sending half of a channel on which it posts the token of every write once it is durable,
/// in submission order; the loop holds the receiving half. A disk that can no longer write
/// closes that channel, which stops the node (continuing without durability would be unsafe).
pub trait Disk: 'static {
    /// Queues `write`; its `token` is posted once the write is durable.
    fn submit(&mut self, token: IoToken, write: LogWrite);
}
