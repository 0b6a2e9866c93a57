//! Agent settings as given by one source (a config file or the command line), before defaults:
//! every field is optional so sources can be merged in order, later ones winning.

use std::net::IpAddr;

use super::definitions::FileDefinitions;
use crate::shell::log::Level;

/// A listener port: `None` when configured as `-1` (disabled).
pub type PortSetting = Option<u16>;

/// `ports.*` / `-*-port`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortSettings {
    /// HTTP API.
    pub http: Option<PortSetting>,
    /// DNS interface.
    pub dns: Option<PortSetting>,
    /// Gossip within the datacenter.
    pub serf_lan: Option<PortSetting>,
    /// Gossip between datacenters.
    pub serf_wan: Option<PortSetting>,
    /// Server RPC (Raft).
    pub server: Option<PortSetting>,
}

/// One source's settings; `None`/empty means "not set here".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    /// `-dev` (command line only).
    pub dev: Option<bool>,
    /// `server`.
    pub server: Option<bool>,
    /// `bootstrap`.
    pub bootstrap: Option<bool>,
    /// `bootstrap_expect`.
    pub bootstrap_expect: Option<u32>,
    /// `data_dir`.
    pub data_dir: Option<String>,
    /// `node_name`.
    pub node_name: Option<String>,
    /// `node_id`.
    pub node_id: Option<String>,
    /// `datacenter`.
    pub datacenter: Option<String>,
    /// `client_addr`.
    pub client_addr: Option<IpAddr>,
    /// `bind_addr`.
    pub bind_addr: Option<IpAddr>,
    /// `advertise_addr`.
    pub advertise_addr: Option<IpAddr>,
    /// `ports`.
    pub ports: PortSettings,
    /// `performance.raft_multiplier`.
    pub raft_multiplier: Option<u32>,
    /// `retry_join` (lists concatenate across sources, as Consul merges them).
    pub retry_join: Vec<String>,
    /// `start_join` / `-join`.
    pub start_join: Vec<String>,
    /// `retry_join_wan` / `-retry-join-wan` (servers only).
    pub retry_join_wan: Vec<String>,
    /// `start_join_wan` / `-join-wan` (servers only).
    pub start_join_wan: Vec<String>,
    /// `retry_interval` / `-retry-interval`.
    pub retry_interval: Option<std::time::Duration>,
    /// `ae_interval`: the base period of anti-entropy full syncs (Consul's internal default
    /// of one minute; shorter only for tests and experiments).
    pub ae_interval: Option<std::time::Duration>,
    /// `retry_max` / `-retry-max` (0: forever).
    pub retry_max: Option<u32>,
    /// `encrypt` / `-encrypt`: the base64 gossip key.
    pub encrypt: Option<String>,
    /// `leave_on_terminate`.
    pub leave_on_terminate: Option<bool>,
    /// `skip_leave_on_interrupt`.
    pub skip_leave_on_interrupt: Option<bool>,
    /// `log_level`.
    pub log_level: Option<Level>,
    /// `enable_script_checks`.
    pub enable_script_checks: Option<bool>,
    /// `ui_config.enabled` (or the older `ui`), `-ui`.
    pub ui: Option<bool>,
    /// `enable_local_script_checks`: script checks from config files only.
    pub enable_local_script_checks: Option<bool>,
    /// `limits.kv_max_value_size`.
    pub kv_max_value_size: Option<u64>,
    /// `limits.http_max_conns_per_client`.
    pub http_max_conns_per_client: Option<u32>,
    /// `acl` (accepted; enforced by a later issue).
    pub acl: Option<serde_json::Value>,
    /// `service` / `services` / `check` / `checks`, decoded, per file in load order.
    pub definitions: Vec<FileDefinitions>,
    /// `domain`, `alt_domain`, `recursors`, `dns_config`.
    pub dns: crate::dns::DnsSettings,
}

