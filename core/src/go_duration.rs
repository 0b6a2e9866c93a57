//! Go's duration syntax (`10s`, `1m30s`, `60000ms`, `1.5h`): `time.ParseDuration` and
//! `Duration.String()`, as Consul uses them in `?wait=`, config files and check definitions.

use core::fmt;
use std::time::Duration;

/// A duration string Go would reject.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DurationError;

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid duration")
    }
}

impl std::error::Error for DurationError {}

fn unit_nanos(unit: &str) -> Option<u128> {
    Some(match unit {
        "ns" => 1,
        "us" | "µs" | "μs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return None,
    })
}

/// Parses a Go duration into signed nanoseconds (Go's `time.Duration`, which overflows past
/// ~292 years: so does this, with an error).
pub fn parse_go_duration(input: &str) -> Result<i64, DurationError> {
    let (negative, mut rest) = match input.as_bytes().first() {
        Some(b'-') => (true, &input[1..]),
        Some(b'+') => (false, &input[1..]),
        _ => (false, input),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(DurationError);
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (int_part, after) = rest.split_at(int_len);
        let (frac_part, after) = match after.strip_prefix('.') {
            Some(f) => {
                let n = f.bytes().take_while(u8::is_ascii_digit).count();
                f.split_at(n)
            }
            None => ("", after),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(DurationError);
        }
        let unit_len = after
            .char_indices()
            .find(|(_, c)| c.is_ascii_digit() || *c == '.')
            .map_or(after.len(), |(i, _)| i);
        let (unit, after) = after.split_at(unit_len);
        let scale = unit_nanos(unit).ok_or(DurationError)?;
        let whole: u128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| DurationError)?
        };
        let mut amount = whole.checked_mul(scale).ok_or(DurationError)?;
        let mut place = scale;
        for digit in frac_part.bytes().take(30) {
            place /= 10;
            amount += u128::from(digit - b'0') * place;
        }
        total = total.checked_add(amount).ok_or(DurationError)?;
        if total > i64::MAX as u128 {
            return Err(DurationError);
        }
        rest = after;
    }
    let magnitude = i64::try_from(total).map_err(|_| DurationError)?;
    Ok(if negative { -magnitude } else { magnitude })
}

/// Formats like Go's `Duration.String()` (`"10s"`, `"1m30s"`, `"1.5s"`, `"250ms"`, `"0s"`).
pub fn format_go_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".into();
    }
    if ns < 1_000_000_000 {
        let (unit_ns, unit) = match ns {
            n if n < 1_000 => (1, "ns"),
            n if n < 1_000_000 => (1_000, "µs"),
            _ => (1_000_000, "ms"),
        };
        return format!("{}{unit}", fraction(ns, unit_ns));
    }
    let hours = ns / 3_600_000_000_000;
    let minutes = (ns / 60_000_000_000) % 60;
    let seconds = ns % 60_000_000_000;
    let mut out = String::new();
    if hours > 0 {
        out.push_str(&format!("{hours}h"));
    }
    if hours > 0 || minutes > 0 {
        out.push_str(&format!("{minutes}m"));
    }
    out.push_str(&format!("{}s", fraction(seconds, 1_000_000_000)));
    out
}

/// `value / unit` with the decimal fraction trimmed of trailing zeros.
fn fraction(value: u128, unit: u128) -> String {
    let whole = value / unit;
    let mut rem = value % unit;
    if rem == 0 {
        return whole.to_string();
    }
    let mut digits = String::new();
    let mut scale = unit;
    while rem > 0 && scale > 1 {
        scale /= 10;
        digits.push(char::from(b'0' + (rem / scale) as u8));
        rem %= scale;
    }
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_consul_clients_send() {
        assert_eq!(parse_go_duration("10s"), Ok(10_000_000_000));
        assert_eq!(parse_go_duration("60000ms"), Ok(60_000_000_000));
        assert_eq!(parse_go_duration("5m"), Ok(300_000_000_000));
        assert_eq!(parse_go_duration("1h2m3s"), Ok(3_723_000_000_000));
        assert_eq!(parse_go_duration("1.5s"), Ok(1_500_000_000));
        assert_eq!(parse_go_duration(".5ms"), Ok(500_000));
        assert_eq!(parse_go_duration("3µs"), Ok(3_000));
        assert_eq!(parse_go_duration("0"), Ok(0));
        assert_eq!(parse_go_duration("-2s"), Ok(-2_000_000_000));
    }

    #[test]
    fn rejects_what_go_rejects() {
        for bad in [
            "",
            "10",
            "s",
            "1x",
            "1.s.",
            "-",
            ".s",
            "1s2",
            "9999999999999999999h",
        ] {
            assert_eq!(parse_go_duration(bad), Err(DurationError), "{bad:?}");
        }
    }
}
