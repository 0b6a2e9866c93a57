use simple_dns::{RCODE, TYPE};

use super::*;

fn outcome(bytes: &[u8]) -> Outcome {
    answer(
        bytes,
        &catalog(),
        &DnsConfig::default(),
        UDP,
        &mut Rng::new(1),
    )
}

/// A message with the given flags word and section counts, followed by `body`.
fn raw(flags: u16, counts: [u16; 4], body: &[u8]) -> Vec<u8> {
    let mut out = vec![0x12, 0x34];
    out.extend(flags.to_be_bytes());
    for count in counts {
        out.extend(count.to_be_bytes());
    }
    out.extend(body);
    out
}

/// `web.service.consul` as a wire-format question of type `qtype`, class IN.
fn question(qtype: u16) -> Vec<u8> {
    let mut out = Vec::new();
    for label in ["web", "service", "consul"] {
        out.push(label.len() as u8);
        out.extend(label.as_bytes());
    }
    out.push(0);
    out.extend(qtype.to_be_bytes());
    out.extend(1u16.to_be_bytes());
    out
}

/// An OPT record advertising `size` with EDNS `version`.
fn opt(size: u16, version: u8) -> Vec<u8> {
    let mut out = vec![0, 0, 41];
    out.extend(size.to_be_bytes());
    out.extend([0, version, 0, 0, 0, 0]);
    out
}

fn header_only_reply(rcode: u8, flags: u8) -> Outcome {
    Outcome::Reply(vec![
        0x12,
        0x34,
        0x80 | flags,
        rcode,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
    ])
}

#[test]
fn packets_shorter_than_a_header_are_dropped() {
    assert_eq!(outcome(&[]), Outcome::Drop);
    assert_eq!(outcome(&[0x12, 0x34, 0, 0, 0, 1]), Outcome::Drop);
}

#[test]
fn responses_are_dropped() {
    assert_eq!(
        outcome(&raw(0x8000, [1, 0, 0, 0], &question(1))),
        Outcome::Drop
    );
}

#[test]
fn truncated_question_gets_formerr_echoing_the_id() {
    let mut body = question(1);
    body.truncate(body.len() - 3);
    assert_eq!(
        outcome(&raw(0x0100, [1, 0, 0, 0], &body)),
        header_only_reply(1, 0x01)
    );
}

#[test]
fn multiple_or_zero_questions_get_formerr() {
    let mut two = question(1);
    two.extend(question(28));
    assert_eq!(
        outcome(&raw(0, [2, 0, 0, 0], &two)),
        header_only_reply(1, 0)
    );
    assert_eq!(outcome(&raw(0, [0, 0, 0, 0], &[])), header_only_reply(1, 0));
}

#[test]
fn compression_pointer_in_question_gets_formerr() {
    let body = [0xc0, 0x0c, 0, 1, 0, 1];
    assert_eq!(
        outcome(&raw(0, [1, 0, 0, 0], &body)),
        header_only_reply(1, 0)
    );
}

#[test]
fn other_opcodes_get_notimp_echoing_the_opcode() {
    // opcode 2 (STATUS) sits in bits 11..15 of the flags word.
    assert_eq!(
        outcome(&raw(2 << 11, [1, 0, 0, 0], &question(1))),
        header_only_reply(4, 2 << 3)
    );
}

#[test]
fn two_opt_records_get_formerr() {
    let mut body = question(1);
    body.extend(opt(4096, 0));
    body.extend(opt(4096, 0));
    assert_eq!(
        outcome(&raw(0, [1, 0, 0, 2], &body)),
        header_only_reply(1, 0)
    );
}

#[test]
fn unsupported_edns_version_gets_badvers() {
    let mut body = question(1);
    body.extend(opt(4096, 1));
    let Outcome::Reply(bytes) = outcome(&raw(0, [1, 0, 0, 1], &body)) else {
        panic!("expected a reply");
    };
    let reply = parse(&bytes);
    assert_eq!(reply.rcode(), RCODE::BADVERS);
    assert_eq!(reply.opt().map(|o| o.version), Some(0));
}

