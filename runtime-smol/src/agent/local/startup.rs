//! What the agent needs to start its local half: its catalog node row and the service and
//! check definitions of its config files.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::{Value, json};
use synod_core::health::definition::decode_config;
use synod_core::health::{CheckDefinition, ServiceDefinition};
use synod_core::state::catalog::types::Node;

/// This agent's catalog row, as Consul's agent registers it: its address under `lan`,
/// `lan_ipv4`, `wan` and `wan_ipv4`, and the default network segment in its meta.
pub fn node_row(uuid: &str, name: &str, address: IpAddr, datacenter: &str) -> Node {
    let address = address.to_string();
    let family = if address.contains(':') {
        "ipv6"
    } else {
        "ipv4"
    };
    let tagged_addresses: BTreeMap<String, String> = [
        "lan".to_owned(),
        format!("lan_{family}"),
        "wan".to_owned(),
        format!("wan_{family}"),
    ]
    .into_iter()
    .map(|k| (k, address.clone()))
    .collect();
    Node {
        id: uuid.to_owned(),
        node: name.to_owned(),
        address,
        datacenter: datacenter.to_owned(),
        tagged_addresses,
        meta: BTreeMap::from([("consul-network-segment".to_owned(), String::new())]),
    }
}

/// Decodes the `service`/`check` objects the config loader collected.
pub fn config_definitions(
    services: &[Value],
    checks: &[Value],
) -> Result<(Vec<ServiceDefinition>, Vec<CheckDefinition>), String> {
    let document = json!({"services": services, "checks": checks});
    let bytes = serde_json::to_vec(&document).map_err(|e| e.to_string())?;
    let decoded = decode_config(&bytes).map_err(|e| e.to_string())?;
    Ok((decoded.services, decoded.checks))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_web_service_decodes_from_config_objects() {
        let services = vec![json!({"name": "web", "tags": ["rails"], "port": 80})];
        let (services, checks) = config_definitions(&services, &[]).expect("valid");
        assert_eq!(services.len(), 1);
        assert_eq!(services[0].id, "web");
        assert_eq!(services[0].tags, vec!["rails".to_owned()]);
        assert!(checks.is_empty());
    }

    #[test]
    fn invalid_definition_names_the_key() {
        let services = vec![json!({"name": "web", "port": "x"})];
        let error = config_definitions(&services, &[]).expect_err("invalid port");
        assert!(error.contains("port"), "{error}");
    }
}
