//! A JSON object viewed Consul's way: keys found case-insensitively and ignoring `_`, typed
//! getters whose errors carry the key path as the input spelled it.

use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

use crate::health::definition::DefinitionError;
use crate::health::duration::parse_go_duration;

/// Config files reject unknown keys; API bodies ignore them.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    Config,
    Api,
}

/// One value with its path.
pub(super) struct Field<'a> {
    pub(super) path: String,
    pub(super) value: &'a Value,
    pub(super) mode: Mode,
}

/// An object with its path, remembering which keys were read.
pub(super) struct Object<'a> {
    path: String,
    mode: Mode,
    entries: Vec<(String, &'a str, &'a Value)>,
}

pub(super) fn error(path: &str, reason: impl Into<String>) -> DefinitionError {
    DefinitionError {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

/// `check_id`, `CheckID` and `checkid` all become `checkid`.
fn normalize(key: &str) -> String {
    key.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

impl<'a> Object<'a> {
    pub(super) fn new(value: &'a Value, path: String, mode: Mode) -> Result<Self, DefinitionError> {
        let Value::Object(map) = value else {
            return Err(error(&path, "expected an object"));
        };
        let entries = map
            .iter()
            .map(|(k, v)| (normalize(k), k.as_str(), v))
            .collect();
        Ok(Object {
            path,
            mode,
            entries,
        })
    }

    pub(super) fn path(&self) -> &str {
        &self.path
    }

    /// The first key present among `names` (normalized spellings), `null` counting as absent.
    pub(super) fn field(&self, names: &[&str]) -> Option<Field<'a>> {
        names.iter().find_map(|name| {
            self.entries
                .iter()
                .find(|(norm, _, v)| norm == name && !v.is_null())
                .map(|(_, key, value)| Field {
                    path: join(&self.path, key),
                    value,
                    mode: self.mode,
                })
        })
    }

    /// In config mode, the first key not in `known` (normalized) is an error.
    pub(super) fn reject_unknown(&self, known: &[&str]) -> Result<(), DefinitionError> {
        if self.mode == Mode::Api {
            return Ok(());
        }
        match self
            .entries
            .iter()
            .find(|(norm, _, _)| !known.contains(&norm.as_str()))
        {
            Some((_, key, _)) => Err(error(&join(&self.path, key), "unknown key")),
            None => Ok(()),
        }
    }

    pub(super) fn string(&self, names: &[&str]) -> Result<Option<String>, DefinitionError> {
        self.field(names).map(|f| f.string()).transpose()
    }

    pub(super) fn bool(&self, names: &[&str]) -> Result<bool, DefinitionError> {
        Ok(self
            .field(names)
            .map(|f| f.bool())
            .transpose()?
            .unwrap_or(false))
    }

    pub(super) fn uint(&self, names: &[&str], max: u64) -> Result<Option<u64>, DefinitionError> {
        self.field(names).map(|f| f.uint(max)).transpose()
    }

    pub(super) fn duration(&self, names: &[&str]) -> Result<Option<Duration>, DefinitionError> {
        self.field(names).map(|f| f.duration()).transpose()
    }

    pub(super) fn strings(&self, names: &[&str]) -> Result<Vec<String>, DefinitionError> {
        match self.field(names) {
            None => Ok(Vec::new()),
            Some(f) => f.array()?.iter().map(Field::string).collect(),
        }
    }

    pub(super) fn string_map(
        &self,
        names: &[&str],
    ) -> Result<BTreeMap<String, String>, DefinitionError> {
        let Some(f) = self.field(names) else {
            return Ok(BTreeMap::new());
        };
        f.entries()?
            .into_iter()
            .map(|(k, v)| Ok((k, v.string()?)))
            .collect()
    }
}

impl<'a> Field<'a> {
    pub(super) fn object(&self) -> Result<Object<'a>, DefinitionError> {
        Object::new(self.value, self.path.clone(), self.mode)
    }

    pub(super) fn array(&self) -> Result<Vec<Field<'a>>, DefinitionError> {
        let Value::Array(items) = self.value else {
            return Err(error(&self.path, "expected a list"));
        };
        Ok(items
            .iter()
            .enumerate()
            .map(|(i, value)| Field {
                path: format!("{}[{i}]", self.path),
                value,
                mode: self.mode,
            })
            .collect())
    }

    /// An object's entries with their keys as written (for maps like `meta` and `header`).
    pub(super) fn entries(&self) -> Result<Vec<(String, Field<'a>)>, DefinitionError> {
        let Value::Object(map) = self.value else {
            return Err(error(&self.path, "expected an object"));
        };
        Ok(map
            .iter()
            .map(|(k, value)| {
                let field = Field {
                    path: join(&self.path, k),
                    value,
                    mode: self.mode,
                };
                (k.clone(), field)
            })
            .collect())
    }

    pub(super) fn string(&self) -> Result<String, DefinitionError> {
        match self.value {
            Value::String(s) => Ok(s.clone()),
            _ => Err(error(&self.path, "expected a string")),
        }
    }

    /// A boolean; like Consul's weakly typed decoding, `"true"`/`"false"` are accepted.
    pub(super) fn bool(&self) -> Result<bool, DefinitionError> {
        match self.value {
            Value::Bool(b) => Ok(*b),
            Value::String(s) if s == "true" => Ok(true),
            Value::String(s) if s == "false" => Ok(false),
            _ => Err(error(&self.path, "expected true or false")),
        }
    }

    /// A whole number up to `max`; a string of digits is accepted too.
    pub(super) fn uint(&self, max: u64) -> Result<u64, DefinitionError> {
        let n = match self.value {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.parse::<u64>().ok(),
            _ => return Err(error(&self.path, "expected a number")),
        };
        match n {
            Some(n) if n <= max => Ok(n),
            Some(_) => Err(error(&self.path, format!("must be at most {max}"))),
            None => Err(error(&self.path, "expected a non-negative whole number")),
        }
    }

    /// A Go duration string (`"10s"`), or a number of nanoseconds as Go's JSON writes it.
    pub(super) fn duration(&self) -> Result<Duration, DefinitionError> {
        match self.value {
            Value::String(s) => parse_go_duration(s).map_err(|why| error(&self.path, why)),
            Value::Number(n) => n
                .as_u64()
                .map(Duration::from_nanos)
                .ok_or_else(|| error(&self.path, "expected a non-negative duration")),
            _ => Err(error(&self.path, "expected a duration like \"10s\"")),
        }
    }
}
