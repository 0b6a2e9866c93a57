//! The simulated network: per-datagram latency with jitter and loss, reliable streams, and
//! partitions by group.

use synod_core::rand::Rng;
use synod_core::time::Duration;

/// How the simulated network behaves.
#[derive(Clone, Debug, PartialEq)]
pub struct NetConfig {
    /// Fixed one-way latency.
    pub latency: Duration,
    /// Extra uniform random latency in `[0, jitter)`.
    pub jitter: Duration,
    /// Probability that a datagram is lost (streams are reliable).
    pub loss: f64,
}

impl Default for NetConfig {
    /// A LAN: 2 ms plus up to 3 ms of jitter, no loss.
    fn default() -> Self {
        NetConfig {
            latency: Duration::from_millis(2),
            jitter: Duration::from_millis(3),
            loss: 0.0,
        }
    }
}

impl NetConfig {
    /// One-way delay for the next message.
    pub(super) fn delay(&self, rng: &mut Rng) -> Duration {
        self.latency + rng.duration(Duration::ZERO, self.jitter)
    }

    /// Whether the next datagram is dropped.
    pub(super) fn drops(&self, rng: &mut Rng) -> bool {
        self.loss > 0.0 && rng.chance(self.loss)
    }
}
