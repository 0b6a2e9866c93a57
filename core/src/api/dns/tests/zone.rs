use simple_dns::{PacketFlag, RCODE, TYPE};

use super::*;

#[test]
fn apex_soa_uses_consul_fields() {
    let bytes = ask(&catalog(), "consul", TYPE::SOA);
    let reply = parse(&bytes);
    assert_header(&reply, RCODE::NoError, false);
    assert_eq!(sorted(&reply.answers), [SOA]);
    assert!(reply.name_servers.is_empty());
}

#[test]
fn apex_ns_lists_servers_with_glue() {
    let bytes = ask(&catalog(), "consul", TYPE::NS);
    let reply = parse(&bytes);
    assert_eq!(
        sorted(&reply.answers),
        ["consul. 0 NS server1.node.dc1.consul."]
    );
    assert_eq!(
        sorted(&reply.additional_records),
        ["server1.node.dc1.consul. 0 A 10.0.1.1"]
    );
}

#[test]
fn apex_any_answers_soa_and_ns() {
    let bytes = ask(&catalog(), "consul", QTYPE::ANY);
    assert_eq!(
        sorted(&parse(&bytes).answers),
        ["consul. 0 NS server1.node.dc1.consul.", SOA]
    );
}

#[test]
fn apex_a_is_nodata_with_soa() {
    let bytes = ask(&catalog(), "consul", TYPE::A);
    let reply = parse(&bytes);
    assert_header(&reply, RCODE::NoError, false);
    assert!(reply.answers.is_empty());
    assert_eq!(sorted(&reply.name_servers), [SOA]);
}

#[test]
fn empty_non_terminals_are_nodata_not_nxdomain() {
    for name in ["service.consul", "node.dc1.consul", "dc1.consul"] {
        let bytes = ask(&catalog(), name, TYPE::A);
        let reply = parse(&bytes);
        assert_header(&reply, RCODE::NoError, false);
        assert_eq!(sorted(&reply.name_servers), [SOA], "{name}");
    }
}

#[test]
fn unparseable_names_are_nxdomain() {
    for name in ["foo.consul", "a.b.c.consul", "web.service.dc1.x.consul"] {
        let bytes = ask(&catalog(), name, TYPE::A);
        let reply = parse(&bytes);
        assert_header(&reply, RCODE::NameError, false);
        assert_eq!(sorted(&reply.name_servers), [SOA], "{name}");
    }
}

#[test]
fn other_datacenter_is_nxdomain_until_federation() {
    let mut c = catalog();
    c.add_instance(instance("web", "node1", 80));
    let here = ask(&c, "web.service.dc1.consul", TYPE::A);
    assert_eq!(parse(&here).answers.len(), 1);
    let explicit = ask(&c, "web.service.dc1.dc.consul", TYPE::A);
    assert_eq!(parse(&explicit).answers.len(), 1);
    let there = ask(&c, "web.service.dc2.consul", TYPE::A);
    assert_header(&parse(&there), RCODE::NameError, false);
}

#[test]
fn names_match_case_insensitively_and_echo_the_query_spelling() {
    let mut c = catalog();
    c.add_instance(instance("web", "node1", 80));
    let bytes = ask(&c, "WeB.SeRvIcE.CoNsUl", TYPE::A);
    let reply = parse(&bytes);
    assert_eq!(reply.questions[0].qname.to_string(), "WeB.SeRvIcE.CoNsUl");
    assert_eq!(sorted(&reply.answers), ["WeB.SeRvIcE.CoNsUl. 0 A 10.0.0.1"]);
}

#[test]
fn alt_domain_answers_use_the_alt_domain() {
    let mut c = catalog();
    c.add_instance(instance("web", "node1", 80));
    let config = DnsConfig {
        alt_domain: Some("example.".into()),
        ..DnsConfig::default()
    };
    let bytes = ask_with(&c, &config, &query("web.service.example", TYPE::SRV), UDP);
    let reply = parse(&bytes);
    assert_eq!(
        sorted(&reply.answers),
        ["web.service.example. 0 SRV 1 1 80 node1.node.dc1.example."]
    );
    let missing = ask_with(&c, &config, &query("nope.service.example", TYPE::A), UDP);
    assert_eq!(
        sorted(&parse(&missing).name_servers),
        ["example. 0 SOA ns.example. hostmaster.example. 1 3600 600 86400 0"]
    );
}