impl Settings {
    /// `self` overlaid with `later`: later scalars win, lists concatenate.
    pub fn merge(self, later: Settings) -> Settings {
        fn cat<T>(mut first: Vec<T>, later: Vec<T>) -> Vec<T> {
            first.extend(later);
            first
        }
        Settings {
            dev: later.dev.or(self.dev),
            server: later.server.or(self.server),
            bootstrap: later.bootstrap.or(self.bootstrap),
            bootstrap_expect: later.bootstrap_expect.or(self.bootstrap_expect),
            data_dir: later.data_dir.or(self.data_dir),
            node_name: later.node_name.or(self.node_name),
            node_id: later.node_id.or(self.node_id),
            datacenter: later.datacenter.or(self.datacenter),
            client_addr: later.client_addr.or(self.client_addr),
            bind_addr: later.bind_addr.or(self.bind_addr),
            advertise_addr: later.advertise_addr.or(self.advertise_addr),
            ports: PortSettings {
                http: later.ports.http.or(self.ports.http),
                dns: later.ports.dns.or(self.ports.dns),
                serf_lan: later.ports.serf_lan.or(self.ports.serf_lan),
                serf_wan: later.ports.serf_wan.or(self.ports.serf_wan),
                server: later.ports.server.or(self.ports.server),
            },
            raft_multiplier: later.raft_multiplier.or(self.raft_multiplier),
            retry_join: cat(self.retry_join, later.retry_join),
            start_join: cat(self.start_join, later.start_join),
            retry_join_wan: cat(self.retry_join_wan, later.retry_join_wan),
            start_join_wan: cat(self.start_join_wan, later.start_join_wan),
            retry_interval: later.retry_interval.or(self.retry_interval),
            ae_interval: later.ae_interval.or(self.ae_interval),
            retry_max: later.retry_max.or(self.retry_max),
            encrypt: later.encrypt.or(self.encrypt),
            leave_on_terminate: later.leave_on_terminate.or(self.leave_on_terminate),
            skip_leave_on_interrupt: later
                .skip_leave_on_interrupt
                .or(self.skip_leave_on_interrupt),
            log_level: later.log_level.or(self.log_level),
            enable_script_checks: later.enable_script_checks.or(self.enable_script_checks),
            ui: later.ui.or(self.ui),
            enable_local_script_checks: later
                .enable_local_script_checks
                .or(self.enable_local_script_checks),
            kv_max_value_size: later.kv_max_value_size.or(self.kv_max_value_size),
            http_max_conns_per_client: later
                .http_max_conns_per_client
                .or(self.http_max_conns_per_client),
            acl: match (self.acl, later.acl) {
                (Some(first), Some(later)) => Some(merge_objects(first, later)),
                (first, later) => later.or(first),
            },
            definitions: cat(self.definitions, later.definitions),
            dns: self.dns.merge(later.dns),
        }
    }
}

/// Consul's map merge: keys of `later` override, nested objects merge key by key.
fn merge_objects(first: serde_json::Value, later: serde_json::Value) -> serde_json::Value {
    match (first, later) {
        (serde_json::Value::Object(mut first), serde_json::Value::Object(later)) => {
            for (key, value) in later {
                let merged = match first.remove(&key) {
                    Some(old) => merge_objects(old, value),
                    None => value,
                };
                first.insert(key, merged);
            }
            serde_json::Value::Object(first)
        }
        (_, later) => later,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_scalars_win_unset_ones_keep_earlier_values_and_lists_concatenate() {
        let first = Settings {
            datacenter: Some("east".into()),
            node_name: Some("a".into()),
            ports: PortSettings {
                http: Some(Some(8500)),
                dns: Some(None),
                ..PortSettings::default()
            },
            retry_join: vec!["10.0.0.1".into()],
            ..Settings::default()
        };
        let later = Settings {
            datacenter: Some("west".into()),
            ports: PortSettings {
                http: Some(None),
                ..PortSettings::default()
            },
            retry_join: vec!["10.0.0.2".into()],
            ..Settings::default()
        };
        let merged = first.merge(later);
        assert_eq!(merged.datacenter.as_deref(), Some("west"));
        assert_eq!(merged.node_name.as_deref(), Some("a"));
        assert_eq!(merged.ports.http, Some(None));
        assert_eq!(merged.ports.dns, Some(None));
        assert_eq!(merged.retry_join, vec!["10.0.0.1", "10.0.0.2"]);
    }

    #[test]
    fn acl_blocks_merge_key_by_key() {
        let first = Settings {
            acl: Some(serde_json::json!({"enabled": true, "tokens": {"agent": "a"}})),
            ..Settings::default()
        };
        let later = Settings {
            acl: Some(serde_json::json!({"tokens": {"default": "d"}})),
            ..Settings::default()
        };
        assert_eq!(
            first.merge(later).acl,
            Some(serde_json::json!({"enabled": true, "tokens": {"agent": "a", "default": "d"}}))
        );
    }
}
