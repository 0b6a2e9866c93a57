//! Parked blocking queries on one `synod agent -dev`: memory per parked query, CPU while they
//! are parked, and the time from one write until every parked query has answered. Two runs:
//! every query on one shared key (woken by one PUT), and each query on its own key (all woken by
//! one recursive DELETE).
//!
//! ```text
//! cargo build --release -p synod-runtime-smol --bin synod
//! cargo run --release -p synod-tests --bin parked_bench [-- QUERIES]   (default 10000)
//! ```
//! The agent binary is taken from `SYNOD_BIN`, else from next to this benchmark's executable.
//! Needs a descriptor limit above twice QUERIES (`ulimit -n`).

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use smol::io::{AsyncReadExt, AsyncWriteExt};

const DEFAULT_QUERIES: usize = 10_000;
/// How long the parked queries are left alone before measuring them.
const SETTLE: Duration = Duration::from_secs(2);
/// The window CPU use is measured over while parked.
const CPU_WINDOW: Duration = Duration::from_secs(3);

fn main() {
    let queries = std::env::args()
        .nth(1)
        .map(|n| n.parse().expect("QUERIES is a number"))
        .unwrap_or(DEFAULT_QUERIES);
    println!("parked_bench: {queries} blocking queries, a fresh -dev agent per run");

    let agent = Agent::start(queries);
    let shared = agent.put("shared", "v0");
    let targets = vec![format!("/v1/kv/shared?index={shared}&wait=5m"); queries];
    measure(&agent, "one shared key", targets, || {
        agent.request("PUT", "/v1/kv/shared", "v1");
    })
    .print();
    drop(agent);

    let agent = Agent::start(queries);
    for i in 0..queries {
        agent.request("PUT", &format!("/v1/kv/own/k{i}"), "v0");
    }
    let seen = agent.put("own/ready", "v0");
    let targets = (0..queries)
        .map(|i| format!("/v1/kv/own/k{i}?index={seen}&wait=5m"))
        .collect();
    measure(&agent, "each its own key", targets, || {
        agent.request("DELETE", "/v1/kv/own/?recurse", "");
    })
    .print();
}

/// What one run measured.
struct Report {
    label: &'static str,
    queries: usize,
    rss_per_query: f64,
    cpu_while_parked: f64,
    write_ack: Duration,
    all_woken: Duration,
    p50_woken: Duration,
    /// The agent's CPU time from the write until every answer arrived: what the wall-clock
    /// figures come to on an idle machine, divided among its HTTP threads.
    wake_cpu: Duration,
}

impl Report {
    fn print(&self) {
        println!(
            "{}: rss/parked query {:.0} B ({:.2} KiB), cpu while parked {:.2}% of one core, \
             write acked {:.1} ms, all {} woken {:.1} ms after the write (p50 {:.1} ms), \
             agent cpu to wake them {:.1} ms",
            self.label,
            self.rss_per_query,
            self.rss_per_query / 1024.0,
            self.cpu_while_parked * 100.0,
            ms(self.write_ack),
            self.queries,
            ms(self.all_woken),
            ms(self.p50_woken),
            ms(self.wake_cpu),
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Parks one query per target, measures memory and CPU, runs `write`, and times the answers.
fn measure(
    agent: &Agent,
    label: &'static str,
    targets: Vec<String>,
    write: impl FnOnce(),
) -> Report {
    let queries = targets.len();
    let rss_before = agent.rss_bytes();
    let port = agent.http_port;
    smol::block_on(async {
        let mut parked = Vec::with_capacity(queries);
        for target in targets {
            parked.push(smol::spawn(park(port, target)).fallible());
        }
        smol::Timer::after(SETTLE).await;
        let rss_parked = agent.rss_bytes();
        let cpu_before = agent.cpu_time();
        smol::Timer::after(CPU_WINDOW).await;
        let cpu_while_parked =
            (agent.cpu_time() - cpu_before).as_secs_f64() / CPU_WINDOW.as_secs_f64();

        let cpu_at_write = agent.cpu_time();
        let written_at = Instant::now();
        // Blocking this thread is fine: the parked queries run on smol's own threads.
        write();
        let write_ack = written_at.elapsed();
        let mut woken = Vec::with_capacity(queries);
        for task in parked {
            match task.await {
                Some(Ok(at)) => woken.push(at.saturating_duration_since(written_at)),
                Some(Err(e)) => panic!("a parked query failed: {e}"),
                None => panic!("a parked query's task was cancelled"),
            }
        }
        let wake_cpu = agent.cpu_time().saturating_sub(cpu_at_write);
        woken.sort();
        let per_query = rss_parked.saturating_sub(rss_before) as f64 / queries as f64;
        Report {
            label,
            queries,
            rss_per_query: per_query,
            cpu_while_parked,
            write_ack,
            all_woken: woken.last().copied().unwrap_or_default(),
            p50_woken: woken.get(woken.len() / 2).copied().unwrap_or_default(),
            wake_cpu,
        }
    })
}

/// Sends `GET target` and waits for the whole answer; when it arrived.
async fn park(port: u16, target: String) -> Result<Instant, String> {
    let mut stream = smol::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let request = format!("GET {target} HTTP/1.1\r\nHost: bench\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("send: {e}"))?;
    let mut raw = Vec::new();
    let mut chunk = [0u8; 2048];
    loop {
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err(format!("closed after {} bytes", raw.len()));
        }
        raw.extend_from_slice(&chunk[..n]);
        if let Some(status) = complete_response(&raw) {
            let at = Instant::now();
            return match status {
                200 | 404 => Ok(at),
                other => Err(format!("status {other}: {}", String::from_utf8_lossy(&raw))),
            };
        }
    }
}

/// The status code once `raw` holds a whole response (head and Content-Length body).
fn complete_response(raw: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(raw).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())
                .flatten()
        })
        .unwrap_or(0);
    if body.len() < length {
        return None;
    }
    head.split(' ').nth(1)?.parse().ok()
}

