//! DNS settings (Consul's `domain`, `alt_domain`, `recursors` and `dns_config` keys).

use std::collections::BTreeMap;

/// SOA timers (`dns_config.soa`), in seconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SoaConfig {
    /// Refresh interval (default 3600).
    pub refresh: u32,
    /// Retry interval (default 600).
    pub retry: u32,
    /// Expiry (default 86400).
    pub expire: u32,
    /// Negative-caching TTL and the SOA record's own TTL (default 0).
    pub min_ttl: u32,
}

impl Default for SoaConfig {
    fn default() -> Self {
        SoaConfig {
            refresh: 3600,
            retry: 600,
            expire: 86400,
            min_ttl: 0,
        }
    }
}

/// How queries are answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsConfig {
    /// The primary domain (`consul`); a trailing dot is allowed.
    pub domain: String,
    /// A second domain answered the same way; answers reuse the domain the query used.
    pub alt_domain: Option<String>,
    /// True when recursors are configured: names outside our domains are forwarded (and RA is
    /// set) instead of refused.
    pub recursors_configured: bool,
    /// TTL of node records, seconds (default 0).
    pub node_ttl: u32,
    /// TTL of service records by service name: exact names, or `prefix*` wildcards where the
    /// longest prefix wins (`*` alone matches every service). Unlisted services get 0.
    pub service_ttl: BTreeMap<String, u32>,
    /// Drop instances with a warning check too, not only critical ones.
    pub only_passing: bool,
    /// Set TC on UDP answers that were trimmed. Default true (RFC behaviour); Consul's default
    /// is false ("truncate silently").
    pub enable_truncate: bool,
    /// Cap on the answers in a UDP reply without EDNS (Consul's `udp_answer_limit`, default 3
    /// there). Default `None`: only the 512-byte size limit applies.
    pub udp_answer_limit: Option<u16>,
    /// Cap on A/AAAA answers for services on any transport (`a_record_limit`; `None` = unlimited).
    pub a_record_limit: Option<u16>,
    /// Put node-meta TXT records in the additional section of node and SRV answers.
    pub enable_additional_node_meta_txt: bool,
    /// SOA timers.
    pub soa: SoaConfig,
}

impl Default for DnsConfig {
    fn default() -> Self {
        DnsConfig {
            domain: "consul".into(),
            alt_domain: None,
            recursors_configured: false,
            node_ttl: 0,
            service_ttl: BTreeMap::new(),
            only_passing: false,
            enable_truncate: true,
            udp_answer_limit: None,
            a_record_limit: None,
            enable_additional_node_meta_txt: true,
            soa: SoaConfig::default(),
        }
    }
}

impl DnsConfig {
    /// The TTL for records of `service`: an exact entry, else the longest matching `prefix*`.
    pub fn service_ttl(&self, service: &str) -> u32 {
        let mut best: Option<(usize, u32)> = None;
        for (key, &ttl) in &self.service_ttl {
            match key.strip_suffix('*') {
                None if key.eq_ignore_ascii_case(service) => return ttl,
                None => {}
                Some(prefix) => {
                    let matches = service
                        .get(..prefix.len())
                        .is_some_and(|head| head.eq_ignore_ascii_case(prefix));
                    if matches && best.is_none_or(|(len, _)| prefix.len() > len) {
                        best = Some((prefix.len(), ttl));
                    }
                }
            }
        }
        best.map_or(0, |(_, ttl)| ttl)
    }
}
