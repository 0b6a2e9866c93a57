//! What a question's name refers to. Labels are read right to left after the domain: the first
//! `service`, `node` or `addr` label decides the kind (Consul's rule), labels before it name the
//! thing and labels after it give the datacenter (`[<dc>]` or `<dc>.dc`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::query::QName;

const TYPE_SRV: u16 = 33;

/// A name inside one of our domains.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// The domain itself (SOA and NS live here).
    Apex,
    /// A name that exists only because names below it do (`service.consul`): NODATA, never
    /// NXDOMAIN, or resolvers applying RFC 8020 would deny everything below it.
    EmptyNonTerminal,
    /// `[<tag>.]<service>.service...` or `_<service>._<tag>...`; names are lower-case.
    Service {
        service: String,
        tag: Option<String>,
    },
    /// `<node>.node...`; lower-case.
    Node(String),
    /// `<hexip>.addr...`.
    Addr(IpAddr),
    /// Anything else, including other datacenters (no WAN federation yet): NXDOMAIN.
    NoSuchName,
}

/// Where a question's name points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Target<'c> {
    /// Inside `domain` (the configured spelling of the domain the query used).
    Zone { domain: &'c str, lookup: Lookup },
    /// `in-addr.arpa` / `ip6.arpa` for a full address.
    Reverse(IpAddr),
    /// Not ours.
    Outside,
}

/// Classifies `name` against our domains (`domains[0]` is the primary) and datacenter.
pub(crate) fn classify<'c>(
    name: &QName<'_>,
    qtype: u16,
    domains: &[&'c str],
    datacenter: &str,
) -> Target<'c> {
    let matched = domains
        .iter()
        .filter_map(|d| Some((*d, suffix_labels(name, d)?)))
        .max_by_key(|(_, n)| *n);
    let Some((domain, domain_labels)) = matched else {
        return reverse(name).map_or(Target::Outside, Target::Reverse);
    };
    let parts: Vec<&[u8]> = name.labels().take(name.len() - domain_labels).collect();
    Target::Zone {
        domain,
        lookup: lookup(&parts, qtype, datacenter),
    }
}

/// Number of labels of `domain` when `name` ends with it.
fn suffix_labels(name: &QName<'_>, domain: &str) -> Option<usize> {
    let domain = domain.trim_end_matches('.');
    let wanted: Vec<&str> = if domain.is_empty() {
        Vec::new()
    } else {
        domain.split('.').collect()
    };
    if wanted.len() > name.len() {
        return None;
    }
    let tail = name.labels().skip(name.len() - wanted.len());
    tail.zip(&wanted)
        .all(|(got, want)| got.eq_ignore_ascii_case(want.as_bytes()))
        .then_some(wanted.len())
}

fn lookup(parts: &[&[u8]], qtype: u16, datacenter: &str) -> Lookup {
    if parts.is_empty() {
        return Lookup::Apex;
    }
    let kind_at = parts
        .iter()
        .rposition(|label| is_kind(label) || (qtype == TYPE_SRV && label.first() == Some(&b'_')));
    let Some(at) = kind_at else {
        return match is_local(parts, datacenter) {
            Some(true) => Lookup::EmptyNonTerminal,
            _ => Lookup::NoSuchName,
        };
    };
    // A leading-underscore label standing in for `service` belongs to the name (RFC 2782).
    let (kind, names, locality): (&[u8], _, _) = if is_kind(parts[at]) {
        (parts[at], &parts[..at], &parts[at + 1..])
    } else {
        (b"service", &parts[..=at], &parts[at + 1..])
    };
    if is_local(locality, datacenter) != Some(true) {
        return Lookup::NoSuchName;
    }
    if names.is_empty() {
        return Lookup::EmptyNonTerminal;
    }
    let Some(names) = lower_utf8(names) else {
        return Lookup::NoSuchName;
    };
    match kind.to_ascii_lowercase().as_slice() {
        b"service" => service(names),
        b"node" => Lookup::Node(names.join(".")),
        _ => addr(&names),
    }
}

