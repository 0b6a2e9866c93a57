use simple_dns::{RCODE, TYPE};

use super::*;

fn web(c: &mut MemoryCatalog) {
    c.add_instance(instance("web", "node1", 80))
        .add_instance(instance("web", "node2", 80))
        .add_instance(MemoryInstance {
            health: Health::Critical,
            ..instance("web", "node3", 80)
        });
}

#[test]
fn srv_skips_critical_instances_and_carries_targets_in_additional() {
    let mut c = catalog();
    web(&mut c);
    let bytes = ask(&c, "web.service.consul", TYPE::SRV);
    let reply = parse(&bytes);
    assert_header(&reply, RCODE::NoError, false);
    assert!(reply.has_flags(simple_dns::PacketFlag::AUTHORITATIVE_ANSWER));
    assert_eq!(
        sorted(&reply.answers),
        [
            "web.service.consul. 0 SRV 1 1 80 node1.node.dc1.consul.",
            "web.service.consul. 0 SRV 1 1 80 node2.node.dc1.consul.",
        ]
    );
    assert!(reply.name_servers.is_empty());
    assert_eq!(
        sorted(&reply.additional_records),
        [
            "node1.node.dc1.consul. 0 A 10.0.0.1",
            "node1.node.dc1.consul. 0 TXT rack=r1",
            "node2.node.dc1.consul. 0 A 10.0.0.2",
        ]
    );
}

#[test]
fn a_query_returns_each_healthy_address_once() {
    let mut c = catalog();
    web(&mut c);
    c.add_instance(instance("web", "node1", 8080)); // same address, another port
    let reply_bytes = ask(&c, "web.service.consul", TYPE::A);
    let reply = parse(&reply_bytes);
    assert_header(&reply, RCODE::NoError, false);
    assert_eq!(
        sorted(&reply.answers),
        [
            "web.service.consul. 0 A 10.0.0.1",
            "web.service.consul. 0 A 10.0.0.2",
        ]
    );
    assert!(reply.additional_records.is_empty());
}

#[test]
fn warning_instances_are_returned_with_their_warning_weight() {
    let mut c = catalog();
    c.add_instance(MemoryInstance {
        health: Health::Warning,
        weights: Weights {
            passing: 10,
            warning: 2,
        },
        ..instance("api", "node1", 9000)
    });
    c.add_instance(MemoryInstance {
        weights: Weights {
            passing: 10,
            warning: 2,
        },
        ..instance("api", "node2", 9000)
    });
    let bytes = ask(&c, "api.service.consul", TYPE::SRV);
    assert_eq!(
        sorted(&parse(&bytes).answers),
        [
            "api.service.consul. 0 SRV 1 10 9000 node2.node.dc1.consul.",
            "api.service.consul. 0 SRV 1 2 9000 node1.node.dc1.consul.",
        ]
    );
}

#[test]
fn only_passing_drops_warning_instances() {
    let mut c = catalog();
    c.add_instance(MemoryInstance {
        health: Health::Warning,
        ..instance("api", "node1", 9000)
    });
    c.add_instance(instance("api", "node2", 9000));
    let config = DnsConfig {
        only_passing: true,
        ..DnsConfig::default()
    };
    let bytes = ask_with(&c, &config, &query("api.service.consul", TYPE::A), UDP);
    assert_eq!(
        sorted(&parse(&bytes).answers),
        ["api.service.consul. 0 A 10.0.0.2"]
    );
}

#[test]
fn service_with_only_critical_instances_is_nxdomain() {
    let mut c = catalog();
    c.add_instance(MemoryInstance {
        health: Health::Critical,
        ..instance("db", "node1", 5432)
    });
    let bytes = ask(&c, "db.service.consul", TYPE::A);
    let reply = parse(&bytes);
    assert_header(&reply, RCODE::NameError, false);
    assert!(reply.answers.is_empty());
    assert_eq!(sorted(&reply.name_servers), [SOA]);
}

#[test]
fn tag_form_filters_by_tag() {
    let mut c = catalog();
    c.add_instance(MemoryInstance {
        tags: vec!["v1".into()],
        ..instance("web", "node1", 80)
    });
    c.add_instance(MemoryInstance {
        tags: vec!["v2".into()],
        ..instance("web", "node2", 80)
    });
    let bytes = ask(&c, "V1.web.service.consul", TYPE::SRV);
    assert_eq!(
        sorted(&parse(&bytes).answers),
        ["V1.web.service.consul. 0 SRV 1 1 80 node1.node.dc1.consul."]
    );
}

