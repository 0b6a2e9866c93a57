//! Durations in check and service definitions: Go's syntax, never negative.

use std::time::Duration;

pub use crate::go_duration::format_go_duration;

/// Parses a Go duration string for a definition. Negative durations and overflow are errors;
/// `"0"` is zero.
pub fn parse_go_duration(text: &str) -> Result<Duration, String> {
    match crate::go_duration::parse_go_duration(text) {
        Ok(ns) if ns < 0 => Err(format!("negative duration {text:?}")),
        Ok(ns) => Ok(Duration::from_nanos(ns.unsigned_abs())),
        Err(_) => Err(format!("invalid duration {text:?}")),
    }
}
