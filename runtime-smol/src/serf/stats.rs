//! Traffic and error counters, shared between the driver's tasks and every handle.

use std::sync::atomic::{AtomicU64, Ordering};

/// The live counters. Relaxed ordering: each one is an independent tally.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) packets_sent: AtomicU64,
    pub(crate) packets_received: AtomicU64,
    pub(crate) bytes_sent: AtomicU64,
    pub(crate) bytes_received: AtomicU64,
    pub(crate) send_failures: AtomicU64,
    pub(crate) streams_sent: AtomicU64,
    pub(crate) streams_received: AtomicU64,
    pub(crate) stream_failures: AtomicU64,
    pub(crate) decrypt_failures: AtomicU64,
    pub(crate) decode_errors: AtomicU64,
    pub(crate) events_dropped: AtomicU64,
}

/// Adds one to a counter.
pub(crate) fn bump(counter: &AtomicU64) {
    add(counter, 1);
}

/// Adds `n` to a counter.
pub(crate) fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

/// A snapshot of a driver's counters since it started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SerfStats {
    /// UDP datagrams sent.
    pub packets_sent: u64,
    /// UDP datagrams received (whether or not they decoded).
    pub packets_received: u64,
    /// UDP payload bytes sent.
    pub bytes_sent: u64,
    /// UDP payload bytes received.
    pub bytes_received: u64,
    /// Datagrams the OS refused to send.
    pub send_failures: u64,
    /// TCP push-pull streams delivered.
    pub streams_sent: u64,
    /// TCP push-pull streams read completely.
    pub streams_received: u64,
    /// Outgoing streams that could not connect or write in time, and incoming streams that
    /// broke off or timed out before a whole frame arrived.
    pub stream_failures: u64,
    /// Packets and streams dropped because no key authenticated them (or they were plaintext
    /// in an encrypted pool).
    pub decrypt_failures: u64,
    /// Packets and streams dropped because they did not decode.
    pub decode_errors: u64,
    /// Events dropped because nobody was reading [`super::SerfHandle::events`].
    pub events_dropped: u64,
}

impl Counters {
    /// Reads every counter.
    pub(crate) fn snapshot(&self) -> SerfStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        SerfStats {
            packets_sent: get(&self.packets_sent),
            packets_received: get(&self.packets_received),
            bytes_sent: get(&self.bytes_sent),
            bytes_received: get(&self.bytes_received),
            send_failures: get(&self.send_failures),
            streams_sent: get(&self.streams_sent),
            streams_received: get(&self.streams_received),
            stream_failures: get(&self.stream_failures),
            decrypt_failures: get(&self.decrypt_failures),
            decode_errors: get(&self.decode_errors),
            events_dropped: get(&self.events_dropped),
        }
    }
}
