use simple_dns::TYPE;

use super::*;
use crate::api::dns::{fuzz_query, fuzz_response_huge};

/// Every prefix of `data`, and `data` with each byte flipped.
fn neighbours(data: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    let cuts = (0..=data.len()).map(|n| data[..n].to_vec());
    let flips = (0..data.len()).map(|i| {
        let mut v = data.to_vec();
        v[i] ^= 0xff;
        v
    });
    cuts.chain(flips)
}

#[test]
fn query_fuzz_body_survives_neighbours_of_real_queries() {
    let seeds = [
        query("web.service.consul", TYPE::SRV),
        query_edns("_web._v1.service.dc1.consul", TYPE::SRV, 4096),
        query("node1.node.consul", QTYPE::ANY),
        query("1.0.0.10.in-addr.arpa", TYPE::PTR),
        query("example.com", TYPE::A),
    ];
    for seed in &seeds {
        for input in neighbours(seed) {
            fuzz_query(&input);
        }
    }
}

#[test]
fn huge_response_fuzz_body_survives_odd_names() {
    for data in [
        &b"\x00"[..],
        b"\x05Node.With.Dots",
        b"\x10\\weird\xff\x00name",
        b"\x01",
    ] {
        fuzz_response_huge(data);
    }
}
