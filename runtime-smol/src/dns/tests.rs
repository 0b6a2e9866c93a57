//! The server over real loopback sockets with a fixed state: TCP limits and the recursors'
//! UDP-then-TCP exchange against fake upstreams built from raw bytes.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use synod_core::state::State;

use super::recursor::Recursors;
use super::{DnsOptions, DnsServer, DnsServerConfig, DnsSettings, TcpLimits};
use crate::shell::log::{Level, Log};

/// A query for `name` (type A, class IN) with ID 0xbeef and RD set.
fn query(name: &str) -> Vec<u8> {
    let mut q = vec![0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in name.split('.') {
        q.push(u8::try_from(label.len()).expect("short label"));
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 1, 0, 1]);
    q
}

/// `query` echoed as a response with `flags3` (the third header byte, QR added) and `rcode`,
/// padded with `extra` bytes standing in for answers.
fn reply_to(query: &[u8], flags3: u8, rcode: u8, extra: usize) -> Vec<u8> {
    let mut r = query.to_vec();
    r[2] = 0x80 | flags3;
    r[3] = rcode;
    r.extend(std::iter::repeat_n(0u8, extra));
    r
}

fn rcode(reply: &[u8]) -> u8 {
    reply[3] & 0x0f
}

fn quiet_log() -> Log {
    Log::new(Level::Error, std::time::SystemTime::now)
}

/// A fake upstream on one port: over UDP it answers with `udp_flags`/`udp_rcode`; over TCP
/// with a long, complete answer.
fn upstream(udp_flags: u8, udp_rcode: u8) -> SocketAddr {
    let udp = UdpSocket::bind("127.0.0.1:0").expect("bind upstream UDP");
    let addr = udp.local_addr().expect("addr");
    let tcp = TcpListener::bind(addr).expect("bind upstream TCP");
    thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok((len, peer)) = udp.recv_from(&mut buf) {
            let _ = udp.send_to(&reply_to(&buf[..len], udp_flags, udp_rcode, 0), peer);
        }
    });
    thread::spawn(move || {
        for stream in tcp.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut prefix = [0u8; 2];
            if stream.read_exact(&mut prefix).is_err() {
                continue;
            }
            let mut q = vec![0u8; usize::from(u16::from_be_bytes(prefix))];
            if stream.read_exact(&mut q).is_err() {
                continue;
            }
            let r = reply_to(&q, 0, 0, 1000);
            let len = u16::try_from(r.len()).expect("fits").to_be_bytes();
            let _ = stream.write_all(&[&len[..], &r].concat());
        }
    });
    addr
}

#[test]
fn a_truncated_upstream_answer_is_fetched_again_over_tcp_for_tcp_clients_only() {
    let recursors = Recursors::new(vec![upstream(0x02, 0)], Duration::from_secs(2));
    let q = query("example.org");
    let over_tcp = recursors.resolve(&q, true).expect("answered");
    assert_eq!(over_tcp, reply_to(&q, 0, 0, 1000));
    // A UDP client could not take the whole answer either: it gets TC and retries over TCP.
    let over_udp = recursors.resolve(&q, false).expect("answered");
    assert_eq!(over_udp, reply_to(&q, 0x02, 0, 0));
}

#[test]
fn a_failing_or_silent_recursor_is_skipped_for_the_next() {
    let servfail = upstream(0, 2);
    let silent = UdpSocket::bind("127.0.0.1:0").expect("bind a silent upstream");
    let good = upstream(0, 3); // NXDOMAIN is a usable answer
    let recursors = Recursors::new(
        vec![servfail, silent.local_addr().expect("addr"), good],
        Duration::from_millis(200),
    );
    let q = query("nowhere.example.org");
    let started = Instant::now();
    assert_eq!(
        recursors.resolve(&q, false).expect("answered"),
        reply_to(&q, 0, 3, 0)
    );
    assert!(started.elapsed() >= Duration::from_millis(200));
    let only_bad = Recursors::new(vec![servfail], Duration::from_millis(200));
    let failures = only_bad.resolve(&q, false).expect_err("no usable answer");
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].reason, "rcode 2");
}

fn server(limits: TcpLimits) -> DnsServer {
    let config = DnsServerConfig {
        addr: "127.0.0.1:0".parse().expect("addr"),
        options: DnsOptions::from_settings(DnsSettings::default()).expect("defaults"),
        datacenter: "dc1".into(),
        node_name: "agent-one".into(),
        node_addr: "127.0.0.1".parse().expect("addr"),
        threads: 2,
        seed: 1,
        tcp: limits,
    };
    DnsServer::start(config, Arc::new(Arc::new(State::new().view())), quiet_log()).expect("start")
}

fn tcp_exchange(stream: &mut TcpStream, q: &[u8]) -> std::io::Result<Vec<u8>> {
    let len = u16::try_from(q.len()).expect("fits").to_be_bytes();
    stream.write_all(&[&len[..], q].concat())?;
    let mut prefix = [0u8; 2];
    stream.read_exact(&mut prefix)?;
    let mut reply = vec![0u8; usize::from(u16::from_be_bytes(prefix))];
    stream.read_exact(&mut reply)?;
    Ok(reply)
}

#[test]
fn udp_and_tcp_answer_from_the_state_and_stop_cleanly() {
    let server = server(TcpLimits::default());
    let addr = server.local_addr();
    let client = UdpSocket::bind("127.0.0.1:0").expect("bind");
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    client
        .send_to(&query("nope.node.consul"), addr)
        .expect("send");
    let mut buf = [0u8; 512];
    let len = client.recv(&mut buf).expect("a UDP reply");
    assert_eq!(&buf[..2], &[0xbe, 0xef]);
    assert_eq!(rcode(&buf[..len]), 3);
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let reply = tcp_exchange(&mut stream, &query("example.org")).expect("a TCP reply");
    assert_eq!(
        rcode(&reply),
        5,
        "outside names are refused without recursors"
    );
    server.stop();
}

#[test]
fn idle_connections_are_closed_and_connections_beyond_the_cap_refused() {
    let server = server(TcpLimits {
        idle_timeout: Duration::from_millis(300),
        max_connections: 1,
    });
    let addr = server.local_addr();
    let mut first = TcpStream::connect(addr).expect("connect");
    first
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    tcp_exchange(&mut first, &query("consul")).expect("the first connection is served");
    let mut second = TcpStream::connect(addr).expect("the kernel accepts");
    second
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    assert!(
        tcp_exchange(&mut second, &query("consul")).is_err(),
        "a connection over the cap is closed unanswered"
    );
    // Idle past the timeout: the server closes the first connection (EOF).
    let mut byte = [0u8; 1];
    let started = Instant::now();
    assert_eq!(first.read(&mut byte).expect("EOF, not a timeout"), 0);
    assert!(started.elapsed() < Duration::from_secs(3));
    // Its slot is free again.
    thread::sleep(Duration::from_millis(50));
    let mut third = TcpStream::connect(addr).expect("connect");
    third
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    tcp_exchange(&mut third, &query("consul")).expect("served once a slot is free");
    server.stop();
}
