//! Forwarding names outside our domains to the configured recursors, in order, each with the
//! recursor timeout: over UDP, and again over TCP when a TCP client's answer came back
//! truncated. A recursor that fails, times out or answers anything but NOERROR/NXDOMAIN is
//! skipped (as Consul does); when none answers, the caller sends SERVFAIL.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

/// Bytes of a DNS header.
const HEADER: usize = 12;
const RCODE_NOERROR: u8 = 0;
const RCODE_NXDOMAIN: u8 = 3;

/// The upstream resolvers.
#[derive(Clone, Debug)]
pub(crate) struct Recursors {
    addrs: Vec<SocketAddr>,
    timeout: Duration,
}

/// Why one recursor gave no usable answer (logged at debug).
#[derive(Debug)]
pub(crate) struct RecurseFailure {
    pub(crate) recursor: SocketAddr,
    pub(crate) reason: String,
}

impl Recursors {
    pub(crate) fn new(addrs: Vec<SocketAddr>, timeout: Duration) -> Self {
        Recursors { addrs, timeout }
    }

    /// The first usable upstream answer to `query` (sent as received, so it keeps the client's
    /// ID and flags), or the reasons each recursor failed. `over_tcp` says the client asked
    /// over TCP and can take an answer of any size.
    pub(crate) fn resolve(
        &self,
        query: &[u8],
        over_tcp: bool,
    ) -> Result<Vec<u8>, Vec<RecurseFailure>> {
        let mut failures = Vec::new();
        for &recursor in &self.addrs {
            let fail = |reason: String| RecurseFailure { recursor, reason };
            let reply = match udp_exchange(query, recursor, self.timeout) {
                Ok(reply) if over_tcp && truncated(&reply) => {
                    tcp_exchange(query, recursor, self.timeout)
                }
                other => other,
            };
            match reply {
                Ok(reply) if usable(&reply) => return Ok(reply),
                Ok(reply) => failures.push(fail(format!("rcode {}", rcode(&reply)))),
                Err(e) => failures.push(fail(e.to_string())),
            }
        }
        Err(failures)
    }
}

fn truncated(reply: &[u8]) -> bool {
    reply.get(2).is_some_and(|flags| flags & 0x02 != 0)
}

fn rcode(reply: &[u8]) -> u8 {
    reply.get(3).map_or(0, |b| b & 0x0f)
}

fn usable(reply: &[u8]) -> bool {
    matches!(rcode(reply), RCODE_NOERROR | RCODE_NXDOMAIN)
}

/// True when `reply` answers `query`: same ID, QR set.
fn answers(query: &[u8], reply: &[u8]) -> bool {
    reply.len() >= HEADER && query.get(..2) == reply.get(..2) && reply[2] & 0x80 != 0
}

fn udp_exchange(query: &[u8], recursor: SocketAddr, timeout: Duration) -> io::Result<Vec<u8>> {
    let local: IpAddr = match recursor {
        SocketAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
        SocketAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
    };
    let socket = UdpSocket::bind((local, 0))?;
    // Connected: datagrams from anyone but the recursor are filtered out by the kernel.
    socket.connect(recursor)?;
    socket.send(query)?;
    let deadline = Instant::now() + timeout;
    let mut buf = vec![0u8; 65_535];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "timed out"));
        }
        socket.set_read_timeout(Some(left))?;
        let len = socket.recv(&mut buf).map_err(timed_out)?;
        if answers(query, &buf[..len]) {
            buf.truncate(len);
            return Ok(buf);
        }
    }
}

fn tcp_exchange(query: &[u8], recursor: SocketAddr, timeout: Duration) -> io::Result<Vec<u8>> {
    let deadline = Instant::now() + timeout;
    let mut stream = TcpStream::connect_timeout(&recursor, timeout)?;
    let left = || {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(io::Error::new(io::ErrorKind::TimedOut, "timed out"))
        } else {
            Ok(left)
        }
    };
    stream.set_write_timeout(Some(left()?))?;
    let len = u16::try_from(query.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "query too long"))?;
    let mut framed = Vec::with_capacity(query.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(query);
    stream.write_all(&framed)?;
    stream.set_read_timeout(Some(left()?))?;
    let mut prefix = [0u8; 2];
    stream.read_exact(&mut prefix).map_err(timed_out)?;
    let mut reply = vec![0u8; usize::from(u16::from_be_bytes(prefix))];
    stream.set_read_timeout(Some(left()?))?;
    stream.read_exact(&mut reply).map_err(timed_out)?;
    if answers(query, &reply) {
        Ok(reply)
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "reply does not match the query",
        ))
    }
}

/// Read timeouts surface as `WouldBlock` on Unix; name them.
fn timed_out(e: io::Error) -> io::Error {
    match e.kind() {
        io::ErrorKind::WouldBlock => io::Error::new(io::ErrorKind::TimedOut, "timed out"),
        _ => e,
    }
}
