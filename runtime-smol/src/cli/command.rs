//! What every HTTP-API subcommand shares: flag parsing with the HTTP flags, `-h`, usage on a
//! flag error, and the client.

use super::flags::{self, FlagSpec, ParsedFlags};
use super::http_client::{ApiClient, HTTP_FLAGS};
use super::ui::Ui;

/// Exit status of a failed command.
pub const EXIT_ERROR: i32 = 1;

/// A subcommand's name, synopsis and own flags.
pub struct CommandSpec {
    /// `kv get`, …
    pub name: &'static str,
    /// The usage line's arguments and a description.
    pub usage: &'static str,
    /// Flags besides the HTTP ones.
    pub flags: &'static [FlagSpec],
}

impl CommandSpec {
    /// Full help text.
    pub fn help(&self) -> String {
        format!(
            "Usage: synod {} [options] {}\n\nCommand Options:\n\n{}\nHTTP API Options:\n\n{}",
            self.name,
            self.usage,
            flags::usage(self.flags),
            flags::usage(HTTP_FLAGS)
        )
    }

    /// Parses `args`; on `-h` or a flag error prints what Consul prints and returns the exit
    /// status instead.
    pub fn parse(&self, args: &[String], ui: &mut Ui<'_>) -> Result<(ParsedFlags, ApiClient), i32> {
        if args
            .iter()
            .take_while(|a| a.starts_with('-') && a.as_str() != "--")
            .any(|a| matches!(a.as_str(), "-h" | "-help" | "--help"))
        {
            ui.info(&self.help());
            return Err(0);
        }
        let specs = [self.flags, HTTP_FLAGS].concat();
        let parsed = match flags::parse(&specs, args) {
            Ok(parsed) => parsed,
            Err(e) => {
                ui.error(&format!("{e}\n\n{}", self.help()));
                return Err(EXIT_ERROR);
            }
        };
        match ApiClient::from_flags(&parsed, |name| std::env::var(name).ok()) {
            Ok(client) => Ok((parsed, client)),
            Err(e) => {
                ui.error(&format!("Error connecting to Consul agent: {e}"));
                Err(EXIT_ERROR)
            }
        }
    }
}

/// A `-name` switch.
pub const fn switch(name: &'static str, help: &'static str) -> FlagSpec {
    FlagSpec {
        name,
        kind: flags::FlagKind::Switch,
        help,
    }
}

/// A `-name=value` flag.
pub const fn value(name: &'static str, help: &'static str) -> FlagSpec {
    FlagSpec {
        name,
        kind: flags::FlagKind::Value,
        help,
    }
}

/// A flag parsed as `T`, `default` when absent; the error is Go's flag error text.
pub fn number<T: std::str::FromStr>(f: &ParsedFlags, name: &str, default: T) -> Result<T, String> {
    f.parsed(name, default).map_err(|e| e.to_string())
}
