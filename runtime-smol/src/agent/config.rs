//! The agent's validated settings, built from merged [`Settings`] plus Consul's defaults.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use super::definitions::{self, Definitions};
use super::identity::is_uuid;
use super::settings::Settings;
use crate::shell::log::Level;

/// Consul's `limits.kv_max_value_size` default (Raft's suggested largest entry).
pub(crate) const DEFAULT_KV_MAX_VALUE_SIZE: u64 = 512 * 1024;
/// Consul's `limits.http_max_conns_per_client` default.
pub(crate) const DEFAULT_HTTP_MAX_CONNS_PER_CLIENT: u32 = 200;

/// Consul's `retry_interval` default.
pub(crate) const DEFAULT_RETRY_INTERVAL: std::time::Duration = std::time::Duration::from_secs(30);

/// Everything `synod agent` was asked to do, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentConfig {
    /// In-memory single server with fast Raft timings, bootstrapping itself.
    pub dev: bool,
    /// Member of the Raft voter set.
    pub server: bool,
    /// Elect itself leader of a brand-new single-server cluster (also set by
    /// `bootstrap_expect = 1`).
    pub bootstrap: bool,
    /// Servers expected before bootstrapping (0: not set).
    pub bootstrap_expect: u32,
    /// Durable state lives here (`None` only in dev mode).
    pub data_dir: Option<PathBuf>,
    /// Node name (unique in the datacenter).
    pub node_name: String,
    /// A node id (UUID) the operator imposed; otherwise generated and persisted.
    pub node_id: Option<String>,
    /// Address the server RPC listener binds.
    pub bind: IpAddr,
    /// Address other servers use to reach this one (default: derived from `bind`).
    pub advertise: Option<IpAddr>,
    /// Address the HTTP and DNS interfaces bind.
    pub client: IpAddr,
    /// Datacenter name.
    pub datacenter: String,
    /// Server RPC (Raft) port.
    pub server_port: u16,
    /// HTTP API port; `None` when disabled (`-1`).
    pub http_port: Option<u16>,
    /// DNS port; `None` when disabled.
    pub dns_port: Option<u16>,
    /// Gossip LAN port; `None` when disabled.
    pub serf_lan_port: Option<u16>,
    /// Gossip WAN port; `None` when disabled.
    pub serf_wan_port: Option<u16>,
    /// Scales Raft timing (Consul's `performance.raft_multiplier`, 1..=10).
    pub raft_multiplier: u32,
    /// Addresses joined once at start; failing to reach any stops the agent (`start_join`,
    /// `-join`).
    pub start_join: Vec<String>,
    /// Addresses joined in the background until one answers (`retry_join`, `-retry-join`).
    pub retry_join: Vec<String>,
    /// WAN addresses joined once at start; failing to reach any stops the agent
    /// (`start_join_wan`, `-join-wan`).
    pub start_join_wan: Vec<String>,
    /// WAN addresses joined in the background until one answers (`retry_join_wan`,
    /// `-retry-join-wan`).
    pub retry_join_wan: Vec<String>,
    /// Pause between `retry_join` attempts.
    pub retry_interval: std::time::Duration,
    /// Base period of anti-entropy full syncs (scaled up for large clusters).
    pub ae_interval: std::time::Duration,
    /// `retry_join` attempts before giving up (0: forever).
    pub retry_max: u32,
    /// Gossip encryption key (base64, 32 bytes) used when no keyring file exists yet.
    pub encrypt: Option<String>,
    /// Leave the gossip pool gracefully on SIGTERM (Consul: false for servers).
    pub leave_on_terminate: bool,
    /// Skip the graceful leave on SIGINT (Consul: true for servers).
    pub skip_leave_on_interrupt: bool,
    /// Lowest level logged.
    pub log_level: Level,
    /// Whether script checks may run, from config files and the HTTP API.
    pub enable_script_checks: bool,
    /// Whether the HTTP server serves the web UI at `/ui/`.
    pub ui: bool,
    /// Whether script checks defined in config files may run.
    pub enable_local_script_checks: bool,
    /// Largest KV value (HTTP request body) accepted.
    pub kv_max_value_size: u64,
    /// Concurrent HTTP connections allowed per client address.
    pub http_max_conns_per_client: u32,
    /// `acl` block as given (enforced by a later issue).
    pub acl: Option<serde_json::Value>,
    /// Service and check definitions from config files, validated.
    pub definitions: Definitions,
    /// DNS domains, TTLs, recursors and staleness.
    pub dns: crate::dns::DnsOptions,
}

