//! What a gossip driver needs to start.

use std::net::SocketAddr;
use std::time::Duration;

use synod_core::gossip::{Config, Keyring, Tags};
use synod_core::wire::DEFAULT_MAX_FRAME;

/// One gossip pool's driver settings (LAN or WAN: pick `gossip` accordingly).
#[derive(Clone, Debug)]
pub struct SerfConfig {
    /// Where UDP and TCP listen; port 0 picks one free for both.
    pub bind: SocketAddr,
    /// The address others reach us at; `None` uses the bound address, which then must not be
    /// unspecified (0.0.0.0 / ::).
    pub advertise: Option<SocketAddr>,
    /// Unique name in the pool.
    pub node_name: String,
    /// Tags advertised in our alive messages.
    pub tags: Tags,
    /// Encrypts every packet and stream when set.
    pub keyring: Option<Keyring>,
    /// Gossip timings (`Config::lan()` / `Config::wan()`).
    pub gossip: Config,
    /// Bound on connecting, writing and reading one push-pull stream (memberlist's TCPTimeout).
    pub stream_timeout: Duration,
    /// How long a join waits for the agents it reached to answer.
    pub join_timeout: Duration,
    /// How long `leave` keeps gossiping before returning if the news has not drained yet
    /// (Serf's BroadcastTimeout).
    pub leave_timeout: Duration,
    /// Largest push-pull frame accepted.
    pub max_stream_frame: usize,
    /// Events buffered for [`super::SerfHandle::events`] before new ones are dropped.
    pub event_buffer: usize,
}

impl SerfConfig {
    /// memberlist/Serf defaults around `gossip`.
    pub fn new(bind: SocketAddr, node_name: impl Into<String>, gossip: Config) -> SerfConfig {
        SerfConfig {
            bind,
            advertise: None,
            node_name: node_name.into(),
            tags: Tags::new(),
            keyring: None,
            gossip,
            stream_timeout: Duration::from_secs(10),
            join_timeout: Duration::from_secs(5),
            leave_timeout: Duration::from_secs(5),
            max_stream_frame: DEFAULT_MAX_FRAME,
            event_buffer: 1024,
        }
    }
}