#[test]
fn rfc2782_form_filters_by_tag_and_tcp_means_any_tag() {
    let mut c = catalog();
    c.add_instance(MemoryInstance {
        tags: vec!["v1".into()],
        ..instance("web", "node1", 80)
    });
    c.add_instance(instance("web", "node2", 80));
    let tagged = ask(&c, "_web._v1.service.consul", TYPE::SRV);
    assert_eq!(
        sorted(&parse(&tagged).answers),
        ["_web._v1.service.consul. 0 SRV 1 1 80 node1.node.dc1.consul."]
    );
    let any_tag = ask(&c, "_web._tcp.service.consul", TYPE::SRV);
    assert_eq!(parse(&any_tag).answers.len(), 2);
    // For SRV the `service` label may be left out.
    let short = ask(&c, "_web._tcp.consul", TYPE::SRV);
    assert_eq!(
        sorted(&parse(&short).answers),
        [
            "_web._tcp.consul. 0 SRV 1 1 80 node1.node.dc1.consul.",
            "_web._tcp.consul. 0 SRV 1 1 80 node2.node.dc1.consul.",
        ]
    );
}

#[test]
fn service_with_its_own_address_gets_an_addr_target() {
    let mut c = catalog();
    c.add_instance(MemoryInstance {
        addr: Some(ip("192.0.2.10")),
        ..instance("rabbitmq", "node1", 5672)
    });
    let bytes = ask(&c, "_rabbitmq._tcp.service.consul", TYPE::SRV);
    let reply = parse(&bytes);
    assert_eq!(
        sorted(&reply.answers),
        ["_rabbitmq._tcp.service.consul. 0 SRV 1 1 5672 c000020a.addr.dc1.consul."]
    );
    assert_eq!(
        sorted(&reply.additional_records),
        ["c000020a.addr.dc1.consul. 0 A 192.0.2.10"]
    );
}

#[test]
fn aaaa_for_ipv4_only_service_is_nodata_with_soa() {
    let mut c = catalog();
    web(&mut c);
    let bytes = ask(&c, "web.service.consul", TYPE::AAAA);
    let reply = parse(&bytes);
    assert_header(&reply, RCODE::NoError, false);
    assert!(reply.answers.is_empty());
    assert_eq!(sorted(&reply.name_servers), [SOA]);
}

#[test]
fn unknown_service_is_nxdomain_with_soa() {
    let bytes = ask(&catalog(), "nope.service.consul", TYPE::SRV);
    let reply = parse(&bytes);
    assert_header(&reply, RCODE::NameError, false);
    assert_eq!(sorted(&reply.name_servers), [SOA]);
}

#[test]
fn ipv6_service_answers_aaaa() {
    let mut c = catalog();
    c.add_instance(instance("v6", "node6", 443));
    let bytes = ask(&c, "v6.service.consul", TYPE::AAAA);
    assert_eq!(
        sorted(&parse(&bytes).answers),
        ["v6.service.consul. 0 AAAA fd00::6"]
    );
}

#[test]
fn service_ttl_uses_exact_name_then_longest_wildcard() {
    let mut c = catalog();
    for name in ["web", "web-api", "db"] {
        c.add_instance(instance(name, "node1", 80));
    }
    let config = DnsConfig {
        service_ttl: [("*", 5), ("web*", 15), ("web", 30)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        ..DnsConfig::default()
    };
    let ttl = |name: &str| {
        let bytes = ask_with(&c, &config, &query(name, TYPE::A), UDP);
        parse(&bytes).answers[0].ttl
    };
    assert_eq!(ttl("web.service.consul"), 30);
    assert_eq!(ttl("web-api.service.consul"), 15);
    assert_eq!(ttl("db.service.consul"), 5);
}

#[test]
fn answers_are_shuffled_by_the_generator() {
    let mut c = catalog();
    for (i, node) in ["node1", "node2", "node3"].iter().enumerate() {
        for port in 0..3 {
            c.add_instance(instance("web", node, 8000 + port + 10 * i as u16));
        }
    }
    let orders: std::collections::BTreeSet<Vec<String>> = (0..8)
        .map(|seed| {
            let q = query("web.service.consul", TYPE::SRV);
            let config = DnsConfig::default();
            let Outcome::Reply(bytes) = answer(&q, &c, &config, UDP, &mut Rng::new(seed)) else {
                panic!("expected a reply");
            };
            parse(&bytes).answers.iter().map(text).collect()
        })
        .collect();
    assert!(orders.len() > 1, "every seed gave the same order");
}

#[test]
fn a_record_limit_caps_address_answers() {
    let mut c = catalog();
    web(&mut c);
    c.add_instance(instance("web", "node3", 80)); // healthy copy on node3
    let config = DnsConfig {
        a_record_limit: Some(2),
        ..DnsConfig::default()
    };
    let bytes = ask_with(&c, &config, &query("web.service.consul", TYPE::A), UDP);
    let reply = parse(&bytes);
    assert_header(&reply, RCODE::NoError, false);
    assert_eq!(reply.answers.len(), 2);
}
