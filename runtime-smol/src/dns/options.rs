//! Validated DNS options: merged [`DnsSettings`] plus defaults.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use synod_core::api::dns::{DnsConfig, SoaConfig};

use super::settings::DnsSettings;

/// Consul's `dns_config.recursor_timeout` default.
pub const DEFAULT_RECURSOR_TIMEOUT: Duration = Duration::from_secs(2);
/// Consul's `dns_config.max_stale` default (87600h: effectively no bound).
pub const DEFAULT_MAX_STALE: Duration = Duration::from_secs(87_600 * 3600);

/// How the agent serves DNS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsOptions {
    /// What the answerer needs (domains, TTLs, truncation, SOA).
    pub answer: DnsConfig,
    /// Upstream resolvers for names outside our domains, tried in order.
    pub recursors: Vec<SocketAddr>,
    /// How long one recursor gets to answer.
    pub recursor_timeout: Duration,
    /// Answer from this agent's applied state even when it may lag the leader.
    pub allow_stale: bool,
    /// With `allow_stale`, how far behind the leader this agent may be before a query waits
    /// until it has caught up.
    pub max_stale: Duration,
}

impl DnsOptions {
    /// Applies defaults and validates (errors name the key).
    pub fn from_settings(s: DnsSettings) -> Result<DnsOptions, String> {
        let domain = s.domain.unwrap_or_else(|| "consul.".to_string());
        check_domain("domain", &domain)?;
        if let Some(alt) = &s.alt_domain {
            check_domain("alt_domain", alt)?;
        }
        let recursors = s
            .recursors
            .iter()
            .map(|r| parse_recursor(r))
            .collect::<Result<Vec<_>, _>>()?;
        let defaults = DnsConfig::default();
        let soa = SoaConfig::default();
        let answer = DnsConfig {
            domain,
            alt_domain: s.alt_domain,
            recursors_configured: !recursors.is_empty(),
            node_ttl: s.node_ttl.map_or(defaults.node_ttl, seconds),
            service_ttl: s
                .service_ttl
                .into_iter()
                .map(|(name, ttl)| (name, seconds(ttl)))
                .collect(),
            only_passing: s.only_passing.unwrap_or(defaults.only_passing),
            enable_truncate: s.enable_truncate.unwrap_or(defaults.enable_truncate),
            udp_answer_limit: s.udp_answer_limit.or(defaults.udp_answer_limit),
            a_record_limit: s.a_record_limit.filter(|&n| n > 0),
            enable_additional_node_meta_txt: s
                .enable_additional_node_meta_txt
                .unwrap_or(defaults.enable_additional_node_meta_txt),
            soa: SoaConfig {
                refresh: s.soa.refresh.unwrap_or(soa.refresh),
                retry: s.soa.retry.unwrap_or(soa.retry),
                expire: s.soa.expire.unwrap_or(soa.expire),
                min_ttl: s.soa.min_ttl.unwrap_or(soa.min_ttl),
            },
        };
        let recursor_timeout = s.recursor_timeout.unwrap_or(DEFAULT_RECURSOR_TIMEOUT);
        if recursor_timeout.is_zero() {
            return Err("dns_config.recursor_timeout must be positive".into());
        }
        Ok(DnsOptions {
            answer,
            recursors,
            recursor_timeout,
            allow_stale: s.allow_stale.unwrap_or(true),
            max_stale: s.max_stale.unwrap_or(DEFAULT_MAX_STALE),
        })
    }
}

/// A domain is one or more non-empty labels of at most 63 bytes, with an optional final dot.
fn check_domain(key: &str, domain: &str) -> Result<(), String> {
    let labels = domain.strip_suffix('.').unwrap_or(domain);
    let ok = !labels.is_empty()
        && labels.len() <= 253
        && labels
            .split('.')
            .all(|l| !l.is_empty() && l.len() <= 63 && !l.contains(char::is_whitespace));
    if ok {
        Ok(())
    } else {
        Err(format!("{key} {domain:?} is not a valid DNS domain"))
    }
}

/// `1.2.3.4`, `1.2.3.4:53`, `::1` or `[::1]:53` (port 53 when absent), as Consul accepts.
fn parse_recursor(text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    text.parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| {
            format!("Invalid recursor address {text:?}: expected an IP, optionally with a port")
        })
}

/// Whole seconds for a DNS TTL (saturating).
fn seconds(d: Duration) -> u32 {
    u32::try_from(d.as_secs()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_serve_consul_with_zero_ttls_rfc_truncation_and_no_recursors() {
        let o = DnsOptions::from_settings(DnsSettings::default()).expect("valid");
        assert_eq!(o.answer.domain, "consul.");
        assert_eq!(o.answer.alt_domain, None);
        assert!(!o.answer.recursors_configured);
        assert_eq!((o.answer.node_ttl, o.answer.enable_truncate), (0, true));
        assert_eq!(o.recursor_timeout, Duration::from_secs(2));
        assert!(o.allow_stale);
        assert_eq!(o.max_stale, DEFAULT_MAX_STALE);
    }

    #[test]
    fn recursors_get_port_53_unless_given_and_turn_forwarding_on() {
        let o = DnsOptions::from_settings(DnsSettings {
            recursors: vec!["8.8.8.8".into(), "127.0.0.1:5353".into(), "::1".into()],
            ..DnsSettings::default()
        })
        .expect("valid");
        assert_eq!(
            o.recursors,
            [
                "8.8.8.8:53".parse::<SocketAddr>().expect("addr"),
                "127.0.0.1:5353".parse().expect("addr"),
                "[::1]:53".parse().expect("addr"),
            ]
        );
        assert!(o.answer.recursors_configured);
    }

    #[test]
    fn ttls_become_whole_seconds() {
        let o = DnsOptions::from_settings(DnsSettings {
            node_ttl: Some(Duration::from_millis(30_500)),
            service_ttl: [("web*".to_string(), Duration::from_secs(60))].into(),
            ..DnsSettings::default()
        })
        .expect("valid");
        assert_eq!(o.answer.node_ttl, 30);
        assert_eq!(o.answer.service_ttl("web-1"), 60);
    }

    #[test]
    fn bad_domains_recursors_and_timeouts_are_refused() {
        let refuse = |s: DnsSettings| DnsOptions::from_settings(s).expect_err("refused");
        assert_eq!(
            refuse(DnsSettings {
                domain: Some("a..b".into()),
                ..DnsSettings::default()
            }),
            r#"domain "a..b" is not a valid DNS domain"#
        );
        assert_eq!(
            refuse(DnsSettings {
                recursors: vec!["dns.google".into()],
                ..DnsSettings::default()
            }),
            r#"Invalid recursor address "dns.google": expected an IP, optionally with a port"#
        );
        assert_eq!(
            refuse(DnsSettings {
                recursor_timeout: Some(Duration::ZERO),
                ..DnsSettings::default()
            }),
            "dns_config.recursor_timeout must be positive"
        );
    }
}
