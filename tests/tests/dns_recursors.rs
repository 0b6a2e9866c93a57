//! End to end: names outside our domains go to the `-recursor`s (a tiny resolver in the test),
//! and SERVFAIL comes back once no recursor answers; without recursors they are REFUSED.

mod cli_support;
mod dns_support;

use std::net::UdpSocket;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use dns_support::{DevAgent, assert_reply, lines, parse, query, tcp, udp};
use simple_dns::rdata::{A, RData};
use simple_dns::{CLASS, Packet, PacketFlag, RCODE, ResourceRecord, TYPE};

/// A resolver answering `example.org. A` with 192.0.2.7 (and NXDOMAIN for anything else)
/// until `stop` is set.
fn test_resolver() -> (u16, Arc<AtomicBool>, thread::JoinHandle<()>) {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind the test resolver");
    socket
        .set_read_timeout(Some(Duration::from_millis(50)))
        .expect("read timeout");
    let port = socket.local_addr().expect("addr").port();
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = stop.clone();
    let handle = thread::spawn(move || {
        let mut buf = [0u8; 1500];
        while !stopping.load(Ordering::Acquire) {
            let Ok((len, peer)) = socket.recv_from(&mut buf) else {
                continue;
            };
            let Ok(q) = Packet::parse(&buf[..len]) else {
                continue;
            };
            let mut reply = q.into_reply();
            reply.set_flags(PacketFlag::RECURSION_AVAILABLE);
            let known = reply
                .questions
                .first()
                .is_some_and(|q| q.qname.to_string() == "example.org");
            if known {
                let name = reply.questions[0].qname.clone();
                reply.answers.push(ResourceRecord::new(
                    name,
                    CLASS::IN,
                    60,
                    RData::A(A {
                        address: u32::from(std::net::Ipv4Addr::new(192, 0, 2, 7)),
                    }),
                ));
            } else {
                *reply.rcode_mut() = RCODE::NameError;
            }
            let bytes = reply.build_bytes_vec().expect("reply encodes");
            let _ = socket.send_to(&bytes, peer);
        }
    });
    (port, stop, handle)
}

#[test]
fn outside_names_are_forwarded_to_the_recursor_and_servfail_once_it_is_gone() {
    let (port, stop, resolver) = test_resolver();
    let mut agent = DevAgent::start(&[&format!("-recursor=127.0.0.1:{port}")]);
    let logged = agent
        .agent
        .wait_for("go to recursors", Duration::from_secs(5));
    assert!(logged.contains(&format!("127.0.0.1:{port}")), "{logged}");

    let q = query("example.org", TYPE::A, None);
    let bytes = udp(agent.dns, &q);
    let reply = parse(&bytes);
    assert_reply(&reply, RCODE::NoError, false);
    assert!(reply.has_flags(PacketFlag::RECURSION_AVAILABLE));
    assert_eq!(lines(&reply.answers), ["example.org. 60 A 192.0.2.7"]);

    let replies = tcp(agent.dns, std::slice::from_ref(&q));
    assert_eq!(
        lines(&parse(&replies[0]).answers),
        ["example.org. 60 A 192.0.2.7"]
    );
    let bytes = udp(agent.dns, &query("other.example.org", TYPE::A, None));
    assert_reply(&parse(&bytes), RCODE::NameError, false);

    // Our own domain is still answered by us, not forwarded.
    let bytes = udp(agent.dns, &query("consul", TYPE::SOA, None));
    let reply = parse(&bytes);
    assert_reply(&reply, RCODE::NoError, false);
    assert!(reply.has_flags(PacketFlag::AUTHORITATIVE_ANSWER));

    stop.store(true, Ordering::Release);
    resolver.join().expect("resolver thread");
    let bytes = udp(agent.dns, &q);
    let reply = parse(&bytes);
    assert_reply(&reply, RCODE::ServerFailure, false);
    assert!(reply.answers.is_empty());
}

#[test]
fn without_recursors_outside_names_are_refused() {
    let agent = DevAgent::start(&[]);
    let bytes = udp(agent.dns, &query("example.org", TYPE::A, None));
    let reply = parse(&bytes);
    assert_reply(&reply, RCODE::Refused, false);
    assert!(!reply.has_flags(PacketFlag::RECURSION_AVAILABLE));
}
