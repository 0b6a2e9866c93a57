//! Levelled, timestamped log lines in Consul's shape:
//! `2026-11-26T06:00:00.000Z [INFO]  agent.server.raft: entering leader state: term=2`.

use crate::calendar::civil_from_days;
use std::fmt;
use std::io::Write;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How important a line is.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Very chatty.
    Trace,
    /// Diagnostics.
    Debug,
    /// Normal operation.
    Info,
    /// Something is off but the agent carries on.
    Warn,
    /// Something failed.
    Error,
}

impl Level {
    const ALL: [Level; 5] = [
        Level::Trace,
        Level::Debug,
        Level::Info,
        Level::Warn,
        Level::Error,
    ];

    /// The bracketed tag padded to Consul's column width.
    fn tag(self) -> &'static str {
        match self {
            Level::Trace => "[TRACE] ",
            Level::Debug => "[DEBUG] ",
            Level::Info => "[INFO]  ",
            Level::Warn => "[WARN]  ",
            Level::Error => "[ERROR] ",
        }
    }
}

/// `-log-level` was not one of Consul's level names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownLevel(pub String);

impl fmt::Display for UnknownLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Invalid log level: {:?} (expected trace, debug, info, warn or error)",
            self.0
        )
    }
}

impl std::error::Error for UnknownLevel {}

impl FromStr for Level {
    type Err = UnknownLevel;
    fn from_str(s: &str) -> Result<Self, UnknownLevel> {
        match s.to_ascii_lowercase().as_str() {
            "trace" => Ok(Level::Trace),
            "debug" => Ok(Level::Debug),
            "info" => Ok(Level::Info),
            "warn" | "warning" => Ok(Level::Warn),
            "err" | "error" => Ok(Level::Error),
            _ => Err(UnknownLevel(s.to_string())),
        }
    }
}

/// Where wall-clock time for timestamps comes from (the simulation supplies virtual time).
pub type WallClock = fn() -> SystemTime;

/// A cheap-to-clone logger writing to stdout. Clones share the minimum level, so a config
/// reload's [`Log::set_min_level`] reaches every part of the agent.
#[derive(Clone)]
pub struct Log {
    /// Index into [`Level::ALL`].
    min: Arc<AtomicU8>,
    clock: WallClock,
    /// Put before the target on every line (simulations name the node; empty for the agent).
    prefix: Arc<str>,
}

impl fmt::Debug for Log {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Log")
            .field("min", &self.min_level())
            .finish()
    }
}

impl Log {
    /// Logs lines at `min` or above, stamped by `clock`.
    pub fn new(min: Level, clock: WallClock) -> Self {
        Log {
            min: Arc::new(AtomicU8::new(min as u8)),
            clock,
            prefix: Arc::from(""),
        }
    }

    /// The same logger with `prefix` in front of every target.
    pub fn with_prefix(&self, prefix: &str) -> Self {
        Log {
            prefix: Arc::from(prefix),
            ..self.clone()
        }
    }

    /// The lowest level written.
    pub fn min_level(&self) -> Level {
        let index = usize::from(self.min.load(Ordering::Relaxed));
        Level::ALL.get(index).copied().unwrap_or(Level::Info)
    }

    /// Changes the lowest level written, for this logger and all its clones.
    pub fn set_min_level(&self, min: Level) {
        self.min.store(min as u8, Ordering::Relaxed);
    }

    /// Whether lines at `level` are written.
    pub fn enabled(&self, level: Level) -> bool {
        level >= self.min_level()
    }

    /// Writes one line if `level` is enabled.
    pub fn line(&self, level: Level, target: &str, message: fmt::Arguments<'_>) {
        if !self.enabled(level) {
            return;
        }
        let stamp = format_timestamp((self.clock)());
        let line = format!(
            "{stamp} {}{}{target}: {message}\n",
            level.tag(),
            self.prefix
        );
        // A closed stdout must not take the agent down; the line is simply lost.
        let _ = std::io::stdout().lock().write_all(line.as_bytes());
    }

    /// `line` at INFO.
    pub fn info(&self, target: &str, message: fmt::Arguments<'_>) {
        self.line(Level::Info, target, message);
    }

    /// `line` at WARN.
    pub fn warn(&self, target: &str, message: fmt::Arguments<'_>) {
        self.line(Level::Warn, target, message);
    }

    /// `line` at DEBUG.
    pub fn debug(&self, target: &str, message: fmt::Arguments<'_>) {
        self.line(Level::Debug, target, message);
    }

    /// `line` at ERROR.
    pub fn error(&self, target: &str, message: fmt::Arguments<'_>) {
        self.line(Level::Error, target, message);
    }
}

/// RFC 3339 UTC with milliseconds: `2026-11-26T06:00:00.000Z`.
pub fn format_timestamp(at: SystemTime) -> String {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let secs = since.as_secs();
    let (year, month, day) = civil_from_days(secs / 86_400);
    let rem = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        since.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_is_rfc3339_utc_with_millis() {
        let at = UNIX_EPOCH + Duration::from_millis(1_795_672_800_123);
        assert_eq!(format_timestamp(at), "2026-11-26T06:00:00.123Z");
        assert_eq!(format_timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let leap_day = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(format_timestamp(leap_day), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn levels_parse_case_insensitively_and_order_by_severity() {
        assert_eq!("INFO".parse(), Ok(Level::Info));
        assert_eq!("warn".parse(), Ok(Level::Warn));
        assert_eq!(
            "loud".parse::<Level>(),
            Err(UnknownLevel("loud".to_string()))
        );
        assert!(Level::Error > Level::Debug);
    }

    #[test]
    fn a_new_minimum_level_reaches_every_clone() {
        let log = Log::new(Level::Info, SystemTime::now);
        let prefixed = log.with_prefix("n1: ");
        assert!(!prefixed.enabled(Level::Debug));
        log.set_min_level(Level::Debug);
        assert_eq!(prefixed.min_level(), Level::Debug);
        assert!(prefixed.enabled(Level::Debug));
        prefixed.set_min_level(Level::Error);
        assert!(!log.enabled(Level::Warn));
    }
}
