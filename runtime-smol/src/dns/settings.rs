//! DNS settings as one source gives them (`domain`, `alt_domain`, `recursors`, `dns_config` in
//! a config file; `-domain`, `-alt-domain`, `-recursor` on the command line), before defaults.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::agent::config_file::Field;
use crate::agent::go_duration;

/// `dns_config.soa`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SoaSettings {
    /// `refresh`, seconds.
    pub refresh: Option<u32>,
    /// `retry`, seconds.
    pub retry: Option<u32>,
    /// `expire`, seconds.
    pub expire: Option<u32>,
    /// `min_ttl`, seconds.
    pub min_ttl: Option<u32>,
}

/// One source's DNS settings; `None`/empty means "not set here".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DnsSettings {
    /// `domain` / `-domain`.
    pub domain: Option<String>,
    /// `alt_domain` / `-alt-domain`.
    pub alt_domain: Option<String>,
    /// `recursors` / `-recursor` (lists concatenate across sources).
    pub recursors: Vec<String>,
    /// `dns_config.allow_stale`.
    pub allow_stale: Option<bool>,
    /// `dns_config.max_stale`.
    pub max_stale: Option<Duration>,
    /// `dns_config.node_ttl`.
    pub node_ttl: Option<Duration>,
    /// `dns_config.service_ttl`: service name or `prefix*` → TTL (maps merge key by key).
    pub service_ttl: BTreeMap<String, Duration>,
    /// `dns_config.only_passing`.
    pub only_passing: Option<bool>,
    /// `dns_config.enable_truncate`.
    pub enable_truncate: Option<bool>,
    /// `dns_config.udp_answer_limit`.
    pub udp_answer_limit: Option<u16>,
    /// `dns_config.a_record_limit`.
    pub a_record_limit: Option<u16>,
    /// `dns_config.enable_additional_node_meta_txt`.
    pub enable_additional_node_meta_txt: Option<bool>,
    /// `dns_config.recursor_timeout`.
    pub recursor_timeout: Option<Duration>,
    /// `dns_config.soa`.
    pub soa: SoaSettings,
}

impl DnsSettings {
    /// `self` overlaid with `later`: later scalars win, lists concatenate, maps merge.
    pub fn merge(self, later: DnsSettings) -> DnsSettings {
        let mut recursors = self.recursors;
        recursors.extend(later.recursors);
        let mut service_ttl = self.service_ttl;
        service_ttl.extend(later.service_ttl);
        DnsSettings {
            domain: later.domain.or(self.domain),
            alt_domain: later.alt_domain.or(self.alt_domain),
            recursors,
            allow_stale: later.allow_stale.or(self.allow_stale),
            max_stale: later.max_stale.or(self.max_stale),
            node_ttl: later.node_ttl.or(self.node_ttl),
            service_ttl,
            only_passing: later.only_passing.or(self.only_passing),
            enable_truncate: later.enable_truncate.or(self.enable_truncate),
            udp_answer_limit: later.udp_answer_limit.or(self.udp_answer_limit),
            a_record_limit: later.a_record_limit.or(self.a_record_limit),
            enable_additional_node_meta_txt: later
                .enable_additional_node_meta_txt
                .or(self.enable_additional_node_meta_txt),
            recursor_timeout: later.recursor_timeout.or(self.recursor_timeout),
            soa: SoaSettings {
                refresh: later.soa.refresh.or(self.soa.refresh),
                retry: later.soa.retry.or(self.soa.retry),
                expire: later.soa.expire.or(self.soa.expire),
                min_ttl: later.soa.min_ttl.or(self.soa.min_ttl),
            },
        }
    }

