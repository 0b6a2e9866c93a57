//! An answer as plain data, before encoding: the rcode and the records of each section.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use simple_dns::RCODE;

use super::config::DnsConfig;

/// Record data. Names are lower-case dotted text without the trailing dot, already checked
/// by [`fqdn`] to be encodable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Data {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Srv {
        weight: u16,
        port: u16,
        target: String,
    },
    Txt(String),
    Ptr(String),
    Ns(String),
    Soa(Soa),
}

/// A SOA record's fields (Consul's: `ns.<domain>`, `hostmaster.<domain>`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Soa {
    pub(crate) mname: String,
    pub(crate) rname: String,
    pub(crate) serial: u32,
    pub(crate) refresh: u32,
    pub(crate) retry: u32,
    pub(crate) expire: u32,
    pub(crate) minimum: u32,
}

/// Whose record it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Owner {
    /// The question's name, spelled as the client sent it.
    Question,
    /// A generated name.
    Name(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Record {
    pub(crate) owner: Owner,
    pub(crate) ttl: u32,
    pub(crate) data: Data,
}

/// An answer before encoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) rcode: RCODE,
    pub(crate) authoritative: bool,
    pub(crate) answers: Vec<Record>,
    pub(crate) authority: Vec<Record>,
    /// Additional records, each with how many answers must be kept for it to be sent: trimming
    /// the answers trims what they brought along, so both sections stay in step.
    pub(crate) additional: Vec<(usize, Record)>,
    /// True when answers were left out because the reply could not carry them (the encoder
    /// then flags the reply truncated).
    pub(crate) omitted: bool,
}

impl Plan {
    /// An empty authoritative NOERROR answer.
    pub(crate) fn empty() -> Plan {
        Plan::bare(RCODE::NoError, true)
    }

    /// An answer with only an rcode.
    pub(crate) fn bare(rcode: RCODE, authoritative: bool) -> Plan {
        Plan {
            rcode,
            authoritative,
            answers: Vec::new(),
            authority: Vec::new(),
            additional: Vec::new(),
            omitted: false,
        }
    }

    /// A negative answer (NXDOMAIN, or NOERROR for NODATA) with the zone's SOA in the
    /// authority section, so resolvers can cache it (RFC 2308).
    pub(crate) fn negative(rcode: RCODE, soa: Record) -> Plan {
        let mut plan = Plan::bare(rcode, true);
        plan.authority.push(soa);
        plan
    }
}

/// A record for `addr`, A or AAAA by family.
pub(crate) fn address(owner: Owner, ttl: u32, addr: IpAddr) -> Record {
    let data = match addr {
        IpAddr::V4(v4) => Data::A(v4),
        IpAddr::V6(v6) => Data::Aaaa(v6),
    };
    Record { owner, ttl, data }
}

/// The zone's SOA record for `domain`.
pub(crate) fn soa(domain: &str, serial: u32, config: &DnsConfig) -> Record {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    let soa = Soa {
        mname: join(&["ns", &domain]),
        rname: join(&["hostmaster", &domain]),
        serial,
        refresh: config.soa.refresh,
        retry: config.soa.retry,
        expire: config.soa.expire,
        minimum: config.soa.min_ttl,
    };
    Record {
        owner: Owner::Name(domain),
        ttl: config.soa.min_ttl,
        data: Data::Soa(soa),
    }
}

/// `parts` joined with dots, skipping empty ones (a root domain), lower-cased.
fn join(parts: &[&str]) -> String {
    let mut name = String::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
    for part in parts.iter().filter(|p| !p.is_empty()) {
        if !name.is_empty() {
            name.push('.');
        }
        name.push_str(part);
    }
    name.make_ascii_lowercase();
    name
}

/// `parts` joined into a lower-case name, or `None` when it cannot be a DNS name (empty or
/// over-long labels, over 255 bytes on the wire, or a backslash, which the encoder would read
/// as an escape).
pub(crate) fn fqdn(parts: &[&str]) -> Option<String> {
    let (_domain, names) = parts.split_last()?;
    if names.iter().any(|p| p.is_empty()) {
        return None;
    }
    let name = join(parts);
    let labels_ok = name
        .split('.')
        .all(|label| !label.is_empty() && label.len() <= 63);
    (labels_ok && name.len() + 2 <= 255 && !name.contains('\\')).then_some(name)
}

/// `<node>.node.<dc>.<domain>`.
pub(crate) fn node_name(node: &str, dc: &str, domain: &str) -> Option<String> {
    fqdn(&[node, "node", dc, domain.trim_end_matches('.')])
}

/// `<hexip>.addr.<dc>.<domain>`: 8 hex digits for IPv4, 32 for IPv6.
pub(crate) fn addr_name(addr: IpAddr, dc: &str, domain: &str) -> Option<String> {
    let hex = match addr {
        IpAddr::V4(v4) => format!("{:08x}", u32::from(v4)),
        IpAddr::V6(v6) => format!("{:032x}", u128::from(v6)),
    };
    fqdn(&[&hex, "addr", dc, domain.trim_end_matches('.')])
}

/// `<service>.service.<dc>.<domain>`.
pub(crate) fn service_name(service: &str, dc: &str, domain: &str) -> Option<String> {
    fqdn(&[service, "service", dc, domain.trim_end_matches('.')])
}

/// A node-meta pair as TXT text: RFC 1464 `key=value` with the key's backquotes, `=` and
/// leading/trailing spaces backquoted; keys starting `rfc1035-` publish the bare value.
pub(crate) fn meta_txt(key: &str, value: &str) -> String {
    if key.starts_with("rfc1035-") {
        return value.to_string();
    }
    let plain = |text: &str| !text.contains('`') && !text.contains('=');
    if plain(key) && plain(value) && !key.starts_with(' ') && !key.ends_with(' ') {
        return format!("{key}={value}");
    }
    let escaped = key.replace('`', "``").replace('=', "`=");
    let body = escaped.trim_matches(' ');
    let leading = escaped.len() - escaped.trim_start_matches(' ').len();
    let trailing = if body.is_empty() {
        0
    } else {
        escaped.len() - escaped.trim_end_matches(' ').len()
    };
    format!(
        "{}{}{}={}",
        "` ".repeat(leading),
        body,
        "` ".repeat(trailing),
        value.replace('`', "``")
    )
}
