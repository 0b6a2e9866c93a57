//! The startup banner, in the shape of Consul's `==> Starting Consul agent...` block.

use std::net::SocketAddr;

use super::AgentConfig;

/// What the banner reports beyond the configuration.
pub(crate) struct BannerFacts<'a> {
    /// The node's UUID.
    pub(crate) node_id: &'a str,
    /// Where peers reach this server (a client: its LAN gossip address).
    pub(crate) cluster_addr: SocketAddr,
    /// Whether gossip runs encrypted.
    pub(crate) gossip_encrypted: bool,
}

/// The banner text, ending with the line after which log lines stream.
pub(crate) fn banner(config: &AgentConfig, facts: &BannerFacts<'_>) -> String {
    let data_dir = match (&config.data_dir, config.dev) {
        (_, true) => "in memory (-dev)".to_string(),
        (Some(dir), false) => format!("'{}'", dir.display()),
        (None, false) => "none".to_string(),
    };
    let rows = [
        ("Version", format!("'{}'", crate::cli::version::VERSION)),
        ("Node ID", format!("'{}'", facts.node_id)),
        ("Node name", format!("'{}'", config.node_name)),
        ("Datacenter", format!("'{}'", config.datacenter)),
        (
            "Server",
            match config.bootstrap_expect {
                n if n > 1 => format!("{} (Bootstrap: false, expect {n})", config.server),
                _ => format!("{} (Bootstrap: {})", config.server, config.bootstrap),
            },
        ),
        (
            "Client Addr",
            format!(
                "[{}] (HTTP: {}, DNS: {})",
                config.client,
                port_text(config.http_port),
                port_text(config.dns_port)
            ),
        ),
        (
            "Cluster Addr",
            if config.server {
                format!(
                    "{} (Server RPC: {})",
                    facts.cluster_addr.ip(),
                    facts.cluster_addr.port()
                )
            } else {
                // A client serves no RPC: Consul shows its gossip port instead.
                format!(
                    "{} (LAN: {})",
                    facts.cluster_addr.ip(),
                    facts.cluster_addr.port()
                )
            },
        ),
        (
            "Gossip Ports",
            if config.server {
                format!(
                    "LAN: {}, WAN: {}",
                    port_text(config.serf_lan_port),
                    port_text(config.serf_wan_port)
                )
            } else {
                format!(
                    "LAN: {}, WAN: -1 (only servers join the WAN pool)",
                    port_text(config.serf_lan_port)
                )
            },
        ),
        ("Data Dir", data_dir),
        ("Gossip Encryption", facts.gossip_encrypted.to_string()),
    ];
    let mut out = String::from("==> Starting synod agent...\n");
    for (label, value) in rows {
        out.push_str(&format!("{label:>22}: {value}\n"));
    }
    out.push_str("\n==> Log data will now stream in as it occurs:\n\n");
    out
}

/// A port, `-1` when disabled (as configured).
fn port_text(port: Option<u16>) -> String {
    port.map_or_else(|| "-1".to_string(), |p| p.to_string())
}