fn is_kind(label: &[u8]) -> bool {
    [&b"service"[..], b"node", b"addr"]
        .iter()
        .any(|k| label.eq_ignore_ascii_case(k))
}

/// Whether a locality (`[]`, `[<dc>]` or `[<dc>, "dc"]`) names the local datacenter; `None`
/// when it is not a locality at all.
fn is_local(locality: &[&[u8]], datacenter: &str) -> Option<bool> {
    let dc = match locality {
        [] => return Some(true),
        [dc] => dc,
        [dc, marker] if marker.eq_ignore_ascii_case(b"dc") => dc,
        _ => return None,
    };
    Some(dc.eq_ignore_ascii_case(datacenter.as_bytes()))
}

fn lower_utf8(labels: &[&[u8]]) -> Option<Vec<String>> {
    labels
        .iter()
        .map(|l| std::str::from_utf8(l).ok().map(str::to_ascii_lowercase))
        .collect()
}

fn service(mut names: Vec<String>) -> Lookup {
    let rfc2782 = names.len() == 2 && names.iter().all(|n| n.starts_with('_'));
    let (service, tag) = if rfc2782 {
        let tag = names.pop().unwrap_or_default().split_off(1);
        let service = names.pop().unwrap_or_default().split_off(1);
        let tag = (tag != "tcp" && tag != "udp").then_some(tag);
        (service, tag)
    } else {
        let service = names.pop().unwrap_or_default();
        let tag = (!names.is_empty()).then(|| names.join("."));
        (service, tag)
    };
    if service.is_empty() || tag.as_deref() == Some("") {
        return Lookup::NoSuchName;
    }
    Lookup::Service { service, tag }
}

fn addr(names: &[String]) -> Lookup {
    let [hex] = names else {
        return Lookup::NoSuchName;
    };
    let ip = match hex.len() {
        8 => u32::from_str_radix(hex, 16)
            .ok()
            .map(|v| IpAddr::V4(Ipv4Addr::from(v))),
        32 => u128::from_str_radix(hex, 16)
            .ok()
            .map(|v| IpAddr::V6(Ipv6Addr::from(v))),
        _ => None,
    };
    // from_str_radix accepts a leading '+'; an address is hex digits only.
    match ip {
        Some(ip) if hex.bytes().all(|b| b.is_ascii_hexdigit()) => Lookup::Addr(ip),
        _ => Lookup::NoSuchName,
    }
}

/// The address a full reverse name (`4.3.2.1.in-addr.arpa`, 32 nibbles `.ip6.arpa`) stands for.
fn reverse(name: &QName<'_>) -> Option<IpAddr> {
    let labels: Vec<&[u8]> = name.labels().collect();
    match labels.as_slice() {
        [d, c, b, a, zone, arpa]
            if zone.eq_ignore_ascii_case(b"in-addr") && arpa.eq_ignore_ascii_case(b"arpa") =>
        {
            let octet = |l: &[u8]| match l {
                [b'0'] => Some(0),
                [b'1'..=b'9', ..] if l.iter().all(u8::is_ascii_digit) => {
                    std::str::from_utf8(l).ok()?.parse::<u8>().ok()
                }
                _ => None,
            };
            let ip = Ipv4Addr::new(octet(a)?, octet(b)?, octet(c)?, octet(d)?);
            Some(IpAddr::V4(ip))
        }
        [nibbles @ .., zone, arpa]
            if nibbles.len() == 32
                && zone.eq_ignore_ascii_case(b"ip6")
                && arpa.eq_ignore_ascii_case(b"arpa") =>
        {
            let mut value = 0u128;
            for nibble in nibbles.iter().rev() {
                let [digit] = nibble else { return None };
                value = value << 4 | u128::from(char::from(*digit).to_digit(16)?);
            }
            Some(IpAddr::V6(Ipv6Addr::from(value)))
        }
        _ => None,
    }
}