impl AgentConfig {
    /// Applies defaults to merged settings and validates the result (errors worded as Consul's).
    pub fn from_settings(s: Settings) -> Result<AgentConfig, String> {
        let dev = s.dev.unwrap_or(false);
        let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let default_bind = if dev {
            loopback
        } else {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        };
        let server = dev || s.server.unwrap_or(false);
        let bootstrap_expect = s.bootstrap_expect.unwrap_or(0);
        let explicit_bootstrap = s.bootstrap.unwrap_or(false);
        if explicit_bootstrap && !server {
            return Err("'bootstrap = true' requires 'server = true'".into());
        }
        if bootstrap_expect > 0 && !server && !dev {
            return Err("'bootstrap_expect > 0' requires 'server = true'".into());
        }
        if bootstrap_expect > 0 && explicit_bootstrap {
            return Err(
                "'bootstrap_expect > 0' and 'bootstrap = true' are mutually exclusive".into(),
            );
        }
        let server_port = match s.ports.server {
            None => 8300,
            Some(Some(port)) => port,
            Some(None) => {
                return Err("server_port cannot be -1: a server needs its RPC port".into());
            }
        };
        let enable_script_checks = s.enable_script_checks.unwrap_or(false);
        let enable_local_script_checks = s.enable_local_script_checks.unwrap_or(false);
        let definitions = definitions::merge(
            s.definitions,
            enable_script_checks || enable_local_script_checks,
        )?;
        let config = AgentConfig {
            dev,
            server,
            bootstrap: dev || explicit_bootstrap || bootstrap_expect == 1,
            bootstrap_expect,
            data_dir: s.data_dir.filter(|d| !d.is_empty()).map(PathBuf::from),
            node_name: s.node_name.unwrap_or_else(default_node_name),
            node_id: s.node_id,
            bind: s.bind_addr.unwrap_or(default_bind),
            advertise: s.advertise_addr,
            client: s.client_addr.unwrap_or(loopback),
            datacenter: s.datacenter.unwrap_or_else(|| "dc1".to_string()),
            server_port,
            http_port: s.ports.http.unwrap_or(Some(8500)),
            dns_port: s.ports.dns.unwrap_or(Some(8600)),
            serf_lan_port: s.ports.serf_lan.unwrap_or(Some(8301)),
            serf_wan_port: s.ports.serf_wan.unwrap_or(Some(8302)),
            raft_multiplier: s.raft_multiplier.unwrap_or(1),
            start_join: s.start_join,
            retry_join: s.retry_join,
            start_join_wan: s.start_join_wan,
            retry_join_wan: s.retry_join_wan,
            retry_interval: s.retry_interval.unwrap_or(DEFAULT_RETRY_INTERVAL),
            ae_interval: s
                .ae_interval
                .unwrap_or(synod_core::agent::FULL_SYNC_INTERVAL),
            retry_max: s.retry_max.unwrap_or(0),
            encrypt: s.encrypt.filter(|k| !k.is_empty()),
            leave_on_terminate: s.leave_on_terminate.unwrap_or(!server),
            skip_leave_on_interrupt: s.skip_leave_on_interrupt.unwrap_or(server),
            log_level: s
                .log_level
                .unwrap_or(if dev { Level::Debug } else { Level::Info }),
            ui: s.ui.unwrap_or(dev),
            enable_script_checks,
            enable_local_script_checks,
            kv_max_value_size: s.kv_max_value_size.unwrap_or(DEFAULT_KV_MAX_VALUE_SIZE),
            http_max_conns_per_client: s
                .http_max_conns_per_client
                .unwrap_or(DEFAULT_HTTP_MAX_CONNS_PER_CLIENT),
            acl: s.acl,
            definitions,
            dns: crate::dns::DnsOptions::from_settings(s.dns)?,
        };
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), String> {
        if !self.dev && self.data_dir.is_none() {
            return Err("data_dir cannot be empty".into());
        }
        if self.node_name.is_empty() {
            return Err("node_name cannot be empty".into());
        }
        if self.datacenter.is_empty()
            || !self
                .datacenter
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!(
                "datacenter can only contain alphanumeric, dash and underscore characters: {:?}",
                self.datacenter
            ));
        }
        if let Some(id) = &self.node_id
            && !is_uuid(id)
        {
            return Err(format!("node_id {id:?} is not a valid UUID"));
        }
        if let Some(key) = &self.encrypt
            && let Err(e) = crate::serf::keyring_from_keys(std::slice::from_ref(key))
        {
            return Err(format!("Invalid encryption key: {e}"));
        }
        if !(1..=10).contains(&self.raft_multiplier) {
            return Err(format!(
                "performance.raft_multiplier cannot be {}. Must be between 1 and 10",
                self.raft_multiplier
            ));
        }
        Ok(())
    }
}

