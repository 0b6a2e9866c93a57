//! Decodes service and check definitions from JSON, both as config files write them
//! (`{"service": {"name": "web", "port": 80}}`, `services`, `check`, `checks`, snake_case) and
//! as HTTP API bodies (`/v1/agent/service/register`, `/v1/agent/check/register`, CamelCase).
//!
//! Keys match case-insensitively and ignoring `_`, as Consul's do. Errors name the key path as
//! the input spelled it and the reason (`service.port: expected a number`). Never panics.

mod check;
mod object;
mod service;

use serde_json::Value;

use crate::health::check::{CheckDefinition, ServiceDefinition};
use crate::health::definition::object::{Mode, Object};

/// Why a definition was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefinitionError {
    /// Path of the offending key (`services[1].checks[0].interval`); empty for the document.
    pub path: String,
    /// What is wrong with it.
    pub reason: String,
}

impl core::fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.reason)
        } else {
            write!(f, "{}: {}", self.path, self.reason)
        }
    }
}

impl std::error::Error for DefinitionError {}

/// The service and check definitions of one config file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigDefinitions {
    /// From `service` and `services`, in file order.
    pub services: Vec<ServiceDefinition>,
    /// Standalone checks from `check` and `checks`, in file order.
    pub checks: Vec<CheckDefinition>,
}

fn parse(json: &[u8]) -> Result<Value, DefinitionError> {
    serde_json::from_slice(json).map_err(|e| DefinitionError {
        path: String::new(),
        reason: format!("invalid JSON: {e}"),
    })
}

/// Decodes the `service`/`services`/`check`/`checks` keys of a JSON config file. Other
/// top-level keys (agent settings) are left to the agent's config loader; unknown keys inside a
/// definition are errors, as in Consul's config files.
pub fn decode_config(json: &[u8]) -> Result<ConfigDefinitions, DefinitionError> {
    let value = parse(json)?;
    let root = Object::new(&value, String::new(), Mode::Config)?;
    let mut out = ConfigDefinitions::default();
    if let Some(field) = root.field(&["service"]) {
        out.services.push(service::decode(&field.object()?)?);
    }
    if let Some(field) = root.field(&["services"]) {
        for item in field.array()? {
            out.services.push(service::decode(&item.object()?)?);
        }
    }
    if let Some(field) = root.field(&["check"]) {
        out.checks.push(check::decode_standalone(&field.object()?)?);
    }
    if let Some(field) = root.field(&["checks"]) {
        for item in field.array()? {
            out.checks.push(check::decode_standalone(&item.object()?)?);
        }
    }
    Ok(out)
}

/// Decodes a `/v1/agent/service/register` body. Unknown keys are ignored, as Consul's API does.
pub fn decode_service_body(json: &[u8]) -> Result<ServiceDefinition, DefinitionError> {
    let value = parse(json)?;
    service::decode(&Object::new(&value, String::new(), Mode::Api)?)
}

/// Decodes a `/v1/agent/check/register` body. Unknown keys are ignored.
pub fn decode_check_body(json: &[u8]) -> Result<CheckDefinition, DefinitionError> {
    let value = parse(json)?;
    check::decode_standalone(&Object::new(&value, String::new(), Mode::Api)?)
}

#[cfg(test)]
mod tests;
