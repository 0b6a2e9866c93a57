//! End to end: a real `synod agent -dev` answering DNS over UDP and TCP for services registered
//! through `PUT /v1/catalog/register`, queried by a DNS client in the test.

mod cli_support;
mod dns_support;

use std::time::Duration;

use dns_support::{DevAgent, assert_reply, lines, parse, query, tcp, udp};
use simple_dns::{PacketFlag, RCODE, TYPE};

const SOON: Duration = Duration::from_secs(5);

/// web on node1 (tags v1, primary) and node2 (tag v2), both passing, port 8080.
fn register_web(agent: &DevAgent) {
    agent.register_instance(
        "node1",
        "10.0.0.1",
        ("web", "web1", 8080),
        &["v1", "primary"],
        "passing",
    );
    agent.register_instance(
        "node2",
        "10.0.0.2",
        ("web", "web2", 8080),
        &["v2"],
        "passing",
    );
}

#[test]
fn the_seeds_dig_for_web_srv_names_each_instance_with_its_address_in_additional() {
    let agent = DevAgent::start(&[]);
    register_web(&agent);
    // dig @127.0.0.1 -p 8600 web.service.consul SRV
    let q = query("web.service.consul", TYPE::SRV, None);
    let bytes = agent.udp_until(&q, SOON, |r| r.answers.len() == 2);
    let reply = parse(&bytes);
    assert_reply(&reply, RCODE::NoError, false);
    assert!(reply.has_flags(PacketFlag::AUTHORITATIVE_ANSWER));
    assert_eq!(
        lines(&reply.answers),
        [
            "web.service.consul. 0 SRV 1 1 8080 node1.node.dc1.consul.",
            "web.service.consul. 0 SRV 1 1 8080 node2.node.dc1.consul.",
        ]
    );
    assert_eq!(
        lines(&reply.additional_records),
        [
            "node1.node.dc1.consul. 0 A 10.0.0.1",
            "node2.node.dc1.consul. 0 A 10.0.0.2",
        ]
    );
}

#[test]
fn tag_rfc2782_and_addr_forms_select_the_right_instances() {
    let agent = DevAgent::start(&[]);
    register_web(&agent);
    let q = query("v1.web.service.consul", TYPE::A, None);
    let bytes = agent.udp_until(&q, SOON, |r| !r.answers.is_empty());
    assert_eq!(
        lines(&parse(&bytes).answers),
        ["v1.web.service.consul. 0 A 10.0.0.1"]
    );

    let bytes = udp(
        agent.dns,
        &query("_web._v2.service.consul", TYPE::SRV, None),
    );
    assert_eq!(
        lines(&parse(&bytes).answers),
        ["_web._v2.service.consul. 0 SRV 1 1 8080 node2.node.dc1.consul."]
    );
    let bytes = udp(
        agent.dns,
        &query("_web._tcp.service.consul", TYPE::SRV, None),
    );
    assert_eq!(
        lines(&parse(&bytes).answers),
        [
            "_web._tcp.service.consul. 0 SRV 1 1 8080 node1.node.dc1.consul.",
            "_web._tcp.service.consul. 0 SRV 1 1 8080 node2.node.dc1.consul.",
        ]
    );

    let bytes = udp(agent.dns, &query("0a000002.addr.dc1.consul", TYPE::A, None));
    let reply = parse(&bytes);
    assert_reply(&reply, RCODE::NoError, false);
    assert_eq!(
        lines(&reply.answers),
        ["0a000002.addr.dc1.consul. 0 A 10.0.0.2"]
    );
    let bytes = udp(agent.dns, &query("node1.node.consul", TYPE::A, None));
    assert_eq!(
        lines(&parse(&bytes).answers),
        ["node1.node.consul. 0 A 10.0.0.1"]
    );
}

#[test]
fn unknown_names_are_nxdomain_known_names_without_the_type_nodata_both_with_the_soa() {
    let agent = DevAgent::start(&[]);
    register_web(&agent);
    let q = query("web.service.consul", TYPE::A, None);
    agent.udp_until(&q, SOON, |r| r.answers.len() == 2);

    for (name, qtype, rcode) in [
        ("nope.service.consul", TYPE::A, RCODE::NameError),
        ("web.service.consul", TYPE::AAAA, RCODE::NoError),
        // Other datacenters answer NXDOMAIN until WAN federation exists.
        ("web.service.dc2.consul", TYPE::A, RCODE::NameError),
        ("nobody.node.consul", TYPE::A, RCODE::NameError),
    ] {
        let bytes = udp(agent.dns, &query(name, qtype, None));
        let reply = parse(&bytes);
        assert_reply(&reply, rcode, false);
        assert!(reply.answers.is_empty(), "{name}");
        assert_eq!(
            lines(&reply.name_servers),
            ["consul. 0 SOA ns.consul. hostmaster.consul."],
            "{name}"
        );
    }
}

