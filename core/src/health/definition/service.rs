//! Service definitions, with their nested `check`/`checks`.

use std::collections::BTreeMap;

use crate::health::check::ServiceDefinition;
use crate::health::definition::DefinitionError;
use crate::health::definition::check::decode_in_service;
use crate::health::definition::object::{Field, Object, error};
use crate::state::catalog::types::{ServiceAddress, Weights};

/// Every key a service definition may carry (normalized); the Connect and namespace keys are
/// accepted and ignored.
const KNOWN: &[&str] = &[
    "id",
    "name",
    "tags",
    "address",
    "port",
    "meta",
    "weights",
    "enabletagoverride",
    "taggedaddresses",
    "check",
    "checks",
    "token",
    "kind",
    "proxy",
    "connect",
    "namespace",
    "partition",
    "locality",
    "socketpath",
];

pub(super) fn decode(obj: &Object<'_>) -> Result<ServiceDefinition, DefinitionError> {
    obj.reject_unknown(KNOWN)?;
    let name = obj.string(&["name"])?.unwrap_or_default();
    if name.is_empty() {
        let path = if obj.path().is_empty() {
            "name".to_owned()
        } else {
            format!("{}.name", obj.path())
        };
        return Err(error(&path, "missing service name"));
    }
    let id = obj
        .string(&["id"])?
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| name.clone());
    let port = obj.uint(&["port"], u16::MAX.into())?.unwrap_or(0) as u16;
    let mut check_objects: Vec<Object<'_>> = Vec::new();
    if let Some(field) = obj.field(&["check"]) {
        check_objects.push(field.object()?);
    }
    if let Some(field) = obj.field(&["checks"]) {
        for item in field.array()? {
            check_objects.push(item.object()?);
        }
    }
    let several = check_objects.len() > 1;
    let checks = check_objects
        .iter()
        .enumerate()
        .map(|(i, check)| {
            let default_id = if several {
                format!("service:{id}:{}", i + 1)
            } else {
                format!("service:{id}")
            };
            decode_in_service(check, default_id, &name, &id)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ServiceDefinition {
        tags: obj.strings(&["tags"])?,
        address: obj.string(&["address"])?.unwrap_or_default(),
        port,
        meta: obj.string_map(&["meta"])?,
        weights: weights(obj)?,
        enable_tag_override: obj.bool(&["enabletagoverride"])?,
        tagged_addresses: tagged_addresses(obj)?,
        checks,
        id,
        name,
    })
}

fn weights(obj: &Object<'_>) -> Result<Weights, DefinitionError> {
    let Some(field) = obj.field(&["weights"]) else {
        return Ok(Weights::default());
    };
    let w = field.object()?;
    let passing = w.uint(&["passing"], u32::MAX.into())?.unwrap_or(1) as u32;
    if passing == 0 {
        return Err(error(
            &format!("{}.passing", field.path),
            "must be greater than 0",
        ));
    }
    let warning = w.uint(&["warning"], u32::MAX.into())?.unwrap_or(1) as u32;
    Ok(Weights { passing, warning })
}

fn tagged_addresses(obj: &Object<'_>) -> Result<BTreeMap<String, ServiceAddress>, DefinitionError> {
    let Some(field) = obj.field(&["taggedaddresses"]) else {
        return Ok(BTreeMap::new());
    };
    field
        .entries()?
        .into_iter()
        .map(|(tag, value): (String, Field<'_>)| {
            let addr = value.object()?;
            Ok((
                tag,
                ServiceAddress {
                    address: addr.string(&["address"])?.unwrap_or_default(),
                    port: addr.uint(&["port"], u16::MAX.into())?.unwrap_or(0) as u16,
                },
            ))
        })
        .collect()
}
