//! Lifeguard's dynamic suspicion timeout: it starts at `max` and shrinks toward `min` as
//! independent confirmations of the suspicion arrive.

use super::member::NodeName;
use crate::time::{Duration, Instant};
use std::collections::BTreeSet;

/// One running suspicion about a member.
#[derive(Clone, Debug, PartialEq)]
pub struct Suspicion {
    start: Instant,
    min: Duration,
    max: Duration,
    /// Confirmations that bring the timeout down to `min`.
    k: u32,
    /// Who raised the suspicion first: not counted as a confirmation.
    origin: NodeName,
    confirmations: BTreeSet<NodeName>,
}

impl Suspicion {
    /// A suspicion raised by `origin` at `start`, expecting `k` independent confirmations.
    /// With `k == 0` (or `min == max`) the timeout is simply `min`.
    pub fn new(origin: NodeName, start: Instant, min: Duration, max: Duration, k: u32) -> Self {
        Suspicion {
            start,
            min,
            max: max.max(min),
            k,
            origin,
            confirmations: BTreeSet::new(),
        }
    }

    /// Records a confirmation from `from`; true if it is new and independent.
    pub fn confirm(&mut self, from: &str) -> bool {
        if self.confirmations.len() as u32 >= self.k || from == self.origin {
            return false;
        }
        self.confirmations.insert(from.to_owned())
    }

    /// How many independent confirmations have arrived.
    pub fn confirmations(&self) -> u32 {
        self.confirmations.len() as u32
    }

    /// The current total timeout: `max(min, max − (max−min)·ln(C+1)/ln(k+1))`.
    pub fn timeout(&self) -> Duration {
        if self.k < 1 {
            return self.min;
        }
        let c = f64::from(self.confirmations());
        let frac = (c + 1.0).ln() / (f64::from(self.k) + 1.0).ln();
        let span = self.max.saturating_sub(self.min).as_secs_f64();
        let shrunk = self.max.as_secs_f64() - frac * span;
        Duration::from_secs_f64(shrunk.max(self.min.as_secs_f64()))
    }

    /// When the suspected member is declared failed.
    pub fn deadline(&self) -> Instant {
        self.start + self.timeout()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn timeout_starts_at_max_and_reaches_min_after_k_confirmations() {
        let mut s = Suspicion::new("a".into(), Instant::ZERO, secs(4), secs(24), 2);
        assert_eq!(s.timeout(), secs(24));
        assert!(s.confirm("b"));
        // ln(2)/ln(3) of the way from 24 s down to 4 s.
        let expected = 24.0 - 20.0 * 2f64.ln() / 3f64.ln();
        assert!((s.timeout().as_secs_f64() - expected).abs() < 1e-6);
        assert!(s.confirm("c"));
        assert_eq!(s.timeout(), secs(4));
        assert_eq!(s.deadline(), Instant::ZERO + secs(4));
    }

    #[test]
    fn origin_and_repeated_confirmations_do_not_count() {
        let mut s = Suspicion::new("a".into(), Instant::ZERO, secs(4), secs(24), 2);
        assert!(!s.confirm("a"));
        assert!(s.confirm("b"));
        assert!(!s.confirm("b"));
        assert_eq!(s.confirmations(), 1);
    }

    #[test]
    fn zero_k_uses_min_timeout() {
        let s = Suspicion::new("a".into(), Instant::ZERO, secs(4), secs(24), 0);
        assert_eq!(s.timeout(), secs(4));
    }
}
