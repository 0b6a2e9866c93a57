//! Go-style flag parsing, as Consul's CLI does it: `-flag=v`, `-flag v`, `--flag`, switches
//! that take `=true`/`=false`, and `--` to end the flags.

use std::fmt;

/// Whether a flag takes a value.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FlagKind {
    /// On when present; `-flag=false` turns it off.
    Switch,
    /// Needs a value: `-flag=v` or `-flag v`.
    Value,
}

/// One accepted flag.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct FlagSpec {
    /// Name without dashes.
    pub name: &'static str,
    /// Switch or value.
    pub kind: FlagKind,
    /// One line for the usage text.
    pub help: &'static str,
}

/// Why the arguments were rejected (messages as Go's `flag` package words them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlagError {
    /// Not in the spec list.
    Undefined(String),
    /// A value flag at the end of the arguments.
    MissingValue(String),
    /// A switch given a value that is not a boolean.
    BadSwitch {
        /// The flag.
        name: String,
        /// What was given.
        value: String,
    },
    /// A value that does not parse as the flag expects.
    BadValue {
        /// The flag.
        name: String,
        /// What was given.
        value: String,
    },
    /// An argument that is not a flag where none is expected.
    Unexpected(String),
}

impl fmt::Display for FlagError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlagError::Undefined(name) => write!(f, "flag provided but not defined: -{name}"),
            FlagError::MissingValue(name) => write!(f, "flag needs an argument: -{name}"),
            FlagError::BadSwitch { name, value } => {
                write!(
                    f,
                    "invalid boolean value {value:?} for -{name}: parse error"
                )
            }
            FlagError::BadValue { name, value } => {
                write!(f, "invalid value {value:?} for flag -{name}: parse error")
            }
            FlagError::Unexpected(arg) => write!(f, "unexpected argument: {arg}"),
        }
    }
}

impl std::error::Error for FlagError {}

/// Flags as given, in order: the last occurrence of a flag wins for [`ParsedFlags::value`];
/// repeatable flags read every occurrence with [`ParsedFlags::values`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParsedFlags {
    given: Vec<(&'static str, String)>,
    /// Arguments after the flags (after `--` or the first non-flag argument).
    pub positional: Vec<String>,
}

impl ParsedFlags {
    /// Whether a switch is on.
    pub fn switch(&self, name: &str) -> bool {
        self.value(name).is_some_and(|v| v == "true")
    }

    /// The value of a value flag (its last occurrence), if given.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.given
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every occurrence of a repeatable flag, in order.
    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.given
            .iter()
            .filter(move |(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every occurrence of any of `names`, in command-line order (for flags whose relative order
    /// matters, like `-config-file` and `-config-dir`).
    pub fn occurrences<'a>(
        &'a self,
        names: &'a [&'a str],
    ) -> impl Iterator<Item = (&'static str, &'a str)> + 'a {
        self.given
            .iter()
            .filter(move |(n, _)| names.contains(n))
            .map(|(n, v)| (*n, v.as_str()))
    }

    /// The value parsed as `T`, `default` when absent.
    pub fn parsed<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T, FlagError> {
        match self.value(name) {
            None => Ok(default),
            Some(raw) => raw.parse().map_err(|_| FlagError::BadValue {
                name: name.to_string(),
                value: raw.to_string(),
            }),
        }
    }
}

/// Parses `args` (without the program and command names) against `specs`.
pub fn parse(specs: &[FlagSpec], args: &[String]) -> Result<ParsedFlags, FlagError> {
    let mut parsed = ParsedFlags::default();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if arg == "--" {
            parsed.positional.extend(rest.cloned());
            break;
        }
        let Some(body) = flag_body(arg) else {
            parsed.positional.push(arg.clone());
            parsed.positional.extend(rest.cloned());
            break;
        };
        let (name, inline) = match body.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (body, None),
        };
        let spec = specs
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| FlagError::Undefined(name.to_string()))?;
        let value = match (spec.kind, inline) {
            (FlagKind::Switch, None) => "true".to_string(),
            (FlagKind::Switch, Some(v)) => parse_bool(v)
                .ok_or_else(|| FlagError::BadSwitch {
                    name: name.to_string(),
                    value: v.to_string(),
                })?
                .to_string(),
            (FlagKind::Value, Some(v)) => v.to_string(),
            (FlagKind::Value, None) => rest
                .next()
                .cloned()
                .ok_or_else(|| FlagError::MissingValue(name.to_string()))?,
        };
        parsed.given.push((spec.name, value));
    }
    Ok(parsed)
}

