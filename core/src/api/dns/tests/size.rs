use simple_dns::{RCODE, TYPE};

use super::*;

/// `count` passing instances of `web`, each on its own node 10.1.x.y.
fn big(count: u16) -> MemoryCatalog {
    let mut c = catalog();
    for i in 0..count {
        let node = format!("web-node-{i}");
        let addr = IpAddr::from([10, 1, (i >> 8) as u8, i as u8]);
        c.add_node(&node, addr, &[("zone", "a")]);
        c.add_instance(instance("web", &node, 80));
    }
    c
}

#[test]
fn udp_without_edns_trims_to_512_bytes_and_sets_tc() {
    let bytes = ask(&big(40), "web.service.consul", TYPE::A);
    assert!(bytes.len() <= 512);
    let reply = parse(&bytes);
    assert_header(&reply, RCODE::NoError, true);
    assert!(!reply.answers.is_empty() && reply.answers.len() < 40);
    // Exactly as many as fit: one more answer would not.
    assert!(bytes.len() + 16 > 512);
}

#[test]
fn udp_twenty_a_records_fit_untrimmed_in_512_bytes() {
    let bytes = ask(&big(20), "web.service.consul", TYPE::A);
    let reply = parse(&bytes);
    assert_header(&reply, RCODE::NoError, false);
    assert_eq!(reply.answers.len(), 20);
}

#[test]
fn udp_srv_trims_answers_and_their_additional_together() {
    let bytes = ask(&big(20), "web.service.consul", TYPE::SRV);
    assert!(bytes.len() <= 512);
    let reply = parse(&bytes);
    assert_header(&reply, RCODE::NoError, true);
    let kept = reply.answers.len();
    assert!(kept > 0 && kept < 20);
    // Each kept SRV brings its target's A and its node's meta TXT, nothing else.
    assert_eq!(reply.additional_records.len(), 2 * kept);
    for srv in &reply.answers {
        let simple_dns::rdata::RData::SRV(srv) = &srv.rdata else {
            panic!("not an SRV");
        };
        assert!(
            reply
                .additional_records
                .iter()
                .any(|a| a.name == srv.target)
        );
    }
}

#[test]
fn tcp_returns_every_instance() {
    let q = query("web.service.consul", TYPE::A);
    let bytes = ask_with(&big(20), &DnsConfig::default(), &q, Transport::Tcp);
    let reply = parse(&bytes);
    assert_header(&reply, RCODE::NoError, false);
    assert_eq!(reply.answers.len(), 20);
    let many = ask_with(&big(300), &DnsConfig::default(), &q, Transport::Tcp);
    assert_eq!(parse(&many).answers.len(), 300);
}

#[test]
fn edns_buffer_size_is_honoured_and_echoed() {
    let q = query_edns("web.service.consul", TYPE::SRV, 4096);
    let bytes = ask_with(&big(40), &DnsConfig::default(), &q, UDP);
    assert!(bytes.len() > 512 && bytes.len() <= 4096);
    let reply = parse(&bytes);
    assert_header(&reply, RCODE::NoError, false);
    assert_eq!(reply.answers.len(), 40);
    assert_eq!(reply.opt().map(|o| o.udp_packet_size), Some(4096));
}

#[test]
fn edns_buffer_is_capped_by_the_server_maximum() {
    let q = query_edns("web.service.consul", TYPE::SRV, 4096);
    let transport = Transport::Udp { max_size: 1232 };
    let bytes = ask_with(&big(100), &DnsConfig::default(), &q, transport);
    assert!(bytes.len() <= 1232);
    let reply = parse(&bytes);
    assert_header(&reply, RCODE::NoError, true);
    assert_eq!(reply.opt().map(|o| o.udp_packet_size), Some(1232));
}

#[test]
fn enable_truncate_false_trims_silently() {
    let config = DnsConfig {
        enable_truncate: false,
        ..DnsConfig::default()
    };
    let q = query("web.service.consul", TYPE::A);
    let bytes = ask_with(&big(40), &config, &q, UDP);
    assert!(bytes.len() <= 512);
    assert_header(&parse(&bytes), RCODE::NoError, false);
}

#[test]
fn udp_answer_limit_caps_answers_without_edns_only() {
    let config = DnsConfig {
        udp_answer_limit: Some(3),
        ..DnsConfig::default()
    };
    let plain = ask_with(&big(5), &config, &query("web.service.consul", TYPE::A), UDP);
    let reply = parse(&plain);
    assert_header(&reply, RCODE::NoError, true);
    assert_eq!(reply.answers.len(), 3);
    let edns = query_edns("web.service.consul", TYPE::A, 1232);
    let with_edns = ask_with(&big(5), &config, &edns, UDP);
    assert_eq!(parse(&with_edns).answers.len(), 5);
}

#[test]
fn tcp_trims_services_too_large_for_one_message() {
    let q = query("web.service.consul", TYPE::SRV);
    let bytes = ask_with(&big(3000), &DnsConfig::default(), &q, Transport::Tcp);
    assert!(bytes.len() <= 65535);
    let reply = parse(&bytes);
    assert_header(&reply, RCODE::NoError, true);
    assert!(reply.answers.len() > 500);
    assert_eq!(reply.additional_records.len(), 2 * reply.answers.len());
}

#[test]
fn answers_that_exactly_fill_the_cap_are_not_flagged_truncated() {
    let config = DnsConfig {
        udp_answer_limit: Some(3),
        ..DnsConfig::default()
    };
    let bytes = ask_with(&big(3), &config, &query("web.service.consul", TYPE::A), UDP);
    let reply = parse(&bytes);
    assert_header(&reply, RCODE::NoError, false);
    assert_eq!(reply.answers.len(), 3);
}

#[test]
fn edns_sizes_below_512_are_treated_as_512() {
    let q = query_edns("web.service.consul", TYPE::A, 100);
    let bytes = ask_with(&big(40), &DnsConfig::default(), &q, UDP);
    assert!(bytes.len() > 100 && bytes.len() <= 512);
    assert_header(&parse(&bytes), RCODE::NoError, true);
}
