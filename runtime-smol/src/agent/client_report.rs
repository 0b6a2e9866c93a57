//! What a client agent gossips and reports about itself (`/v1/agent/self`).

use std::collections::BTreeMap;

use crate::http::agent_self::AgentSelf;

use super::self_report::{AgentIdentity, runtime_stats, self_config, self_member};

/// The tags a client agent gossips in the LAN pool, as Consul's clients set them (`role=node`:
/// `synod members` shows it as `client`; no RPC port, it serves none).
pub(crate) fn client_lan_tags(identity: &AgentIdentity) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("role".to_owned(), "node".to_owned()),
        ("dc".to_owned(), identity.datacenter.clone()),
        ("segment".to_owned(), String::new()),
        ("id".to_owned(), identity.uuid.clone()),
        ("build".to_owned(), crate::cli::version::VERSION.to_owned()),
        ("vsn".to_owned(), "2".to_owned()),
        ("vsn_min".to_owned(), "2".to_owned()),
        ("vsn_max".to_owned(), "3".to_owned()),
    ])
}

/// `/v1/agent/self` on a client; `known_servers` is how many servers gossip lists,
/// `connected` the RPC address of the server the client talks to now (empty: none).
pub(crate) fn client_self(
    identity: &AgentIdentity,
    known_servers: usize,
    connected: Option<String>,
) -> AgentSelf {
    let consul = BTreeMap::from([
        ("server".to_owned(), "false".to_owned()),
        ("known_servers".to_owned(), known_servers.to_string()),
        ("known_datacenters".to_owned(), "1".to_owned()),
        ("connected_server".to_owned(), connected.unwrap_or_default()),
    ]);
    AgentSelf {
        config: self_config(identity, false),
        member: self_member(identity, client_lan_tags(identity)),
        meta: BTreeMap::new(),
        stats: BTreeMap::from([
            ("consul".to_owned(), consul),
            ("runtime".to_owned(), runtime_stats()),
        ]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> AgentIdentity {
        AgentIdentity {
            node_name: "c1".into(),
            uuid: "0f9a3c4e-1b2d-4e5f-8a9b-0c1d2e3f4a5b".into(),
            datacenter: "dc1".into(),
            advertise: "127.0.0.1".parse().expect("ip"),
            serf_lan_port: Some(8301),
            server_port: 8300,
            bootstrap: false,
            bootstrap_expect: 0,
        }
    }

    #[test]
    fn a_client_gossips_role_node_without_an_rpc_port() {
        let tags = client_lan_tags(&identity());
        assert_eq!(tags.get("role").map(String::as_str), Some("node"));
        assert_eq!(tags.get("dc").map(String::as_str), Some("dc1"));
        assert!(!tags.contains_key("port"));
    }

    #[test]
    fn a_clients_self_report_says_it_is_not_a_server() {
        let report = client_self(&identity(), 3, Some("127.0.0.1:8300".into()));
        assert!(!report.config.server);
        assert_eq!(report.config.node_name, "c1");
        assert_eq!(report.member.tags, client_lan_tags(&identity()));
        assert_eq!(report.stats["consul"]["server"], "false");
        assert_eq!(report.stats["consul"]["known_servers"], "3");
        assert_eq!(report.stats["consul"]["connected_server"], "127.0.0.1:8300");
        assert!(!report.stats.contains_key("raft"));
    }
}
