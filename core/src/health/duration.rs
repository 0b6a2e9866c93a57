//! Go's duration syntax (`"10s"`, `"1m30s"`, `"1.5h"`, `"250ms"`), as Consul's definitions use.

use std::time::Duration;

/// Parses a Go duration string. Negative durations and overflow are errors; `"0"` is zero.
pub fn parse_go_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("invalid duration {text:?}");
    let rest = text.strip_prefix('+').unwrap_or(text);
    if rest.starts_with('-') {
        return Err(format!("negative duration {text:?}"));
    }
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total_ns: u128 = 0;
    let mut rest = rest;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("missing unit in duration {text:?}"))?;
        let (number, tail) = rest.split_at(number_len);
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let unit_ns: u128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return Err(format!("unknown unit {unit:?} in duration {text:?}")),
        };
        total_ns = total_ns
            .checked_add(scaled(number, unit_ns).ok_or_else(bad)?)
            .ok_or_else(bad)?;
        rest = tail;
    }
    let secs = u64::try_from(total_ns / 1_000_000_000).map_err(|_| bad())?;
    // Go durations are int64 nanoseconds; refuse what Go would overflow on.
    if total_ns > i64::MAX as u128 {
        return Err(bad());
    }
    Ok(Duration::new(secs, (total_ns % 1_000_000_000) as u32))
}

/// `number` (digits with at most one `.`) times `unit_ns`, in nanoseconds.
fn scaled(number: &str, unit_ns: u128) -> Option<u128> {
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    if (whole.is_empty() && frac.is_empty()) || frac.contains('.') {
        return None;
    }
    let whole: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut value = whole.checked_mul(unit_ns)?;
    let mut scale = unit_ns;
    for digit in frac.bytes().take(30) {
        scale /= 10;
        value = value.checked_add(u128::from(digit - b'0') * scale)?;
    }
    Some(value)
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