    /// Reads a top-level config-file key if it is a DNS one; `Ok(false)` when it is not.
    pub(crate) fn parse_key(&mut self, key: &str, value: &Value) -> Result<bool, String> {
        let v = Field { key, value };
        match key {
            "domain" => self.domain = Some(v.string()?),
            "alt_domain" => self.alt_domain = Some(v.string()?),
            "recursors" => self.recursors = v.strings()?,
            "dns_config" => self.parse_dns_config(v.object()?)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn parse_dns_config(&mut self, config: &Map<String, Value>) -> Result<(), String> {
        for (name, value) in config {
            let key = format!("dns_config.{name}");
            let v = Field { key: &key, value };
            match name.as_str() {
                "allow_stale" => self.allow_stale = Some(v.bool()?),
                "max_stale" => self.max_stale = Some(duration(&v)?),
                "node_ttl" => self.node_ttl = Some(duration(&v)?),
                "service_ttl" => {
                    for (service, ttl) in v.object()? {
                        let key = format!("{key}.{service}");
                        let ttl = duration(&Field {
                            key: &key,
                            value: ttl,
                        })?;
                        self.service_ttl.insert(service.clone(), ttl);
                    }
                }
                "only_passing" => self.only_passing = Some(v.bool()?),
                "enable_truncate" => self.enable_truncate = Some(v.bool()?),
                "udp_answer_limit" => self.udp_answer_limit = Some(small(&v, 1)?),
                "a_record_limit" => self.a_record_limit = Some(small(&v, 0)?),
                "enable_additional_node_meta_txt" => {
                    self.enable_additional_node_meta_txt = Some(v.bool()?);
                }
                "recursor_timeout" => self.recursor_timeout = Some(duration(&v)?),
                "soa" => self.parse_soa(&key, v.object()?)?,
                _ => return Err(format!("unknown key {key:?}")),
            }
        }
        Ok(())
    }

    fn parse_soa(&mut self, prefix: &str, soa: &Map<String, Value>) -> Result<(), String> {
        for (name, value) in soa {
            let key = format!("{prefix}.{name}");
            let v = Field { key: &key, value };
            let seconds = Some(v.int_in(0, u32::MAX.into())? as u32);
            match name.as_str() {
                "refresh" => self.soa.refresh = seconds,
                "retry" => self.soa.retry = seconds,
                "expire" => self.soa.expire = seconds,
                "min_ttl" => self.soa.min_ttl = seconds,
                _ => return Err(format!("unknown key {key:?}")),
            }
        }
        Ok(())
    }
}

/// A Go duration string (`"10s"`); the error names the key.
fn duration(v: &Field<'_>) -> Result<Duration, String> {
    go_duration::parse(&v.string()?).map_err(|_| v.invalid("a duration such as \"10s\""))
}

fn small(v: &Field<'_>, min: i64) -> Result<u16, String> {
    Ok(v.int_in(min, u16::MAX.into())? as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<DnsSettings, String> {
        let root: Map<String, Value> = serde_json::from_str(text).expect("test JSON");
        let mut s = DnsSettings::default();
        for (key, value) in &root {
            assert!(s.parse_key(key, value)?, "{key} is a DNS key");
        }
        Ok(s)
    }

    #[test]
    fn every_dns_key_is_read() {
        let s = parse(
            r#"{"domain": "example.", "alt_domain": "alt.", "recursors": ["8.8.8.8", "1.1.1.1:5353"],
                "dns_config": {"allow_stale": false, "max_stale": "5s", "node_ttl": "30s",
                  "service_ttl": {"web": "10s", "*": "1m"}, "only_passing": true,
                  "enable_truncate": false, "udp_answer_limit": 3, "a_record_limit": 5,
                  "enable_additional_node_meta_txt": false, "recursor_timeout": "500ms",
                  "soa": {"refresh": 1, "retry": 2, "expire": 3, "min_ttl": 4}}}"#,
        )
        .expect("valid");
        assert_eq!(
            s,
            DnsSettings {
                domain: Some("example.".into()),
                alt_domain: Some("alt.".into()),
                recursors: vec!["8.8.8.8".into(), "1.1.1.1:5353".into()],
                allow_stale: Some(false),
                max_stale: Some(Duration::from_secs(5)),
                node_ttl: Some(Duration::from_secs(30)),
                service_ttl: [
                    ("web".to_string(), Duration::from_secs(10)),
                    ("*".to_string(), Duration::from_secs(60)),
                ]
                .into(),
                only_passing: Some(true),
                enable_truncate: Some(false),
                udp_answer_limit: Some(3),
                a_record_limit: Some(5),
                enable_additional_node_meta_txt: Some(false),
                recursor_timeout: Some(Duration::from_millis(500)),
                soa: SoaSettings {
                    refresh: Some(1),
                    retry: Some(2),
                    expire: Some(3),
                    min_ttl: Some(4),
                },
            }
        );
    }

    #[test]
    fn bad_dns_values_and_unknown_keys_name_the_dotted_key() {
        let cases = [
            (
                r#"{"dns_config": {"node_ttl": "soon"}}"#,
                r#"invalid value for "dns_config.node_ttl": expected a duration such as "10s", got "soon""#,
            ),
            (
                r#"{"dns_config": {"service_ttl": {"web": 5}}}"#,
                r#"invalid value for "dns_config.service_ttl.web": expected a string, got 5"#,
            ),
            (
                r#"{"dns_config": {"udp_answer_limit": 0}}"#,
                r#"invalid value for "dns_config.udp_answer_limit": expected an integer from 1 to 65535, got 0"#,
            ),
            (
                r#"{"dns_config": {"allow_stal": true}}"#,
                r#"unknown key "dns_config.allow_stal""#,
            ),
            (
                r#"{"dns_config": {"soa": {"serial": 1}}}"#,
                r#"unknown key "dns_config.soa.serial""#,
            ),
            (
                r#"{"recursors": "8.8.8.8"}"#,
                r#"invalid value for "recursors": expected a list of strings, got "8.8.8.8""#,
            ),
        ];
        for (text, reason) in cases {
            assert_eq!(parse(text), Err(reason.to_string()), "{text}");
        }
    }

    #[test]
    fn later_sources_win_recursors_concatenate_and_service_ttls_merge() {
        let first = DnsSettings {
            domain: Some("a.".into()),
            recursors: vec!["8.8.8.8".into()],
            service_ttl: [("web".to_string(), Duration::from_secs(1))].into(),
            only_passing: Some(true),
            ..DnsSettings::default()
        };
        let later = DnsSettings {
            domain: Some("b.".into()),
            recursors: vec!["1.1.1.1".into()],
            service_ttl: [("db".to_string(), Duration::from_secs(2))].into(),
            ..DnsSettings::default()
        };
        let merged = first.merge(later);
        assert_eq!(merged.domain.as_deref(), Some("b."));
        assert_eq!(merged.recursors, ["8.8.8.8", "1.1.1.1"]);
        assert_eq!(merged.service_ttl.len(), 2);
        assert_eq!(merged.only_passing, Some(true));
    }
}
