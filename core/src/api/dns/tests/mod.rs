//! Behaviour tests: each builds a query with simple-dns, answers it against a small catalog and
//! decodes the reply with simple-dns, asserting exact sections, flags and rcodes.

mod bad_input;
mod fuzz_seeds;
mod nodes;
mod services;
mod size;
mod state_view;
mod zone;

use std::net::IpAddr;

use simple_dns::rdata::{OPT, RData};
use simple_dns::{CLASS, Packet, PacketFlag, QTYPE, Question, RCODE, ResourceRecord};

use super::{
    CatalogView, DnsConfig, Health, MemoryCatalog, MemoryInstance, Outcome, Transport, Weights,
    Written, answer, answer_into, server_failure,
};
use crate::rand::Rng;

pub(super) const UDP: Transport = Transport::Udp { max_size: 4096 };

pub(super) fn ip(text: &str) -> IpAddr {
    text.parse().expect("test address")
}

/// dc1 with three nodes (node1 has meta) and a server.
pub(super) fn catalog() -> MemoryCatalog {
    let mut c = MemoryCatalog::new("dc1");
    c.add_node("node1", ip("10.0.0.1"), &[("rack", "r1")])
        .add_node("node2", ip("10.0.0.2"), &[])
        .add_node("node3", ip("10.0.0.3"), &[])
        .add_node("node6", ip("fd00::6"), &[])
        .add_node("server1", ip("10.0.1.1"), &[])
        .mark_server("server1");
    c
}

pub(super) fn instance(service: &str, node: &str, port: u16) -> MemoryInstance {
    MemoryInstance {
        service: service.into(),
        node: node.into(),
        addr: None,
        port,
        tags: Vec::new(),
        weights: Weights::default(),
        health: Health::Passing,
    }
}

pub(super) fn query(name: &str, qtype: impl Into<QTYPE>) -> Vec<u8> {
    let mut packet = Packet::new_query(0x1234);
    packet.set_flags(PacketFlag::RECURSION_DESIRED);
    let name = name.try_into().expect("test name");
    let question = Question::new(name, qtype.into(), CLASS::IN.into(), false);
    packet.questions.push(question);
    packet.build_bytes_vec().expect("query encodes")
}

pub(super) fn query_edns(name: &str, qtype: impl Into<QTYPE>, udp_size: u16) -> Vec<u8> {
    let mut packet = Packet::parse(&query(name, qtype))
        .expect("own query parses")
        .into_owned_query();
    *packet.opt_mut() = Some(OPT {
        opt_codes: Vec::new(),
        udp_packet_size: udp_size,
        version: 0,
    });
    packet.build_bytes_vec().expect("query encodes")
}

trait IntoOwnedQuery {
    fn into_owned_query(self) -> Packet<'static>;
}

impl IntoOwnedQuery for Packet<'_> {
    fn into_owned_query(self) -> Packet<'static> {
        let mut owned = Packet::new_query(self.id());
        owned.set_flags(PacketFlag::RECURSION_DESIRED);
        owned.questions = self.questions.into_iter().map(|q| q.into_owned()).collect();
        owned
    }
}

pub(super) fn ask_with(
    view: &impl CatalogView,
    config: &DnsConfig,
    query: &[u8],
    transport: Transport,
) -> Vec<u8> {
    match answer(query, view, config, transport, &mut Rng::new(7)) {
        Outcome::Reply(bytes) => bytes,
        other => panic!("expected a reply, got {other:?}"),
    }
}

pub(super) fn ask(view: &impl CatalogView, name: &str, qtype: impl Into<QTYPE>) -> Vec<u8> {
    ask_with(view, &DnsConfig::default(), &query(name, qtype), UDP)
}

pub(super) fn parse(bytes: &[u8]) -> Packet<'_> {
    Packet::parse(bytes).expect("reply parses")
}

/// A record in zone-file style, e.g. `web.service.consul. 0 A 10.0.0.1`.
pub(super) fn text(rr: &ResourceRecord<'_>) -> String {
    let data = match &rr.rdata {
        RData::A(a) => format!("A {}", std::net::Ipv4Addr::from(a.address)),
        RData::AAAA(a) => format!("AAAA {}", std::net::Ipv6Addr::from(a.address)),
        RData::SRV(s) => format!("SRV {} {} {} {}.", s.priority, s.weight, s.port, s.target),
        RData::TXT(t) => format!("TXT {}", String::try_from(t.clone()).expect("utf-8 TXT")),
        RData::PTR(p) => format!("PTR {}.", p.0),
        RData::NS(n) => format!("NS {}.", n.0),
        RData::SOA(s) => format!(
            "SOA {}. {}. {} {} {} {} {}",
            s.mname, s.rname, s.serial, s.refresh, s.retry, s.expire, s.minimum
        ),
        other => format!("{other:?}"),
    };
    assert_eq!(rr.class, CLASS::IN);
    format!("{}. {} {}", rr.name, rr.ttl, data)
}

/// A section as sorted zone-file lines (answers are shuffled, so order is compared elsewhere).
pub(super) fn sorted(section: &[ResourceRecord<'_>]) -> Vec<String> {
    let mut lines: Vec<String> = section.iter().map(text).collect();
    lines.sort();
    lines
}

/// The default zone's SOA line.
pub(super) const SOA: &str = "consul. 0 SOA ns.consul. hostmaster.consul. 1 3600 600 86400 0";

/// Asserts the header of an authoritative reply: rcode and flags.
pub(super) fn assert_header(reply: &Packet<'_>, rcode: RCODE, truncated: bool) {
    assert_eq!(reply.id(), 0x1234);
    assert_eq!(reply.rcode(), rcode);
    assert!(reply.has_flags(PacketFlag::RESPONSE));
    assert!(reply.has_flags(PacketFlag::RECURSION_DESIRED));
    assert!(!reply.has_flags(PacketFlag::RECURSION_AVAILABLE));
    assert_eq!(reply.has_flags(PacketFlag::TRUNCATION), truncated);
    assert_eq!(reply.questions.len(), 1);
}
