//! Check definitions: one of `http`, `tcp`, `ttl`, `args`/`script`, with Consul's defaults.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::health::check::{
    CheckDefinition, CheckKind, DEFAULT_NETWORK_TIMEOUT, DEFAULT_OUTPUT_MAX_SIZE,
    DEFAULT_SCRIPT_TIMEOUT, HttpProbe,
};
use crate::health::definition::DefinitionError;
use crate::health::definition::object::{Object, error};
use crate::state::catalog::types::HealthStatus;

/// Shortest `deregister_critical_service_after`; shorter values are raised to it (as Consul).
const MIN_DEREGISTER_AFTER: Duration = Duration::from_secs(60);

/// Every key a check definition may carry (normalized).
const KNOWN: &[&str] = &[
    "id",
    "checkid",
    "name",
    "notes",
    "serviceid",
    "status",
    "http",
    "method",
    "header",
    "body",
    "tlsskipverify",
    "tlsservername",
    "disableredirects",
    "tcp",
    "ttl",
    "args",
    "scriptargs",
    "script",
    "interval",
    "timeout",
    "successbeforepassing",
    "failuresbeforewarning",
    "failuresbeforecritical",
    "deregistercriticalserviceafter",
    "outputmaxsize",
    "token",
    "grpc",
    "grpcusetls",
    "dockercontainerid",
    "shell",
    "h2ping",
    "h2pingusetls",
    "udp",
    "osservice",
    "aliasnode",
    "aliasservice",
    "tcpusetls",
];

/// Check kinds Consul has and synod does not run yet.
const UNSUPPORTED: &[&str] = &[
    "grpc",
    "dockercontainerid",
    "h2ping",
    "udp",
    "osservice",
    "aliasnode",
    "aliasservice",
];

/// A standalone check (`check`, `checks`, `/v1/agent/check/register`): `name` is required and
/// the ID defaults to it.
pub(super) fn decode_standalone(obj: &Object<'_>) -> Result<CheckDefinition, DefinitionError> {
    let name = obj.string(&["name"])?.unwrap_or_default();
    if name.is_empty() {
        return Err(error(
            &join(obj.path(), "name"),
            "missing (a check needs a name)",
        ));
    }
    let service_id = obj.string(&["serviceid"])?.unwrap_or_default();
    decode(obj, name.clone(), name, service_id)
}

/// A check inside a service: defaults come from the service (`service:<id>[:n]` and
/// `Service '<name>' check`) and it always belongs to that service.
pub(super) fn decode_in_service(
    obj: &Object<'_>,
    default_id: String,
    service_name: &str,
    service_id: &str,
) -> Result<CheckDefinition, DefinitionError> {
    let name = obj
        .string(&["name"])?
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| format!("Service '{service_name}' check"));
    decode(obj, default_id, name, service_id.to_owned())
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn decode(
    obj: &Object<'_>,
    default_id: String,
    name: String,
    service_id: String,
) -> Result<CheckDefinition, DefinitionError> {
    obj.reject_unknown(KNOWN)?;
    if let Some(field) = UNSUPPORTED.iter().find_map(|k| obj.field(&[k])) {
        return Err(error(&field.path, "unsupported check type"));
    }
    for key in ["tcpusetls", "grpcusetls", "h2pingusetls"] {
        if let Some(field) = obj.field(&[key]).filter(|f| f.bool().unwrap_or(true)) {
            return Err(error(
                &field.path,
                "TLS for this check type is not supported",
            ));
        }
    }
    let id = obj
        .string(&["id", "checkid"])?
        .filter(|id| !id.is_empty())
        .unwrap_or(default_id);
    let initial_status = match obj.field(&["status"]) {
        None => HealthStatus::Critical,
        Some(f) => match f.string()?.as_str() {
            "" => HealthStatus::Critical,
            "passing" => HealthStatus::Passing,
            "warning" => HealthStatus::Warning,
            "critical" => HealthStatus::Critical,
            other => {
                return Err(error(
                    &f.path,
                    format!("{other:?} is not one of passing, warning, critical"),
                ));
            }
        },
    };
    let kind = decode_kind(obj)?;
    let (interval, timeout) = match &kind {
        CheckKind::Ttl { .. } => (Duration::ZERO, Duration::ZERO),
        periodic => {
            let interval = obj
                .duration(&["interval"])?
                .filter(|d| !d.is_zero())
                .ok_or_else(|| {
                    error(
                        &join(obj.path(), "interval"),
                        format!("missing (required for {} checks)", periodic.type_name()),
                    )
                })?;
            let default_timeout = match periodic {
                CheckKind::Script { .. } => DEFAULT_SCRIPT_TIMEOUT,
                _ => DEFAULT_NETWORK_TIMEOUT,
            };
            let timeout = obj.duration(&["timeout"])?.filter(|d| !d.is_zero());
            (interval, timeout.unwrap_or(default_timeout))
        }
    };
    let failures_before_critical = count(obj, "failuresbeforecritical")?.unwrap_or(0);
    let failures_before_warning =
        count(obj, "failuresbeforewarning")?.unwrap_or(failures_before_critical);
    if failures_before_warning > failures_before_critical {
        return Err(error(
            &join(obj.path(), "failures_before_warning"),
            "must not exceed failures_before_critical",
        ));
    }
    let output_max_size = match obj.uint(&["outputmaxsize"], u32::MAX.into())? {
        None | Some(0) => DEFAULT_OUTPUT_MAX_SIZE,
        Some(n) => usize::try_from(n).unwrap_or(DEFAULT_OUTPUT_MAX_SIZE),
    };
    Ok(CheckDefinition {
        id,
        name,
        notes: obj.string(&["notes"])?.unwrap_or_default(),
        service_id,
        initial_status,
        kind,
        interval,
        timeout,
        success_before_passing: count(obj, "successbeforepassing")?.unwrap_or(0),
        failures_before_warning,
        failures_before_critical,
        deregister_critical_service_after: obj
            .duration(&["deregistercriticalserviceafter"])?
            .filter(|d| !d.is_zero())
            .map(|d| d.max(MIN_DEREGISTER_AFTER)),
        output_max_size,
    })
}

