//! Per-node clocks: the global simulated time scaled by a small drift, plus an offset. Monotonic
//! by construction (the drift is far below 100%).

use synod_core::time::Instant;

const PPM: i128 = 1_000_000;

/// One node's view of time.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct NodeClock {
    /// Local reading at global time zero, µs.
    pub offset_us: u64,
    /// Rate error in parts per million (local runs `1 + drift/1e6` times as fast).
    pub drift_ppm: i64,
}

impl NodeClock {
    /// The local reading at global time `global_us`.
    pub fn local(&self, global_us: u64) -> Instant {
        let g = i128::from(global_us);
        let local = i128::from(self.offset_us) + g + g * i128::from(self.drift_ppm) / PPM;
        Instant::from_micros(u64::try_from(local.max(0)).unwrap_or(u64::MAX))
    }

    /// The earliest global time at which the local clock reads at least `deadline`.
    pub fn global_at(&self, deadline: Instant) -> u64 {
        let Some(elapsed) = deadline.as_micros().checked_sub(self.offset_us) else {
            return 0;
        };
        let estimate = i128::from(elapsed) * PPM / (PPM + i128::from(self.drift_ppm));
        let mut g = u64::try_from(estimate.max(0)).unwrap_or(u64::MAX);
        // Integer rounding can be off by a few µs either way; settle on the exact first instant.
        while g > 0 && self.local(g - 1) >= deadline {
            g -= 1;
        }
        while self.local(g) < deadline && g < u64::MAX {
            g += 1;
        }
        g
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_at_is_the_first_instant_reaching_the_deadline() {
        for drift_ppm in [-1000, -1, 0, 7, 1000] {
            let clock = NodeClock {
                offset_us: 5_000_000,
                drift_ppm,
            };
            for deadline in [0u64, 4_999_999, 5_000_000, 5_000_001, 7_654_321, 90_000_017] {
                let d = Instant::from_micros(deadline);
                let g = clock.global_at(d);
                assert!(clock.local(g) >= d, "drift {drift_ppm} deadline {deadline}");
                assert!(
                    g == 0 || clock.local(g - 1) < d,
                    "drift {drift_ppm} deadline {deadline}"
                );
            }
        }
    }

    #[test]
    fn local_time_never_goes_backwards() {
        let clock = NodeClock {
            offset_us: 1,
            drift_ppm: -1000,
        };
        let mut last = clock.local(0);
        for g in 0..20_000 {
            let now = clock.local(g);
            assert!(now >= last);
            last = now;
        }
    }
}
