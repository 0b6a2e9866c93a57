//! Settings of the loop's networking.

use synod_core::time::Duration;

/// Connection and queue settings of the shell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShellConfig {
    /// Frames queued per peer while its connection is busy or down; more are dropped (Raft
    /// retransmits what matters).
    pub peer_queue: usize,
    /// Giving up on a connection attempt after this long.
    pub connect_timeout: Duration,
    /// A write that has not completed after this long means the connection is dead.
    pub write_timeout: Duration,
    /// An inbound connection silent for this long is closed, so a stream that lost bytes (its
    /// peer will reconnect) cannot hold frames back forever.
    pub idle_timeout: Duration,
    /// First wait before reconnecting; doubles per failure up to `max_backoff`.
    pub min_backoff: Duration,
    /// Longest wait between reconnection attempts.
    pub max_backoff: Duration,
    /// Largest frame accepted from a peer.
    pub max_frame: usize,
}

impl ShellConfig {
    /// Settings scaled to a Raft election timeout: a dead connection is noticed well within one
    /// election timeout of healing.
    pub fn for_election_timeout(election_timeout: Duration) -> Self {
        ShellConfig {
            peer_queue: 1024,
            connect_timeout: election_timeout,
            write_timeout: election_timeout,
            idle_timeout: election_timeout * 2,
            min_backoff: Duration::from_millis(20),
            max_backoff: election_timeout,
            max_frame: 64 << 20,
        }
    }
}