fn count(obj: &Object<'_>, key: &str) -> Result<Option<u32>, DefinitionError> {
    Ok(obj.uint(&[key], u32::MAX.into())?.map(|n| n as u32))
}

fn decode_kind(obj: &Object<'_>) -> Result<CheckKind, DefinitionError> {
    let mut kinds = Vec::new();
    if let Some(url) = obj.string(&["http"])? {
        kinds.push(CheckKind::Http(HttpProbe {
            url,
            method: obj
                .string(&["method"])?
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| "GET".into()),
            header: header(obj)?,
            body: obj.string(&["body"])?.unwrap_or_default(),
            tls_skip_verify: obj.bool(&["tlsskipverify"])?,
            tls_server_name: obj.string(&["tlsservername"])?.unwrap_or_default(),
            disable_redirects: obj.bool(&["disableredirects"])?,
        }));
    }
    if let Some(address) = obj.string(&["tcp"])? {
        kinds.push(CheckKind::Tcp { address });
    }
    if let Some(ttl) = obj.duration(&["ttl"])? {
        if ttl.is_zero() {
            return Err(error(&join(obj.path(), "ttl"), "must be above zero"));
        }
        kinds.push(CheckKind::Ttl { ttl });
    }
    let args = obj.strings(&["args", "scriptargs"])?;
    if !args.is_empty() {
        kinds.push(CheckKind::Script { args });
    }
    if let Some(script) = obj.string(&["script"])? {
        kinds.push(CheckKind::Script {
            args: vec!["/bin/sh".into(), "-c".into(), script],
        });
    }
    match kinds.len() {
        1 => Ok(kinds.remove(0)),
        0 => Err(error(
            obj.path(),
            "one of http, tcp, ttl, args or script is required",
        )),
        _ => Err(error(
            obj.path(),
            "only one of http, tcp, ttl, args or script may be set",
        )),
    }
}

/// `header`: name → list of values (Go's `map[string][]string`).
fn header(obj: &Object<'_>) -> Result<BTreeMap<String, Vec<String>>, DefinitionError> {
    let Some(field) = obj.field(&["header"]) else {
        return Ok(BTreeMap::new());
    };
    field
        .entries()?
        .into_iter()
        .map(|(name, values)| {
            let values = values
                .array()?
                .iter()
                .map(|v| v.string())
                .collect::<Result<Vec<_>, _>>()?;
            Ok((name, values))
        })
        .collect()
}
