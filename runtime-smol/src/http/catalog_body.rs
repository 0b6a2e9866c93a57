//! `/v1/catalog/register` and `/v1/catalog/deregister` bodies (Consul's `RegisterRequest` and
//! `DeregisterRequest`): keys matched case-insensitively, `null` read as absent, unknown keys
//! ignored, durations in Go's syntax. The agent-definition decoder does not fit here: the
//! catalog's service object names the service `Service`, not `Name`, and carries no checks.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use synod_core::go_duration::parse_go_duration;
use synod_core::state::catalog::types::{
    Check, Deregistration, HealthStatus, Node, Registration, Service, ServiceAddress, Weights,
};

use super::errors::HttpError;
use super::json::decode_case_insensitive;

/// Go leaves a field alone on `null`; serde would refuse it for a non-`Option` type.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(d: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct RegisterBody {
    #[serde(rename = "ID", deserialize_with = "nullable")]
    id: String,
    #[serde(deserialize_with = "nullable")]
    node: String,
    #[serde(deserialize_with = "nullable")]
    address: String,
    #[serde(deserialize_with = "nullable")]
    datacenter: String,
    #[serde(deserialize_with = "nullable")]
    tagged_addresses: BTreeMap<String, String>,
    #[serde(deserialize_with = "nullable")]
    node_meta: BTreeMap<String, String>,
    service: Option<ServiceBody>,
    check: Option<CheckBody>,
    #[serde(deserialize_with = "nullable")]
    checks: Vec<CheckBody>,
    #[serde(deserialize_with = "nullable")]
    skip_node_update: bool,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct ServiceBody {
    #[serde(rename = "ID", deserialize_with = "nullable")]
    id: String,
    #[serde(deserialize_with = "nullable")]
    service: String,
    #[serde(deserialize_with = "nullable")]
    tags: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    address: String,
    #[serde(deserialize_with = "nullable")]
    tagged_addresses: BTreeMap<String, ServiceAddressBody>,
    #[serde(deserialize_with = "nullable")]
    meta: BTreeMap<String, String>,
    #[serde(deserialize_with = "nullable")]
    port: u16,
    weights: Option<WeightsBody>,
    #[serde(deserialize_with = "nullable")]
    enable_tag_override: bool,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct ServiceAddressBody {
    #[serde(deserialize_with = "nullable")]
    address: String,
    #[serde(deserialize_with = "nullable")]
    port: u16,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct WeightsBody {
    passing: u32,
    warning: u32,
}

impl Default for WeightsBody {
    fn default() -> Self {
        let w = Weights::default();
        WeightsBody {
            passing: w.passing,
            warning: w.warning,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct CheckBody {
    #[serde(deserialize_with = "nullable")]
    node: String,
    #[serde(rename = "CheckID", deserialize_with = "nullable")]
    check_id: String,
    #[serde(deserialize_with = "nullable")]
    name: String,
    #[serde(deserialize_with = "nullable")]
    status: String,
    #[serde(deserialize_with = "nullable")]
    notes: String,
    #[serde(deserialize_with = "nullable")]
    output: String,
    #[serde(rename = "ServiceID", deserialize_with = "nullable")]
    service_id: String,
    #[serde(rename = "Type", deserialize_with = "nullable")]
    check_type: String,
    #[serde(deserialize_with = "nullable")]
    interval: String,
    #[serde(deserialize_with = "nullable")]
    timeout: String,
    definition: Option<DefinitionBody>,
}

/// The stored-only probe definition; only its timings are kept.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct DefinitionBody {
    #[serde(deserialize_with = "nullable")]
    interval: String,
    #[serde(deserialize_with = "nullable")]
    timeout: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct DeregisterBody {
    #[serde(deserialize_with = "nullable")]
    node: String,
    #[serde(deserialize_with = "nullable")]
    datacenter: String,
    #[serde(rename = "ServiceID", deserialize_with = "nullable")]
    service_id: String,
    #[serde(rename = "CheckID", deserialize_with = "nullable")]
    check_id: String,
}

/// A body naming another datacenter would be forwarded there; there is no path to one yet.
fn local_only(datacenter: &str, local: &str) -> Result<(), HttpError> {
    if datacenter.is_empty() || datacenter == local {
        Ok(())
    } else {
        Err(HttpError::internal("No path to datacenter"))
    }
}

/// Microseconds of a Go duration string, 0 when empty.
fn micros(text: &str) -> Result<u64, HttpError> {
    if text.is_empty() {
        return Ok(0);
    }
    match parse_go_duration(text) {
        Ok(nanos) => Ok(u64::try_from(nanos).unwrap_or(0) / 1_000),
        Err(_) => Err(HttpError::decode_failed(format!(
            "time: invalid duration {text:?}"
        ))),
    }
}

impl CheckBody {
    fn into_check(self) -> Result<Check, HttpError> {
        let status = match self.status.as_str() {
            "" => HealthStatus::Critical,
            text => HealthStatus::parse(text)
                .ok_or_else(|| HttpError::internal(format!("Invalid check status: {text:?}")))?,
        };
        let definition = self.definition.unwrap_or_default();
        let interval = if self.interval.is_empty() {
            definition.interval
        } else {
            self.interval
        };
        let timeout = if self.timeout.is_empty() {
            definition.timeout
        } else {
            self.timeout
        };
        Ok(Check {
            node: self.node,
            check_id: self.check_id,
            name: self.name,
            status,
            notes: self.notes,
            output: self.output,
            service_id: self.service_id,
            check_type: self.check_type,
            interval_us: micros(&interval)?,
            timeout_us: micros(&timeout)?,
            ..Check::default()
        })
    }
}

impl From<ServiceBody> for Service {
    fn from(s: ServiceBody) -> Self {
        let weights = s.weights.unwrap_or_default();
        Service {
            id: s.id,
            service: s.service,
            tags: s.tags,
            address: s.address,
            port: s.port,
            meta: s.meta,
            weights: Weights {
                passing: weights.passing,
                warning: weights.warning,
            },
            enable_tag_override: s.enable_tag_override,
            tagged_addresses: s
                .tagged_addresses
                .into_iter()
                .map(|(tag, a)| {
                    let address = ServiceAddress {
                        address: a.address,
                        port: a.port,
                    };
                    (tag, address)
                })
                .collect(),
        }
    }
}

/// Decodes a `/v1/catalog/register` body for datacenter `local`.
pub fn decode_registration(body: &[u8], local: &str) -> Result<Registration, HttpError> {
    let body: RegisterBody = decode_case_insensitive(body).map_err(HttpError::decode_failed)?;
    local_only(&body.datacenter, local)?;
    // Consul appends the single `Check` after `Checks`.
    let mut checks = Vec::with_capacity(body.checks.len() + 1);
    for check in body.checks.into_iter().chain(body.check) {
        checks.push(check.into_check()?);
    }
    Ok(Registration {
        node: Node {
            id: body.id,
            node: body.node,
            address: body.address,
            datacenter: local.to_owned(),
            tagged_addresses: body.tagged_addresses,
            meta: body.node_meta,
        },
        skip_node_update: body.skip_node_update,
        service: body.service.map(Service::from),
        checks,
    })
}

/// Decodes a `/v1/catalog/deregister` body for datacenter `local`.
pub fn decode_deregistration(body: &[u8], local: &str) -> Result<Deregistration, HttpError> {
    let body: DeregisterBody = decode_case_insensitive(body).map_err(HttpError::decode_failed)?;
    local_only(&body.datacenter, local)?;
    if body.node.is_empty() {
        return Err(HttpError::internal("Must provide node"));
    }
    let some = |text: String| (!text.is_empty()).then_some(text);
    Ok(Deregistration {
        node: body.node,
        service_id: some(body.service_id),
        check_id: some(body.check_id),
    })
}

#[cfg(test)]
#[path = "catalog_body_tests.rs"]
mod tests;
