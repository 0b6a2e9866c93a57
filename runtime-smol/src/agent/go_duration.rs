//! Durations in the agent's flags and config (`-retry-interval=30s`): Go's syntax, parsed by
//! core's codec, negative values refused.

use std::time::Duration;

use synod_core::go_duration::parse_go_duration;

/// Parses `text` like Go's `time.ParseDuration`; the error is Go's wording.
pub fn parse(text: &str) -> Result<Duration, String> {
    match parse_go_duration(text) {
        Ok(nanos) if nanos >= 0 => Ok(Duration::from_nanos(nanos.unsigned_abs())),
        Ok(_) => Err(format!("duration {text:?} cannot be negative")),
        Err(_) => Err(format!("time: invalid duration {text:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_parse_to_their_length() {
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
    }

    #[test]
    fn malformed_or_negative_durations_are_refused() {
        assert_eq!(parse("30"), Err("time: invalid duration \"30\"".into()));
        assert_eq!(
            parse("-1s"),
            Err("duration \"-1s\" cannot be negative".into())
        );
    }
}