/// `-x`/`--x` → `x`; anything else (including a lone `-`) is not a flag.
fn flag_body(arg: &str) -> Option<&str> {
    let body = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-'))?;
    (!body.is_empty() && !body.starts_with('-')).then_some(body)
}

/// Go's `strconv.ParseBool`.
fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// One `  -name` line plus an indented help line per flag, in the order given.
pub fn usage(specs: &[FlagSpec]) -> String {
    let mut out = String::new();
    for spec in specs {
        let arg = match spec.kind {
            FlagKind::Switch => String::new(),
            FlagKind::Value => format!("=<{}>", spec.name.rsplit('-').next().unwrap_or("value")),
        };
        out.push_str(&format!("  -{}{arg}\n      {}\n\n", spec.name, spec.help));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPECS: &[FlagSpec] = &[
        FlagSpec {
            name: "dev",
            kind: FlagKind::Switch,
            help: "dev mode",
        },
        FlagSpec {
            name: "data-dir",
            kind: FlagKind::Value,
            help: "where",
        },
    ];

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn equals_space_and_double_dash_forms_are_all_accepted() {
        for form in [
            args(&["-data-dir=/d"]),
            args(&["-data-dir", "/d"]),
            args(&["--data-dir", "/d"]),
            args(&["--data-dir=/d"]),
        ] {
            let parsed = parse(SPECS, &form).expect("valid flags");
            assert_eq!(parsed.value("data-dir"), Some("/d"), "{form:?}");
        }
    }

    #[test]
    fn switch_is_on_when_present_and_takes_an_explicit_boolean() {
        assert!(parse(SPECS, &args(&["-dev"])).expect("valid").switch("dev"));
        assert!(
            parse(SPECS, &args(&["--dev=true"]))
                .expect("valid")
                .switch("dev")
        );
        assert!(
            !parse(SPECS, &args(&["-dev=false"]))
                .expect("valid")
                .switch("dev")
        );
        assert!(!parse(SPECS, &[]).expect("valid").switch("dev"));
        assert_eq!(
            parse(SPECS, &args(&["-dev=maybe"])),
            Err(FlagError::BadSwitch {
                name: "dev".into(),
                value: "maybe".into()
            })
        );
    }

    #[test]
    fn a_switch_does_not_swallow_the_next_argument() {
        let parsed = parse(SPECS, &args(&["-dev", "extra"])).expect("valid");
        assert!(parsed.switch("dev"));
        assert_eq!(parsed.positional, args(&["extra"]));
    }

    #[test]
    fn unknown_flag_is_rejected_with_gos_wording() {
        let err = parse(SPECS, &args(&["-bogus=1"])).expect_err("unknown flag");
        assert_eq!(err, FlagError::Undefined("bogus".into()));
        assert_eq!(err.to_string(), "flag provided but not defined: -bogus");
    }

    #[test]
    fn value_flag_at_the_end_needs_an_argument() {
        assert_eq!(
            parse(SPECS, &args(&["-data-dir"])),
            Err(FlagError::MissingValue("data-dir".into()))
        );
    }

    #[test]
    fn last_occurrence_wins_and_double_dash_ends_the_flags() {
        let parsed =
            parse(SPECS, &args(&["-data-dir=a", "-data-dir=b", "--", "-dev"])).expect("valid");
        assert_eq!(parsed.value("data-dir"), Some("b"));
        assert!(!parsed.switch("dev"));
        assert_eq!(parsed.positional, args(&["-dev"]));
        assert_eq!(parsed.values("data-dir").collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    fn parsed_value_reports_the_flag_and_the_bad_text() {
        let parsed = parse(SPECS, &args(&["-data-dir=x"])).expect("valid");
        assert_eq!(
            parsed.parsed::<u16>("data-dir", 1),
            Err(FlagError::BadValue {
                name: "data-dir".into(),
                value: "x".into()
            })
        );
        assert_eq!(parsed.parsed::<u16>("absent", 7), Ok(7));
    }
}
