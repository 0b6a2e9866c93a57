//! A DNS client for the end-to-end tests (queries built and replies read with simple-dns over
//! std sockets) and a `-dev` agent with its DNS port.

#![allow(dead_code)] // each dns test file uses its own subset

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use simple_dns::rdata::{OPT, RData};
use simple_dns::{CLASS, Packet, PacketFlag, QTYPE, Question, RCODE, ResourceRecord, TYPE};

use crate::cli_support::{Agent, free_port, http};

/// A `-dev` agent with free ports.
pub(crate) struct DevAgent {
    pub(crate) agent: Agent,
    pub(crate) http: u16,
    pub(crate) dns: u16,
}

impl DevAgent {
    /// Starts `synod agent -dev` plus `extra` flags and waits until it leads and serves DNS.
    pub(crate) fn start(extra: &[&str]) -> DevAgent {
        let (http, dns) = (free_port(), free_port());
        let mut args = vec![
            "-dev".to_string(),
            "-node=agent-one".to_string(),
            format!("-http-port={http}"),
            format!("-dns-port={dns}"),
            format!("-server-port={}", free_port()),
        ];
        args.extend(extra.iter().map(|a| a.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut agent = Agent::start(&args);
        agent.wait_for("DNS server listening on", Duration::from_secs(10));
        agent.wait_for("New leader elected", Duration::from_secs(10));
        DevAgent { agent, http, dns }
    }

    /// `PUT /v1/catalog/register` with `body`, asserting it is accepted.
    pub(crate) fn register(&self, body: &str) {
        let (status, reply) = http(self.http, "PUT", "/v1/catalog/register", body);
        assert_eq!((status, reply.as_str()), (200, "true"), "{body}");
    }

    /// Registers node `node` at `addr` with service `service` (ID `id`) on `port`, with `tags`
    /// and one check `<id>-check` in `status`.
    pub(crate) fn register_instance(
        &self,
        node: &str,
        addr: &str,
        (service, id, port): (&str, &str, u16),
        tags: &[&str],
        status: &str,
    ) {
        let tags: Vec<String> = tags.iter().map(|t| format!("{t:?}")).collect();
        self.register(&format!(
            r#"{{"Node":"{node}","Address":"{addr}",
                "Service":{{"ID":"{id}","Service":"{service}","Tags":[{}],"Port":{port}}},
                "Check":{{"CheckID":"{id}-check","Name":"{id} check","Status":"{status}","ServiceID":"{id}"}}}}"#,
            tags.join(",")
        ));
    }

    /// Asks over UDP until `accept` holds for the reply (the view is published just after the
    /// write is applied), or panics with the last reply after `limit`.
    pub(crate) fn udp_until(
        &self,
        query: &[u8],
        limit: Duration,
        accept: impl Fn(&Packet<'_>) -> bool,
    ) -> Vec<u8> {
        let deadline = Instant::now() + limit;
        loop {
            let reply = udp(self.dns, query);
            if accept(&parse(&reply)) {
                return reply;
            }
            assert!(
                Instant::now() < deadline,
                "no acceptable reply within {limit:?}; last: {:?}",
                lines(&parse(&reply).answers)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A query for `name`/`qtype` with ID 0x1234 and RD set, with an EDNS OPT of `edns` bytes.
pub(crate) fn query(name: &str, qtype: TYPE, edns: Option<u16>) -> Vec<u8> {
    let mut packet = Packet::new_query(0x1234);
    packet.set_flags(PacketFlag::RECURSION_DESIRED);
    let qname = name.try_into().expect("test name");
    packet.questions.push(Question::new(
        qname,
        QTYPE::TYPE(qtype),
        CLASS::IN.into(),
        false,
    ));
    if let Some(size) = edns {
        *packet.opt_mut() = Some(OPT {
            opt_codes: Vec::new(),
            udp_packet_size: size,
            version: 0,
        });
    }
    packet.build_bytes_vec().expect("query encodes")
}

/// One exchange over UDP.
pub(crate) fn udp(port: u16, query: &[u8]) -> Vec<u8> {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind a client socket");
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("read timeout");
    socket.connect(("127.0.0.1", port)).expect("connect");
    socket.send(query).expect("send the query");
    let mut buf = vec![0u8; 65_535];
    let len = socket.recv(&mut buf).expect("a UDP reply within 5 s");
    buf.truncate(len);
    buf
}

/// Exchanges over one TCP connection: every query is written first (pipelined), then the
/// replies are read in order.
pub(crate) fn tcp(port: u16, queries: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect over TCP");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("read timeout");
    let mut out = Vec::new();
    for q in queries {
        let len = u16::try_from(q.len()).expect("query fits a TCP frame");
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(q);
    }
    stream.write_all(&out).expect("send the queries");
    queries
        .iter()
        .map(|_| {
            let mut prefix = [0u8; 2];
            stream.read_exact(&mut prefix).expect("a reply length");
            let mut reply = vec![0u8; usize::from(u16::from_be_bytes(prefix))];
            stream.read_exact(&mut reply).expect("a reply");
            reply
        })
        .collect()
}

pub(crate) fn parse(bytes: &[u8]) -> Packet<'_> {
    Packet::parse(bytes).expect("the reply parses")
}

/// A record in zone-file style, e.g. `web.service.consul. 0 A 10.0.0.1`.
pub(crate) fn line(rr: &ResourceRecord<'_>) -> String {
    let data = match &rr.rdata {
        RData::A(a) => format!("A {}", Ipv4Addr::from(a.address)),
        RData::AAAA(a) => format!("AAAA {}", Ipv6Addr::from(a.address)),
        RData::SRV(s) => format!("SRV {} {} {} {}.", s.priority, s.weight, s.port, s.target),
        RData::SOA(s) => format!("SOA {}. {}.", s.mname, s.rname),
        RData::TXT(t) => format!("TXT {}", String::try_from(t.clone()).unwrap_or_default()),
        RData::NS(n) => format!("NS {}.", n.0),
        other => format!("{other:?}"),
    };
    format!("{}. {} {}", rr.name, rr.ttl, data)
}

/// A section as sorted lines (answers are shuffled).
pub(crate) fn lines(section: &[ResourceRecord<'_>]) -> Vec<String> {
    let mut lines: Vec<String> = section.iter().map(line).collect();
    lines.sort();
    lines
}

/// Asserts the header of an authoritative reply to one of [`query`]'s queries.
pub(crate) fn assert_reply(reply: &Packet<'_>, rcode: RCODE, truncated: bool) {
    assert_eq!(reply.id(), 0x1234);
    assert!(reply.has_flags(PacketFlag::RESPONSE));
    assert_eq!(reply.rcode(), rcode);
    assert_eq!(reply.has_flags(PacketFlag::TRUNCATION), truncated);
}
