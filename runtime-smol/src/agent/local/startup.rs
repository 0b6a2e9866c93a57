//! What the agent needs to start its local half: its catalog node row. (Config-file definitions
//! arrive decoded from `agent::definitions`, through the reloader.)

use std::collections::BTreeMap;
use std::net::IpAddr;

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