#[test]
fn addr_names_decode_ipv4_and_ipv6() {
    let v4 = ask(&catalog(), "c000020a.addr.consul", TYPE::A);
    assert_eq!(
        sorted(&parse(&v4).answers),
        ["c000020a.addr.consul. 0 A 192.0.2.10"]
    );
    let name = "fd000000000000000000000000000006.addr.dc1.consul";
    let v6 = ask(&catalog(), name, TYPE::AAAA);
    assert_eq!(
        sorted(&parse(&v6).answers),
        [format!("{name}. 0 AAAA fd00::6")]
    );
    let wrong_family = ask(&catalog(), "c000020a.addr.consul", TYPE::AAAA);
    let reply = parse(&wrong_family);
    assert_header(&reply, RCODE::NoError, false);
    assert_eq!(sorted(&reply.name_servers), [SOA]);
    let bad = ask(&catalog(), "zz00020a.addr.consul", TYPE::A);
    assert_header(&parse(&bad), RCODE::NameError, false);
}

#[test]
fn ptr_maps_node_and_service_addresses() {
    let mut c = catalog();
    c.add_instance(MemoryInstance {
        addr: Some(ip("192.0.2.10")),
        ..instance("rabbitmq", "node1", 5672)
    });
    let node = ask(&c, "1.0.0.10.in-addr.arpa", TYPE::PTR);
    let reply = parse(&node);
    assert_header(&reply, RCODE::NoError, false);
    assert_eq!(
        sorted(&reply.answers),
        ["1.0.0.10.in-addr.arpa. 0 PTR node1.node.dc1.consul."]
    );
    let service = ask(&c, "10.2.0.192.in-addr.arpa", TYPE::PTR);
    assert_eq!(
        sorted(&parse(&service).answers),
        ["10.2.0.192.in-addr.arpa. 0 PTR rabbitmq.service.dc1.consul."]
    );
    let nibbles = "6.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa";
    let v6 = ask(&c, nibbles, TYPE::PTR);
    assert_eq!(
        sorted(&parse(&v6).answers),
        [format!("{nibbles}. 0 PTR node6.node.dc1.consul.")]
    );
}

#[test]
fn outside_names_are_refused_without_recursors() {
    let bytes = ask(&catalog(), "example.com", TYPE::A);
    let reply = parse(&bytes);
    assert_eq!(reply.rcode(), RCODE::Refused);
    assert!(!reply.has_flags(PacketFlag::AUTHORITATIVE_ANSWER));
    assert!(reply.answers.is_empty() && reply.name_servers.is_empty());
    let unknown_ptr = ask(&catalog(), "9.9.9.9.in-addr.arpa", TYPE::PTR);
    assert_eq!(parse(&unknown_ptr).rcode(), RCODE::Refused);
}

#[test]
fn outside_names_are_forwarded_when_recursors_exist() {
    let config = DnsConfig {
        recursors_configured: true,
        ..DnsConfig::default()
    };
    let q = query("example.com", TYPE::A);
    let Outcome::Forward(forward) = answer(&q, &catalog(), &config, UDP, &mut Rng::new(1)) else {
        panic!("expected a forward");
    };
    let servfail = parse(&forward.servfail);
    assert_eq!(servfail.id(), 0x1234);
    assert_eq!(servfail.rcode(), RCODE::ServerFailure);
    assert!(servfail.has_flags(PacketFlag::RECURSION_AVAILABLE));
    assert_eq!(servfail.questions[0].qname.to_string(), "example.com");
}

#[test]
fn recursion_available_is_set_only_with_recursors() {
    let config = DnsConfig {
        recursors_configured: true,
        ..DnsConfig::default()
    };
    let bytes = ask_with(
        &catalog(),
        &config,
        &query("node1.node.consul", TYPE::A),
        UDP,
    );
    assert!(parse(&bytes).has_flags(PacketFlag::RECURSION_AVAILABLE));
}

#[test]
fn zone_transfer_is_not_implemented() {
    let mut packet = Packet::new_query(0x1234);
    let name = "consul".try_into().expect("name");
    packet
        .questions
        .push(Question::new(name, QTYPE::AXFR, CLASS::IN.into(), false));
    let q = packet.build_bytes_vec().expect("encodes");
    let reply_bytes = ask_with(&catalog(), &DnsConfig::default(), &q, Transport::Tcp);
    assert_eq!(parse(&reply_bytes).rcode(), RCODE::NotImplemented);
}