#[test]
fn a_big_service_is_trimmed_with_tc_over_udp_and_complete_over_tcp() {
    let agent = DevAgent::start(&[]);
    const INSTANCES: usize = 40;
    for i in 1..=INSTANCES {
        agent.register_instance(
            &format!("big{i:02}"),
            &format!("10.1.0.{i}"),
            ("big", "big", 9000),
            &[],
            "passing",
        );
    }
    let all: Vec<String> = {
        let mut all: Vec<String> = (1..=INSTANCES)
            .map(|i| format!("big.service.consul. 0 A 10.1.0.{i}"))
            .collect();
        all.sort();
        all
    };
    let q = query("big.service.consul", TYPE::A, None);
    let replies = tcp(agent.dns, std::slice::from_ref(&q));
    let reply = parse(&replies[0]);
    assert_reply(&reply, RCODE::NoError, false);
    assert_eq!(lines(&reply.answers), all);

    let bytes = udp(agent.dns, &q);
    assert!(bytes.len() <= 512, "{} bytes", bytes.len());
    let reply = parse(&bytes);
    assert_reply(&reply, RCODE::NoError, true);
    assert!(
        reply.answers.len() >= 20 && reply.answers.len() < INSTANCES,
        "{} answers",
        reply.answers.len()
    );
    assert!(lines(&reply.answers).iter().all(|l| all.contains(l)));
}

#[test]
fn tcp_answers_pipelined_queries_in_order_on_one_connection() {
    let agent = DevAgent::start(&[]);
    register_web(&agent);
    agent.udp_until(&query("web.service.consul", TYPE::A, None), SOON, |r| {
        r.answers.len() == 2
    });
    let queries = [
        query("node2.node.consul", TYPE::A, None),
        query("nope.service.consul", TYPE::A, None),
        query("node1.node.consul", TYPE::A, None),
    ];
    let replies = tcp(agent.dns, &queries);
    let summary: Vec<(RCODE, Vec<String>)> = replies
        .iter()
        .map(|r| {
            let p = parse(r);
            (p.rcode(), lines(&p.answers))
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                RCODE::NoError,
                vec!["node2.node.consul. 0 A 10.0.0.2".to_string()]
            ),
            (RCODE::NameError, vec![]),
            (
                RCODE::NoError,
                vec!["node1.node.consul. 0 A 10.0.0.1".to_string()]
            ),
        ]
    );
}

#[test]
fn a_failing_instance_disappears_and_returns_when_it_passes_again() {
    let agent = DevAgent::start(&[]);
    register_web(&agent);
    let q = query("web.service.consul", TYPE::A, None);
    agent.udp_until(&q, SOON, |r| r.answers.len() == 2);

    let set_web2 = |status: &str| {
        agent.register(&format!(
            r#"{{"Node":"node2","Address":"10.0.0.2","SkipNodeUpdate":true,
                "Check":{{"CheckID":"web2-check","Name":"web2 check","Status":"{status}","ServiceID":"web2"}}}}"#
        ));
    };
    set_web2("critical");
    let bytes = agent.udp_until(&q, SOON, |r| r.answers.len() == 1);
    assert_eq!(
        lines(&parse(&bytes).answers),
        ["web.service.consul. 0 A 10.0.0.1"]
    );
    set_web2("passing");
    let bytes = agent.udp_until(&q, SOON, |r| r.answers.len() == 2);
    assert_eq!(
        lines(&parse(&bytes).answers),
        [
            "web.service.consul. 0 A 10.0.0.1",
            "web.service.consul. 0 A 10.0.0.2"
        ]
    );
}

#[test]
fn a_config_files_domains_and_ttls_shape_the_answers() {
    let dir = cli_support::temp_dir("dns-config");
    let file = dir.join("dns.json");
    std::fs::write(
        &file,
        r#"{"domain": "example.", "alt_domain": "alt.",
            "dns_config": {"node_ttl": "30s", "service_ttl": {"*": "5s", "db": "7s"},
                           "allow_stale": false, "max_stale": "10s"}}"#,
    )
    .expect("write the config file");
    let agent = DevAgent::start(&[&format!("-config-file={}", file.display())]);
    register_web(&agent);
    let q = query("web.service.example", TYPE::A, None);
    let bytes = agent.udp_until(&q, SOON, |r| r.answers.len() == 2);
    assert_eq!(
        lines(&parse(&bytes).answers),
        [
            "web.service.example. 5 A 10.0.0.1",
            "web.service.example. 5 A 10.0.0.2"
        ]
    );
    let bytes = udp(agent.dns, &query("node1.node.alt", TYPE::A, None));
    assert_eq!(
        lines(&parse(&bytes).answers),
        ["node1.node.alt. 30 A 10.0.0.1"]
    );
    // `consul` is no longer ours, and there are no recursors.
    let bytes = udp(agent.dns, &query("web.service.consul", TYPE::A, None));
    assert_reply(&parse(&bytes), RCODE::Refused, false);
}
