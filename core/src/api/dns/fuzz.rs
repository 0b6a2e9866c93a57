//! Fuzz bodies: arbitrary query bytes, and huge services whose node names come from the data.
//! Neither may panic; every reply must fit its transport and parse with simple-dns whenever
//! simple-dns can parse the query.

use std::net::{IpAddr, Ipv6Addr};

use simple_dns::{CLASS, Packet, QTYPE, Question, TYPE};

use super::{
    CatalogView, DnsConfig, Health, MemoryCatalog, MemoryInstance, Outcome, Transport, Weights,
    answer,
};
use crate::rand::Rng;

const UDP_MAX: u16 = 1232;
const TCP_MAX: usize = 65535;

fn fixed_catalog() -> MemoryCatalog {
    let mut c = MemoryCatalog::new("dc1");
    c.add_node("node1", IpAddr::from([10, 0, 0, 1]), &[("rack", "r1")])
        .add_node(
            "node2",
            IpAddr::from(Ipv6Addr::LOCALHOST),
            &[("rfc1035-x", "")],
        )
        .add_node("db.rack", IpAddr::from([10, 0, 0, 3]), &[])
        .mark_server("node1");
    for (node, health, addr) in [
        ("node1", Health::Passing, None),
        (
            "node2",
            Health::Warning,
            Some(IpAddr::from([192, 0, 2, 10])),
        ),
        ("db.rack", Health::Critical, None),
    ] {
        c.add_instance(MemoryInstance {
            service: "web".into(),
            node: node.into(),
            addr,
            port: 80,
            tags: vec!["v1".into()],
            weights: Weights::default(),
            health,
        });
    }
    c
}

fn configs() -> [DnsConfig; 2] {
    let compat = DnsConfig {
        alt_domain: Some("Example.".into()),
        recursors_configured: true,
        enable_truncate: false,
        udp_answer_limit: Some(3),
        a_record_limit: Some(2),
        only_passing: true,
        ..DnsConfig::default()
    };
    [DnsConfig::default(), compat]
}

/// Checks one reply: it fits, echoes the id, and parses when the query did.
fn check_reply(query: &[u8], reply: &[u8], limit: usize) {
    assert!(reply.len() >= 12 && reply.len() <= limit, "reply size");
    assert_eq!(reply[..2], query[..2], "id echoed");
    assert!(reply[2] & 0x80 != 0, "QR set");
    if Packet::parse(query).is_ok() {
        Packet::parse(reply).expect("reply to a parseable query parses");
    }
}

fn run(query: &[u8], view: &impl CatalogView, config: &DnsConfig, seed: u64) {
    for (transport, limit) in [
        (Transport::Udp { max_size: UDP_MAX }, usize::from(UDP_MAX)),
        (Transport::Tcp, TCP_MAX),
    ] {
        match answer(query, view, config, transport, &mut Rng::new(seed)) {
            Outcome::Reply(reply) => check_reply(query, &reply, limit),
            Outcome::Forward(forward) => {
                assert!(config.recursors_configured, "forward without recursors");
                check_reply(query, &forward.servfail, limit);
            }
            Outcome::Drop => assert!(query.len() < 12 || query[2] & 0x80 != 0),
        }
    }
}

/// Fuzz body: answers `data` as a query against a fixed catalog under two configurations.
pub fn fuzz_query(data: &[u8]) {
    let catalog = fixed_catalog();
    for config in configs() {
        run(data, &catalog, &config, data.len() as u64);
    }
}

/// Fuzz body: a service with hundreds of instances whose node names are cut from `data`,
/// queried for every record type over every transport.
pub fn fuzz_response_huge(data: &[u8]) {
    let Some((&size, names)) = data.split_first() else {
        return;
    };
    let count = 200 + usize::from(size) * 3;
    let mut catalog = MemoryCatalog::new("dc1");
    let mut pieces = names.chunks(usize::from(size % 17) + 1).cycle();
    for i in 0..count {
        let piece = pieces.next().unwrap_or_default();
        let node = format!("{}{i}", String::from_utf8_lossy(piece));
        let addr = if i % 5 == 0 {
            IpAddr::from(Ipv6Addr::from(i as u128))
        } else {
            IpAddr::from((i as u32).to_be_bytes())
        };
        let meta = [("k", node.as_str())];
        catalog.add_node(&node, addr, &meta[..i % 2]);
        catalog.add_instance(MemoryInstance {
            service: "big".into(),
            node,
            addr: (i % 7 == 0).then(|| IpAddr::from([192, 0, 2, i as u8])),
            port: i as u16,
            tags: Vec::new(),
            weights: Weights::default(),
            health: [Health::Passing, Health::Warning, Health::Critical][i % 3],
        });
    }
    for qtype in [
        QTYPE::TYPE(TYPE::A),
        QTYPE::TYPE(TYPE::AAAA),
        QTYPE::TYPE(TYPE::SRV),
        QTYPE::TYPE(TYPE::TXT),
        QTYPE::ANY,
    ] {
        let mut packet = Packet::new_query(u16::from(size));
        let Ok(name) = "big.service.consul".try_into() else {
            return;
        };
        packet
            .questions
            .push(Question::new(name, qtype, CLASS::IN.into(), false));
        let Ok(query) = packet.build_bytes_vec() else {
            return;
        };
        for config in configs() {
            run(&query, &catalog, &config, u64::from(size));
        }
    }
}