/// The agent under test.
struct Agent {
    child: Child,
    http_port: u16,
    dir: PathBuf,
}

impl Agent {
    fn start(queries: usize) -> Agent {
        let binary = std::env::var_os("SYNOD_BIN").map_or_else(
            || {
                let exe = std::env::current_exe().expect("own path");
                exe.with_file_name("synod")
            },
            PathBuf::from,
        );
        assert!(
            binary.exists(),
            "no synod binary at {} (build it, or set SYNOD_BIN)",
            binary.display()
        );
        let dir = std::env::temp_dir().join(format!("synod-parked-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("bench dir");
        let config = dir.join("limits.json");
        let limits = format!(
            r#"{{"limits": {{"http_max_conns_per_client": {}}}}}"#,
            queries + 64
        );
        std::fs::write(&config, limits).expect("write config");
        let http_port = free_port();
        let child = Command::new(&binary)
            .args(["agent", "-dev", "-dns-port=-1"])
            .arg(format!("-http-port={http_port}"))
            .arg(format!("-server-port={}", free_port()))
            .arg(format!("-serf-lan-port={}", free_port()))
            .arg(format!("-config-file={}", config.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start synod");
        let agent = Agent {
            child,
            http_port,
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while agent
            .try_request("PUT", "/v1/kv/ready", "yes")
            .is_none_or(|(s, _)| s != 200)
        {
            assert!(Instant::now() < deadline, "the agent never elected itself");
            std::thread::sleep(Duration::from_millis(50));
        }
        agent
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Writes `key`; the index it landed at.
    fn put(&self, key: &str, value: &str) -> u64 {
        let (status, _) = self.request("PUT", &format!("/v1/kv/{key}"), value);
        assert_eq!(status, 200, "PUT {key}");
        let (status, head) = self.request("GET", &format!("/v1/kv/{key}"), "");
        assert_eq!(status, 200, "GET {key}");
        head.lines()
            .find_map(|l| l.strip_prefix("X-Consul-Index: "))
            .and_then(|i| i.trim().parse().ok())
            .expect("an X-Consul-Index")
    }

    /// One exchange on a fresh connection: (status, head).
    fn request(&self, method: &str, target: &str, body: &str) -> (u16, String) {
        self.try_request(method, target, body)
            .unwrap_or_else(|| panic!("{method} {target}: no answer"))
    }

    fn try_request(&self, method: &str, target: &str, body: &str) -> Option<(u16, String)> {
        let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, self.http_port)).ok()?;
        let request = format!(
            "{method} {target} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).ok()?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).ok()?;
        let text = String::from_utf8_lossy(&raw);
        let (head, _) = text.split_once("\r\n\r\n")?;
        let status = head.split(' ').nth(1)?.parse().ok()?;
        Some((status, head.to_owned()))
    }

    fn proc_file(&self, name: &str) -> String {
        std::fs::read_to_string(format!("/proc/{}/{name}", self.pid())).expect("read /proc")
    }

    /// Resident set size.
    fn rss_bytes(&self) -> u64 {
        self.proc_file("status")
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kib| kib * 1024)
            .expect("VmRSS in /proc/<pid>/status")
    }

    /// User plus system CPU time so far.
    fn cpu_time(&self) -> Duration {
        let stat = self.proc_file("stat");
        // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<u64> = after
            .split_whitespace()
            .skip(11)
            .take(2)
            .filter_map(|f| f.parse().ok())
            .collect();
        let ticks: u64 = fields.iter().sum();
        // Linux reports in USER_HZ, 100 per second on every mainstream configuration.
        Duration::from_millis(ticks * 10)
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
