//! Service and check definitions back to the agent API's JSON, which
//! `synod_core::health::definition` decodes: the persisted form of API registrations.

use serde_json::{Map, Value, json};
use synod_core::go_duration::format_go_duration;
use synod_core::health::{CheckDefinition, CheckKind, ServiceDefinition};

/// A service (without its checks, which persist on their own).
pub(crate) fn service_json(def: &ServiceDefinition) -> Value {
    let tagged: Map<String, Value> = def
        .tagged_addresses
        .iter()
        .map(|(k, a)| (k.clone(), json!({"Address": a.address, "Port": a.port})))
        .collect();
    json!({
        "ID": def.id,
        "Name": def.name,
        "Tags": def.tags,
        "Address": def.address,
        "Port": def.port,
        "Meta": def.meta,
        "Weights": {"Passing": def.weights.passing, "Warning": def.weights.warning},
        "EnableTagOverride": def.enable_tag_override,
        "TaggedAddresses": tagged,
    })
}

/// A standalone check (with its `ServiceID`).
pub(crate) fn check_json(def: &CheckDefinition) -> Value {
    let mut out = Map::new();
    let mut put = |k: &str, v: Value| {
        out.insert(k.to_owned(), v);
    };
    put("ID", json!(def.id));
    put("Name", json!(def.name));
    put("Notes", json!(def.notes));
    put("ServiceID", json!(def.service_id));
    put("Status", json!(def.initial_status.as_str()));
    match &def.kind {
        CheckKind::Http(http) => {
            put("HTTP", json!(http.url));
            put("Method", json!(http.method));
            put("Header", json!(http.header));
            put("Body", json!(http.body));
            put("TLSSkipVerify", json!(http.tls_skip_verify));
            put("TLSServerName", json!(http.tls_server_name));
            put("DisableRedirects", json!(http.disable_redirects));
        }
        CheckKind::Tcp { address } => put("TCP", json!(address)),
        CheckKind::Ttl { ttl } => put("TTL", json!(format_go_duration(*ttl))),
        CheckKind::Script { args } => put("Args", json!(args)),
    }
    if !matches!(def.kind, CheckKind::Ttl { .. }) {
        put("Interval", json!(format_go_duration(def.interval)));
        put("Timeout", json!(format_go_duration(def.timeout)));
    }
    put("SuccessBeforePassing", json!(def.success_before_passing));
    put("FailuresBeforeWarning", json!(def.failures_before_warning));
    put(
        "FailuresBeforeCritical",
        json!(def.failures_before_critical),
    );
    if let Some(after) = def.deregister_critical_service_after {
        put(
            "DeregisterCriticalServiceAfter",
            json!(format_go_duration(after)),
        );
    }
    put("OutputMaxSize", json!(def.output_max_size));
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use synod_core::health::definition::{decode_check_body, decode_service_body};

    #[test]
    fn service_round_trips_through_the_api_decoder() {
        let body = br#"{"ID":"web1","Name":"web","Tags":["a"],"Port":80,"Meta":{"k":"v"},
            "Weights":{"Passing":3,"Warning":2},"TaggedAddresses":{"lan":{"Address":"1.2.3.4","Port":81}}}"#;
        let def = decode_service_body(body).expect("valid body");
        let again = serde_json::to_vec(&service_json(&def)).expect("encodes");
        assert_eq!(decode_service_body(&again), Ok(def));
    }

    #[test]
    fn checks_of_every_kind_round_trip_through_the_api_decoder() {
        for body in [
            r#"{"Name":"h","HTTP":"http://x/","Method":"POST","Header":{"A":["b"]},"Body":"x","Interval":"10s","Timeout":"2s","SuccessBeforePassing":2,"FailuresBeforeCritical":3}"#,
            r#"{"Name":"t","TCP":"x:1","Interval":"5s","DeregisterCriticalServiceAfter":"2m"}"#,
            r#"{"Name":"l","TTL":"30s","Status":"passing","ServiceID":"web"}"#,
            r#"{"Name":"s","Args":["/bin/true"],"Interval":"1s"}"#,
        ] {
            let def = decode_check_body(body.as_bytes()).expect("valid body");
            let again = serde_json::to_vec(&check_json(&def)).expect("encodes");
            assert_eq!(decode_check_body(&again), Ok(def), "{body}");
        }
    }
}
