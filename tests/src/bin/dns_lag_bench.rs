//! Health-change lag: how long after a check flips (a `PUT /v1/catalog/register` carrying the
//! instance's check as critical, then passing again) DNS stops (then resumes) returning the
//! instance. Each round times two spans: from sending the write and from its acknowledgement,
//! to the first DNS answer over UDP that reflects it. Prints p50/p99/max of both.
//!
//! Against a running agent: `cargo run --release -p synod-tests --bin dns_lag_bench --
//! [HTTP_ADDR] [DNS_ADDR] [ROUNDS]` (defaults 127.0.0.1:8500, 127.0.0.1:8600, 200).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// A change not visible after this long counts as a failure of the run.
const GIVE_UP: Duration = Duration::from_secs(5);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.into());
    let (Ok(http), Ok(dns), Ok(rounds)) = (
        arg(0, "127.0.0.1:8500").parse::<SocketAddr>(),
        arg(1, "127.0.0.1:8600").parse::<SocketAddr>(),
        arg(2, "200").parse::<usize>(),
    ) else {
        eprintln!("usage: dns_lag_bench [HTTP_ADDR] [DNS_ADDR] [ROUNDS]");
        return ExitCode::from(2);
    };
    match run(http, dns, rounds) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dns_lag_bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(http: SocketAddr, dns: SocketAddr, rounds: usize) -> Result<(), String> {
    let socket = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    socket.connect(dns).map_err(|e| e.to_string())?;
    socket
        .set_read_timeout(Some(Duration::from_secs(1)))
        .map_err(|e| e.to_string())?;
    let query = a_query("lagbench.service.consul");
    register(http, "passing")?;
    wait_visible(&socket, &query, 1)?;
    let (mut from_write, mut from_ack) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let (status, expected) = if round % 2 == 0 {
            ("critical", 0)
        } else {
            ("passing", 1)
        };
        let sent = Instant::now();
        register(http, status)?;
        let acked = Instant::now();
        let seen = wait_visible(&socket, &query, expected)?;
        from_write.push(seen - sent);
        from_ack.push(seen.saturating_duration_since(acked));
    }
    println!("dns_lag_bench: {rounds} health flips of one instance");
    report("write sent -> DNS reflects", &mut from_write);
    report("write acked -> DNS reflects", &mut from_ack);
    Ok(())
}

fn report(what: &str, lags: &mut [Duration]) {
    lags.sort();
    let at = |q: f64| {
        let i = ((lags.len() as f64 * q).ceil() as usize).clamp(1, lags.len()) - 1;
        lags[i].as_secs_f64() * 1000.0
    };
    println!(
        "  {what:<30} p50={:.3}ms p99={:.3}ms max={:.3}ms",
        at(0.50),
        at(0.99),
        at(1.0)
    );
}

/// Registers the bench instance with its check in `status`.
fn register(http: SocketAddr, status: &str) -> Result<(), String> {
    let body = format!(
        r#"{{"Node":"lagbench-node","Address":"10.77.0.1","Service":{{"ID":"lagbench","Service":"lagbench","Port":80}},"Check":{{"CheckID":"lagbench-check","Name":"lag","Status":"{status}","ServiceID":"lagbench"}}}}"#
    );
    let request = format!(
        "PUT /v1/catalog/register HTTP/1.1\r\nHost: {http}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(http).map_err(|e| format!("connect {http}: {e}"))?;
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut reply = String::new();
    stream
        .read_to_string(&mut reply)
        .map_err(|e| e.to_string())?;
    if reply.starts_with("HTTP/1.1 200") && reply.ends_with("true") {
        Ok(())
    } else {
        Err(format!("register refused: {reply}"))
    }
}

/// Asks until the answer holds `expected` records; the moment it first does.
fn wait_visible(socket: &UdpSocket, query: &[u8], expected: u16) -> Result<Instant, String> {
    let start = Instant::now();
    let mut buf = [0u8; 1500];
    loop {
        socket.send(query).map_err(|e| e.to_string())?;
        let len = socket.recv(&mut buf).map_err(|e| format!("DNS: {e}"))?;
        let answers = buf
            .get(6..8)
            .filter(|_| len >= 12 && buf[..2] == query[..2])
            .map(|b| u16::from_be_bytes([b[0], b[1]]));
        if answers == Some(expected) {
            return Ok(Instant::now());
        }
        if start.elapsed() > GIVE_UP {
            return Err(format!(
                "DNS did not show {expected} answers within {GIVE_UP:?}"
            ));
        }
    }
}

/// A standard A query with RD set for `name`.
fn a_query(name: &str) -> Vec<u8> {
    let mut q = vec![0x4c, 0x41, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in name.split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 1, 0, 1]);
    q
}
