//! Status rules: Consul's success/failure thresholds (flap damping) and the output cap.

use crate::state::catalog::types::HealthStatus;

/// Consecutive-result counters deciding when a probe result may change a check's status.
///
/// As in Consul: a passing or warning result counts as a success, resets the failure count and
/// takes effect once `success_before_passing` successes are in a row; a critical result counts
/// as a failure, resets the success count and takes effect once `failures_before_critical`
/// failures are in a row, turning warning first once `failures_before_warning` are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Damping {
    success_before_passing: u32,
    failures_before_warning: u32,
    failures_before_critical: u32,
    successes: u32,
    failures: u32,
}

impl Damping {
    /// Counters for the given thresholds (0 means "at once").
    pub fn new(
        success_before_passing: u32,
        failures_before_warning: u32,
        failures_before_critical: u32,
    ) -> Self {
        Damping {
            success_before_passing,
            failures_before_warning: failures_before_warning.min(failures_before_critical),
            failures_before_critical,
            successes: 0,
            failures: 0,
        }
    }

    /// Records one result; returns the status to apply, or `None` while the threshold is not met
    /// (the check keeps its status and output).
    pub fn observe(&mut self, result: HealthStatus) -> Option<HealthStatus> {
        if matches!(result, HealthStatus::Passing | HealthStatus::Warning) {
            self.successes = self.successes.saturating_add(1);
            self.failures = 0;
            (self.successes >= self.success_before_passing).then_some(result)
        } else {
            self.failures = self.failures.saturating_add(1);
            self.successes = 0;
            if self.failures >= self.failures_before_critical {
                Some(HealthStatus::Critical)
            } else if self.failures >= self.failures_before_warning {
                Some(HealthStatus::Warning)
            } else {
                None
            }
        }
    }
}

/// `output` cut to at most `max` bytes, at a character boundary.
pub fn cap_output(output: &str, max: usize) -> String {
    if output.len() <= max {
        return output.to_owned();
    }
    let mut end = max;
    while !output.is_char_boundary(end) {
        end -= 1;
    }
    output[..end].to_owned()
}