/// The host name, as Consul defaults `node_name` to it.
fn default_node_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "synod".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::settings::PortSettings;

    fn server(extra: Settings) -> Settings {
        Settings {
            server: Some(true),
            data_dir: Some("/d".into()),
            ..Settings::default()
        }
        .merge(extra)
    }

    #[test]
    fn defaults_are_consuls() {
        let c = AgentConfig::from_settings(server(Settings::default())).expect("valid");
        assert_eq!(c.server_port, 8300);
        assert_eq!(
            (c.http_port, c.dns_port, c.serf_lan_port, c.serf_wan_port),
            (Some(8500), Some(8600), Some(8301), Some(8302))
        );
        assert_eq!(c.client, IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_eq!(c.bind, IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        assert_eq!(c.datacenter, "dc1");
        assert_eq!(c.raft_multiplier, 1);
        assert_eq!(c.kv_max_value_size, 524_288);
        assert_eq!(c.log_level, Level::Info);
        assert!(!c.bootstrap);
    }

    #[test]
    fn bootstrap_expect_one_bootstraps_and_more_only_waits() {
        let one = server(Settings {
            bootstrap_expect: Some(1),
            ..Settings::default()
        });
        assert!(AgentConfig::from_settings(one).expect("valid").bootstrap);
        let three = server(Settings {
            bootstrap_expect: Some(3),
            ..Settings::default()
        });
        let c = AgentConfig::from_settings(three).expect("valid");
        assert!(!c.bootstrap);
        assert_eq!(c.bootstrap_expect, 3);
    }

    #[test]
    fn conflicting_or_impossible_settings_are_refused() {
        let cases = [
            (
                Settings {
                    bootstrap_expect: Some(1),
                    data_dir: Some("/d".into()),
                    ..Settings::default()
                },
                "'bootstrap_expect > 0' requires 'server = true'",
            ),
            (
                Settings {
                    bootstrap: Some(true),
                    data_dir: Some("/d".into()),
                    ..Settings::default()
                },
                "'bootstrap = true' requires 'server = true'",
            ),
            (
                server(Settings {
                    bootstrap_expect: Some(2),
                    bootstrap: Some(true),
                    ..Settings::default()
                }),
                "'bootstrap_expect > 0' and 'bootstrap = true' are mutually exclusive",
            ),
            (
                server(Settings {
                    ports: PortSettings {
                        server: Some(None),
                        ..PortSettings::default()
                    },
                    ..Settings::default()
                }),
                "server_port cannot be -1: a server needs its RPC port",
            ),
            (
                Settings {
                    server: Some(true),
                    ..Settings::default()
                },
                "data_dir cannot be empty",
            ),
            (
                server(Settings {
                    datacenter: Some("dc 1".into()),
                    ..Settings::default()
                }),
                "datacenter can only contain alphanumeric, dash and underscore characters: \"dc 1\"",
            ),
            (
                server(Settings {
                    node_id: Some("abc".into()),
                    ..Settings::default()
                }),
                "node_id \"abc\" is not a valid UUID",
            ),
        ];
        for (settings, message) in cases {
            assert_eq!(
                AgentConfig::from_settings(settings),
                Err(message.to_string())
            );
        }
    }

    #[test]
    fn an_agent_without_server_is_a_client_that_leaves_on_either_signal() {
        let c = AgentConfig::from_settings(Settings {
            data_dir: Some("/d".into()),
            ..Settings::default()
        })
        .expect("a client is valid");
        assert!(!c.server);
        assert!(!c.bootstrap);
        assert!(c.leave_on_terminate);
        assert!(!c.skip_leave_on_interrupt);
    }

    #[test]
    fn servers_follow_consuls_leave_defaults_and_retry_every_30s() {
        let c = AgentConfig::from_settings(server(Settings::default())).expect("valid");
        assert!(!c.leave_on_terminate);
        assert!(c.skip_leave_on_interrupt);
        assert_eq!(c.retry_interval, std::time::Duration::from_secs(30));
        assert_eq!(c.retry_max, 0);
    }

    #[test]
    fn an_encrypt_key_that_is_not_32_base64_bytes_is_refused() {
        let bad = server(Settings {
            encrypt: Some("c2hvcnQ=".into()),
            ..Settings::default()
        });
        let error = AgentConfig::from_settings(bad).expect_err("too short");
        assert!(error.starts_with("Invalid encryption key"), "{error}");
        let good = server(Settings {
            encrypt: Some(crate::serf::keygen().expect("urandom")),
            ..Settings::default()
        });
        assert!(AgentConfig::from_settings(good).is_ok());
    }

    #[test]
    fn disabled_ports_are_none() {
        let c = AgentConfig::from_settings(server(Settings {
            ports: PortSettings {
                http: Some(None),
                dns: Some(None),
                ..PortSettings::default()
            },
            ..Settings::default()
        }))
        .expect("valid");
        assert_eq!((c.http_port, c.dns_port), (None, None));
    }
}
