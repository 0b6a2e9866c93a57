//! A 3-server synod cluster of real processes on loopback, formed with `-bootstrap-expect 3`,
//! whose servers can be killed with SIGKILL and restarted on the same data dir and ports.

use std::fs::File;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::failover::Cluster;
use crate::http_call::http_call;

/// How long one status request may take.
const STATUS_TIMEOUT: Duration = Duration::from_millis(500);
/// How long one write may take before it is abandoned (others are started meanwhile).
const WRITE_TIMEOUT: Duration = Duration::from_secs(3);

/// One server's fixed identity: the same after every restart.
struct ServerSpec {
    name: String,
    dir: PathBuf,
    http: u16,
    rpc: u16,
    serf: u16,
    wan: u16,
}

/// Real `synod agent -server` processes.
pub struct ProcessCluster {
    binary: PathBuf,
    specs: Vec<ServerSpec>,
    children: Vec<Option<Child>>,
}

/// `n` ports free right now and all different: every listener is held until the last port is
/// taken, so the kernel cannot hand the same port out twice for one cluster.
fn distinct_free_ports(n: usize) -> io::Result<Vec<u16>> {
    let listeners = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<io::Result<Vec<_>>>()?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect()
}

impl ProcessCluster {
    /// Starts `size` servers of `binary` with data dirs under `base` (which must be empty or
    /// absent); returns once they agree on a leader, or fails after `limit`.
    pub fn start(
        binary: &Path,
        base: &Path,
        size: usize,
        limit: Duration,
    ) -> io::Result<ProcessCluster> {
        let mut ports = distinct_free_ports(4 * size)?.into_iter();
        let mut next_port = || ports.next().ok_or_else(|| io::Error::other("out of ports"));
        let mut specs = Vec::with_capacity(size);
        for i in 0..size {
            let dir = base.join(format!("s{i}"));
            std::fs::create_dir_all(&dir)?;
            specs.push(ServerSpec {
                name: format!("s{i}"),
                dir,
                http: next_port()?,
                rpc: next_port()?,
                serf: next_port()?,
                wan: next_port()?,
            });
        }
        let mut cluster = ProcessCluster {
            binary: binary.to_owned(),
            specs,
            children: (0..size).map(|_| None).collect(),
        };
        for i in 0..size {
            cluster.spawn(i)?;
        }
        cluster
            .wait_for_leader(limit)
            .ok_or_else(|| io::Error::new(io::ErrorKind::TimedOut, "no leader elected"))?;
        Ok(cluster)
    }

    /// Server `i`'s HTTP address.
    pub fn http_addr(&self, i: usize) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.specs[i].http))
    }

    /// Whether server `i` runs.
    pub fn is_running(&self, i: usize) -> bool {
        self.children[i].is_some()
    }

    fn spawn(&mut self, i: usize) -> io::Result<()> {
        let spec = &self.specs[i];
        let log = File::options()
            .create(true)
            .append(true)
            .open(spec.dir.join("agent.log"))?;
        let mut command = Command::new(&self.binary);
        command
            .arg("agent")
            .arg("-server")
            .arg(format!("-node={}", spec.name))
            .arg("-bind=127.0.0.1")
            .arg(format!("-data-dir={}", spec.dir.join("data").display()))
            .arg(format!("-http-port={}", spec.http))
            .arg(format!("-server-port={}", spec.rpc))
            .arg(format!("-serf-lan-port={}", spec.serf))
            .arg(format!("-serf-wan-port={}", spec.wan))
            .arg("-dns-port=-1")
            .arg(format!("-bootstrap-expect={}", self.specs.len()))
            .arg("-retry-interval=1s");
        for (j, other) in self.specs.iter().enumerate() {
            if j != i {
                command.arg(format!("-retry-join=127.0.0.1:{}", other.serf));
            }
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        self.children[i] = Some(child);
        Ok(())
    }

    /// The leader's RPC address as server `i` reports it (`None` if it knows none or does not
    /// answer).
    pub fn reported_leader(&self, i: usize) -> Option<String> {
        let (status, body) = http_call(
            self.http_addr(i),
            "GET",
            "/v1/status/leader",
            "",
            STATUS_TIMEOUT,
        )
        .ok()?;
        let leader = body.trim().trim_matches('"');
        (status == 200 && !leader.is_empty()).then(|| leader.to_owned())
    }

    /// The server whose RPC address is `addr`.
    pub fn index_of_rpc(&self, addr: &str) -> Option<usize> {
        self.specs
            .iter()
            .position(|s| format!("127.0.0.1:{}", s.rpc) == addr)
    }
}

impl Cluster for ProcessCluster {
    fn size(&self) -> usize {
        self.specs.len()
    }

    /// Waits until every running server reports the same leader, itself running; its index.
    fn wait_for_leader(&self, limit: Duration) -> Option<usize> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            let reports: Vec<Option<String>> = (0..self.size())
                .filter(|i| self.is_running(*i))
                .map(|i| self.reported_leader(i))
                .collect();
            if let Some(Some(first)) = reports.first()
                && reports.iter().all(|r| r.as_ref() == Some(first))
                && let Some(i) = self.index_of_rpc(first)
                && self.is_running(i)
            {
                return Some(i);
            }
            thread::sleep(Duration::from_millis(50));
        }
        None
    }

    fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.children[i].take() {
            // Already gone is fine: the point is that it is not running.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn restart(&mut self, i: usize) -> io::Result<()> {
        self.kill(i);
        self.spawn(i)
    }

    fn put(&self, i: usize, key: &str, value: &str) -> bool {
        let target = format!("/v1/kv/{key}");
        matches!(
            http_call(self.http_addr(i), "PUT", &target, value, WRITE_TIMEOUT),
            Ok((200, body)) if body.trim() == "true"
        )
    }

    fn get(&self, i: usize, key: &str, limit: Duration) -> Result<Option<String>, String> {
        let target = format!("/v1/kv/{key}?raw");
        match http_call(self.http_addr(i), "GET", &target, "", limit) {
            Ok((200, body)) => Ok(Some(body)),
            Ok((404, _)) => Ok(None),
            Ok((status, body)) => Err(format!("reading {key}: {status} {body}")),
            Err(e) => Err(format!("reading {key}: {e}")),
        }
    }
}

impl Drop for ProcessCluster {
    fn drop(&mut self) {
        for i in 0..self.size() {
            self.kill(i);
        }
    }
}
