//! Tunables of one gossip pool, with memberlist's LAN and WAN defaults.

use crate::time::Duration;

/// Timing and sizing of one gossip pool (memberlist's `Config`, the parts the core uses).
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// How often one member is probed (before awareness scaling).
    pub probe_interval: Duration,
    /// How long to wait for a direct ack before asking others to probe indirectly.
    pub probe_timeout: Duration,
    /// How often piggybacked broadcasts are gossiped.
    pub gossip_interval: Duration,
    /// How many random members each gossip round sends to.
    pub gossip_nodes: usize,
    /// Suspicion timeout multiplier (`min = mult × max(1, log10 N) × probe_interval`).
    pub suspicion_mult: u32,
    /// The suspicion timer starts at `max = this × min` (Lifeguard).
    pub suspicion_max_timeout_mult: u32,
    /// Retransmit limit multiplier (`limit = mult × ceil(log10(N+1))`).
    pub retransmit_mult: u32,
    /// How many members are asked to probe a target indirectly.
    pub indirect_checks: usize,
    /// Base period of the full-state push-pull (scaled up above 32 members).
    pub push_pull_interval: Duration,
    /// Upper bound (exclusive) of the local health awareness score.
    pub awareness_max_multiplier: u32,
    /// Failed members still receive gossip for this long (so they can refute).
    pub gossip_to_the_dead_time: Duration,
    /// How often Serf-style reconnect may push-pull with a failed member.
    pub reconnect_interval: Duration,
    /// Failed and left members are reaped from the member list after this long.
    pub reconnect_timeout: Duration,
    /// A reaped member's name is remembered this long, so stale messages cannot resurrect it.
    pub tombstone_timeout: Duration,
    /// Largest datagram the core builds (before encryption overhead is subtracted).
    pub packet_budget: usize,
    /// Largest encoded user event message accepted by [`super::Gossip::user_event`].
    pub user_event_size_limit: usize,
    /// How many Lamport ticks of user-event history are kept for de-duplication.
    pub user_event_window: u64,
    /// Lifeguard on: dynamic suspicion timeout, local health awareness and nacks.
    /// Off gives classic SWIM with a fixed suspicion timeout (for comparison).
    pub lifeguard: bool,
}

impl Config {
    /// memberlist's `DefaultLANConfig` (plus Consul's 72 h reconnect timeout).
    pub fn lan() -> Config {
        Config {
            probe_interval: Duration::from_secs(1),
            probe_timeout: Duration::from_millis(500),
            gossip_interval: Duration::from_millis(200),
            gossip_nodes: 3,
            suspicion_mult: 4,
            suspicion_max_timeout_mult: 6,
            retransmit_mult: 4,
            indirect_checks: 3,
            push_pull_interval: Duration::from_secs(30),
            awareness_max_multiplier: 8,
            gossip_to_the_dead_time: Duration::from_secs(30),
            reconnect_interval: Duration::from_secs(30),
            reconnect_timeout: Duration::from_secs(72 * 3600),
            tombstone_timeout: Duration::from_secs(60),
            packet_budget: 1400,
            user_event_size_limit: 512,
            user_event_window: 512,
            lifeguard: true,
        }
    }

    /// memberlist's `DefaultWANConfig`.
    pub fn wan() -> Config {
        Config {
            probe_interval: Duration::from_secs(5),
            probe_timeout: Duration::from_secs(3),
            gossip_interval: Duration::from_millis(500),
            gossip_nodes: 4,
            suspicion_mult: 6,
            push_pull_interval: Duration::from_secs(60),
            gossip_to_the_dead_time: Duration::from_secs(60),
            ..Config::lan()
        }
    }

    /// Retransmit limit for a pool of `n` members: `mult × ceil(log10(n+1))`.
    pub fn retransmit_limit(&self, n: usize) -> u32 {
        let scale = ((n as f64) + 1.0).log10().ceil() as u32;
        self.retransmit_mult * scale.max(1)
    }

    /// Lifeguard's minimum suspicion timeout for `n` members.
    pub fn suspicion_min(&self, n: usize) -> Duration {
        let scale = (n.max(1) as f64).log10().max(1.0);
        self.probe_interval
            .mul_f64(f64::from(self.suspicion_mult) * scale)
    }

    /// Push-pull period for `n` members: grows with log2 above 32 members, as memberlist does.
    pub fn push_pull_period(&self, n: usize) -> Duration {
        const THRESHOLD: f64 = 32.0;
        if (n as f64) <= THRESHOLD {
            return self.push_pull_interval;
        }
        let mult = ((n as f64).log2() - THRESHOLD.log2()).ceil() + 1.0;
        self.push_pull_interval.mul_f64(mult)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retransmit_limit_scales_with_log_of_members() {
        let c = Config::lan();
        assert_eq!(c.retransmit_limit(1), 4);
        assert_eq!(c.retransmit_limit(100), 12);
        assert_eq!(c.retransmit_limit(1000), 16);
    }

    #[test]
    fn suspicion_min_matches_memberlist_figures() {
        let c = Config::lan();
        assert_eq!(c.suspicion_min(5), Duration::from_secs(4));
        assert_eq!(c.suspicion_min(100), Duration::from_secs(8));
        assert_eq!(c.suspicion_min(1000), Duration::from_secs(12));
    }

    #[test]
    fn push_pull_period_grows_above_32_members() {
        let c = Config::lan();
        assert_eq!(c.push_pull_period(32), Duration::from_secs(30));
        assert_eq!(c.push_pull_period(1000), Duration::from_secs(180));
    }
}