#[test]
fn unknown_query_type_gets_nodata_echoing_the_type() {
    let mut c = catalog();
    c.add_instance(instance("web", "node1", 80));
    const TLSA: u16 = 52; // a type simple-dns does not know
    let q = raw(0, [1, 0, 0, 0], &question(TLSA));
    let mut bytes = ask_with(&c, &DnsConfig::default(), &q, UDP);
    let qtype_at = 12 + question(TLSA).len() - 4;
    assert_eq!(bytes[qtype_at..qtype_at + 2], TLSA.to_be_bytes());
    // Swap in a known type to read the rest with simple-dns.
    bytes[qtype_at..qtype_at + 2].copy_from_slice(&1u16.to_be_bytes());
    let reply = parse(&bytes);
    assert_eq!(reply.rcode(), RCODE::NoError);
    assert!(reply.answers.is_empty());
    assert_eq!(sorted(&reply.name_servers), [SOA]);
}

#[test]
fn non_internet_class_is_refused() {
    let mut body = question(16);
    let class_at = body.len() - 2;
    body[class_at..].copy_from_slice(&3u16.to_be_bytes()); // CHAOS
    let Outcome::Reply(bytes) = outcome(&raw(0, [1, 0, 0, 0], &body)) else {
        panic!("expected a reply");
    };
    assert_eq!(parse(&bytes).rcode(), RCODE::Refused);
}

#[test]
fn answer_sections_in_a_query_are_skipped() {
    let mut c = catalog();
    c.add_instance(instance("web", "node1", 80));
    let mut body = question(1);
    // A known-answer record owned by a pointer to the question name.
    body.extend([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 10, 0, 0, 9]);
    let bytes = ask_with(&c, &DnsConfig::default(), &raw(0, [1, 1, 0, 0], &body), UDP);
    assert_eq!(
        sorted(&parse(&bytes).answers),
        ["web.service.consul. 0 A 10.0.0.1"]
    );
    let _ = TYPE::A;
}

#[test]
fn server_failure_echoes_the_question_and_malformed_queries_still_get_formerr() {
    let query = raw(0x0100, [1, 0, 0, 0], &question(1));
    let Outcome::Reply(bytes) = server_failure(&query, &DnsConfig::default(), UDP) else {
        panic!("a reply");
    };
    let reply = parse(&bytes);
    assert_header(&reply, RCODE::ServerFailure, false);
    assert!(reply.answers.is_empty() && reply.name_servers.is_empty());
    let mut truncated = question(1);
    truncated.truncate(truncated.len() - 3);
    assert_eq!(
        server_failure(
            &raw(0x0100, [1, 0, 0, 0], &truncated),
            &DnsConfig::default(),
            UDP
        ),
        header_only_reply(1, 0x01)
    );
    assert_eq!(
        server_failure(&[1, 2, 3], &DnsConfig::default(), UDP),
        Outcome::Drop
    );
}

#[test]
fn answer_into_writes_over_its_buffer_exactly_what_answer_returns() {
    let recursing = DnsConfig {
        recursors_configured: true,
        ..DnsConfig::default()
    };
    let cases: [(Vec<u8>, &DnsConfig, Written); 4] = [
        (
            query("node1.node.consul", TYPE::A),
            &DnsConfig::default(),
            Written::Reply,
        ),
        (query("example.org", TYPE::A), &recursing, Written::Forward),
        (
            raw(0x0100, [2, 0, 0, 0], &question(1)),
            &DnsConfig::default(),
            Written::Reply,
        ),
        (vec![1, 2, 3], &DnsConfig::default(), Written::Drop),
    ];
    let mut out = vec![0xAA; 600];
    for (bytes, config, expected) in cases {
        let written = answer_into(&bytes, &catalog(), config, UDP, &mut Rng::new(1), &mut out);
        assert_eq!(written, expected);
        let whole = answer(&bytes, &catalog(), config, UDP, &mut Rng::new(1));
        match whole {
            Outcome::Reply(reply) => assert_eq!(out, reply),
            Outcome::Forward(forward) => assert_eq!(out, forward.servfail),
            Outcome::Drop => assert!(out.is_empty()),
        }
    }
}
