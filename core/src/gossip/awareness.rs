//! Lifeguard's local health awareness: a score that stretches this node's own timeouts when it
//! sees signs that *it* is the slow one (missed nacks, failed probes, being accused).

use crate::time::Duration;

/// The local health multiplier: a score in `0..max`, 0 meaning healthy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Awareness {
    score: u32,
    max: u32,
    enabled: bool,
}

impl Awareness {
    /// A healthy score bounded by `max` (exclusive); `enabled = false` pins it at 0.
    pub fn new(max: u32, enabled: bool) -> Self {
        Awareness {
            score: 0,
            max: max.max(1),
            enabled,
        }
    }

    /// Moves the score by `delta`, clamped to `0..max`.
    pub fn apply_delta(&mut self, delta: i64) {
        if !self.enabled {
            return;
        }
        let next = (i64::from(self.score) + delta).clamp(0, i64::from(self.max - 1));
        self.score = u32::try_from(next).unwrap_or(0);
    }

    /// The current score.
    pub fn score(&self) -> u32 {
        self.score
    }

    /// `timeout × (score + 1)`: how long this node should wait, given its own health.
    pub fn scale(&self, timeout: Duration) -> Duration {
        timeout * (self.score + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_is_clamped_below_max_and_at_zero() {
        let mut a = Awareness::new(8, true);
        a.apply_delta(-3);
        assert_eq!(a.score(), 0);
        a.apply_delta(20);
        assert_eq!(a.score(), 7);
        assert_eq!(a.scale(Duration::from_secs(1)), Duration::from_secs(8));
    }

    #[test]
    fn disabled_awareness_never_scales() {
        let mut a = Awareness::new(8, false);
        a.apply_delta(5);
        assert_eq!(
            a.scale(Duration::from_millis(500)),
            Duration::from_millis(500)
        );
    }
}
