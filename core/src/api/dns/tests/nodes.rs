use simple_dns::{RCODE, TYPE};

use super::*;
use crate::api::dns::records::meta_txt;

#[test]
fn node_a_carries_meta_txt_in_additional() {
    let bytes = ask(&catalog(), "node1.node.consul", TYPE::A);
    let reply = parse(&bytes);
    assert_header(&reply, RCODE::NoError, false);
    assert_eq!(sorted(&reply.answers), ["node1.node.consul. 0 A 10.0.0.1"]);
    assert_eq!(
        sorted(&reply.additional_records),
        ["node1.node.consul. 0 TXT rack=r1"]
    );
}

#[test]
fn node_txt_answers_meta() {
    let bytes = ask(&catalog(), "node1.node.dc1.consul", TYPE::TXT);
    let reply = parse(&bytes);
    assert_eq!(
        sorted(&reply.answers),
        ["node1.node.dc1.consul. 0 TXT rack=r1"]
    );
    assert!(reply.additional_records.is_empty());
}

#[test]
fn node_any_answers_address_and_meta() {
    let bytes = ask(&catalog(), "node1.node.consul", QTYPE::ANY);
    assert_eq!(
        sorted(&parse(&bytes).answers),
        [
            "node1.node.consul. 0 A 10.0.0.1",
            "node1.node.consul. 0 TXT rack=r1",
        ]
    );
}

#[test]
fn node_aaaa_on_ipv4_node_is_nodata_with_soa() {
    let bytes = ask(&catalog(), "node2.node.consul", TYPE::AAAA);
    let reply = parse(&bytes);
    assert_header(&reply, RCODE::NoError, false);
    assert!(reply.answers.is_empty());
    assert_eq!(sorted(&reply.name_servers), [SOA]);
}

#[test]
fn unknown_node_is_nxdomain_with_soa() {
    let bytes = ask(&catalog(), "ghost.node.consul", TYPE::A);
    let reply = parse(&bytes);
    assert_header(&reply, RCODE::NameError, false);
    assert_eq!(sorted(&reply.name_servers), [SOA]);
}

#[test]
fn node_names_may_contain_dots() {
    let mut c = catalog();
    c.add_node("db.rack1", ip("10.0.2.1"), &[]);
    let bytes = ask(&c, "db.rack1.node.consul", TYPE::A);
    assert_eq!(
        sorted(&parse(&bytes).answers),
        ["db.rack1.node.consul. 0 A 10.0.2.1"]
    );
}

#[test]
fn node_ttl_applies_to_node_records() {
    let config = DnsConfig {
        node_ttl: 60,
        ..DnsConfig::default()
    };
    let bytes = ask_with(
        &catalog(),
        &config,
        &query("node2.node.consul", TYPE::A),
        UDP,
    );
    assert_eq!(
        sorted(&parse(&bytes).answers),
        ["node2.node.consul. 60 A 10.0.0.2"]
    );
}

#[test]
fn meta_txt_follows_rfc1464_escaping() {
    assert_eq!(meta_txt("rack", "r1"), "rack=r1");
    assert_eq!(meta_txt("a=b", "c=d"), "a`=b=c=d");
    assert_eq!(meta_txt("q`k", "v`"), "q``k=v``");
    assert_eq!(meta_txt("  lead", "v"), "` ` lead=v");
    assert_eq!(meta_txt("trail ", "v"), "trail` =v");
    assert_eq!(meta_txt("rfc1035-raw", "just value"), "just value");
}
