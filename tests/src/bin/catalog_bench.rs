//! Catalog registration driver: registers `services × instances` service instances, each with
//! one passing check, through `PUT /v1/catalog/register` over keep-alive connections, and
//! prints the throughput. `tests/bench/catalog-vs-etcd.sh` runs it against a 3-server cluster
//! and measures reads and memory around it.
//!
//! `catalog_bench ADDR [SERVICES] [INSTANCES] [CONNECTIONS]` (defaults 10000 3 64). Instance
//! `j` of service `svc-i` lives on node `node-((i*INSTANCES+j) % 100)`.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

const NODES: usize = 100;
/// Tries per registration before the run is abandoned.
const ATTEMPTS: u32 = 10;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(addr) = args.first().cloned() else {
        eprintln!("usage: catalog_bench HOST:PORT [SERVICES] [INSTANCES] [CONNECTIONS]");
        std::process::exit(2);
    };
    let number = |i: usize, default: usize| {
        args.get(i)
            .map_or(Some(default), |a| a.parse().ok())
            .unwrap_or_else(|| {
                eprintln!("argument {i} is not a number");
                std::process::exit(2)
            })
    };
    let (services, instances, connections) = (number(1, 10_000), number(2, 3), number(3, 64));
    let total = services * instances;
    let next = Arc::new(AtomicUsize::new(0));
    let retries = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..connections)
        .map(|_| {
            let (addr, next, retries) = (addr.clone(), Arc::clone(&next), Arc::clone(&retries));
            thread::spawn(move || register_until_done(&addr, &next, &retries, total, instances))
        })
        .collect();
    let mut latencies: Vec<Duration> = Vec::with_capacity(total);
    for worker in workers {
        latencies.extend(worker.join().expect("worker"));
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let p99 = latencies
        .get(latencies.len().saturating_mul(99) / 100)
        .copied()
        .unwrap_or_default();
    println!(
        "RESULT registrations={total} seconds={:.2} per_s={:.0} p99_ms={:.2} retries={}",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        p99.as_secs_f64() * 1e3,
        retries.load(Ordering::Relaxed)
    );
}

/// Takes instance numbers from `next` until `total` and registers each; the latencies.
fn register_until_done(
    addr: &str,
    next: &AtomicUsize,
    retries: &AtomicUsize,
    total: usize,
    instances: usize,
) -> Vec<Duration> {
    let stream = TcpStream::connect(addr).expect("connect to the HTTP API");
    stream.set_nodelay(true).expect("nodelay");
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut writer = stream;
    let mut latencies = Vec::new();
    loop {
        let n = next.fetch_add(1, Ordering::Relaxed);
        if n >= total {
            return latencies;
        }
        let (service, instance) = (n / instances, n % instances);
        let node = n % NODES;
        let body = format!(
            r#"{{"Node":"node-{node}","Address":"10.0.{}.{}","Service":{{"ID":"svc-{service}-{instance}","Service":"svc-{service}","Tags":["v1"],"Port":{}}},"Check":{{"CheckID":"svc-{service}-{instance}","Name":"alive","Status":"passing","ServiceID":"svc-{service}-{instance}"}}}}"#,
            node / 250,
            node % 250 + 1,
            8000 + instance
        );
        let request = format!(
            "PUT /v1/catalog/register HTTP/1.1\r\nHost: bench\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let sent = Instant::now();
        let mut attempt = 1;
        loop {
            writer.write_all(request.as_bytes()).expect("send");
            let (status, answer) = read_response(&mut reader);
            if status == 200 {
                break;
            }
            // Registration is idempotent: a write lost to a leadership change is sent again.
            if attempt == ATTEMPTS {
                eprintln!("registration {n} failed {ATTEMPTS} times: {status} {answer}");
                std::process::exit(1);
            }
            retries.fetch_add(1, Ordering::Relaxed);
            attempt += 1;
            thread::sleep(Duration::from_millis(200));
        }
        latencies.push(sent.elapsed());
    }
}

/// Status and body of one `Content-Length`-framed response.
fn read_response(reader: &mut impl BufRead) -> (u16, String) {
    let mut line = String::new();
    reader.read_line(&mut line).expect("status line");
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut length = 0;
    loop {
        line.clear();
        reader.read_line(&mut line).expect("header line");
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).expect("body");
    (status, String::from_utf8_lossy(&body).into_owned())
}
