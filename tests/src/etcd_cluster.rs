//! etcd's 3-member cluster from `/work/shared/peers/etcd.sh` (clients on 127.0.0.1:{1,2,3}2379)
//! behind the failover driver's [`Cluster`], so both systems are measured the same way: writes
//! and reads through the v3 JSON gateway, SIGKILL by the pid files the script writes, restarts
//! through `etcd.sh restart N`.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use crate::failover::Cluster;
use crate::http_call::http_call;

/// How long one status request may take.
const STATUS_TIMEOUT: Duration = Duration::from_millis(500);
/// How long one write may take before it is abandoned (others are started meanwhile).
const WRITE_TIMEOUT: Duration = Duration::from_secs(3);
/// Members in the script's cluster.
const MEMBERS: usize = 3;
/// How long to wait for another run's etcd (the ports are fixed, the machine shared) to go.
const PORTS_BUSY_WAIT: Duration = Duration::from_secs(600);

/// The script's cluster, stopped again when dropped.
pub struct EtcdCluster {
    script: PathBuf,
    /// The script's `$PEERS_DIR`.
    peers_dir: PathBuf,
    running: [bool; MEMBERS],
    /// Each member's id as its status reports it (stable across restarts).
    ids: [Option<String>; MEMBERS],
}

impl EtcdCluster {
    /// Starts a fresh cluster with `script` (`etcd.sh`), data under `peers_dir`; returns once
    /// it has a leader every member agrees on.
    pub fn start(script: &Path, peers_dir: &Path, limit: Duration) -> io::Result<EtcdCluster> {
        let mut cluster = EtcdCluster {
            script: script.to_owned(),
            peers_dir: peers_dir.to_owned(),
            running: [false; MEMBERS],
            ids: [None, None, None],
        };
        // Client and peer ports both: another run may have killed some of its members.
        let busy = |c: &EtcdCluster| {
            (0..MEMBERS)
                .flat_map(|i| [c.client_addr(i), c.peer_addr(i)])
                .find(|addr| std::net::TcpStream::connect(addr).is_ok())
        };
        let waiting_since = Instant::now();
        while let Some(addr) = busy(&cluster) {
            if waiting_since.elapsed() > PORTS_BUSY_WAIT {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!("something kept serving {addr}"),
                ));
            }
            thread::sleep(Duration::from_secs(1));
        }
        cluster.script_run(&["cluster"])?;
        cluster.running = [true; MEMBERS];
        cluster
            .wait_for_leader(limit)
            .ok_or_else(|| io::Error::new(io::ErrorKind::TimedOut, "etcd elected no leader"))?;
        for i in 0..MEMBERS {
            cluster.ids[i] = cluster.status(i).map(|(id, _)| id);
        }
        Ok(cluster)
    }

    fn client_addr(&self, i: usize) -> SocketAddr {
        let port = 12379 + 10_000 * u16::try_from(i).unwrap_or(0);
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    fn peer_addr(&self, i: usize) -> SocketAddr {
        let port = 12380 + 10_000 * u16::try_from(i).unwrap_or(0);
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    fn script_run(&self, args: &[&str]) -> io::Result<()> {
        let status = Command::new("bash")
            .arg(&self.script)
            .args(args)
            .env("PEERS_DIR", &self.peers_dir)
            .status()?;
        if status.success() {
            Ok(())
        } else {
            Err(io::Error::other(format!("etcd.sh {args:?}: {status}")))
        }
    }

    /// One v3 gateway call: the JSON answer, `None` on any failure.
    fn call(&self, i: usize, path: &str, body: &Value, timeout: Duration) -> Option<Value> {
        let (status, text) = http_call(
            self.client_addr(i),
            "POST",
            path,
            &body.to_string(),
            timeout,
        )
        .ok()?;
        let answer: Value = serde_json::from_str(&text).ok()?;
        (status == 200 && answer.get("error").is_none()).then_some(answer)
    }

    /// Member `i`'s own id and the leader id it reports.
    fn status(&self, i: usize) -> Option<(String, String)> {
        let answer = self.call(i, "/v3/maintenance/status", &json!({}), STATUS_TIMEOUT)?;
        let id = answer["header"]["member_id"].as_str()?.to_owned();
        let leader = answer["leader"].as_str()?.to_owned();
        (leader != "0").then_some((id, leader))
    }
}

impl Cluster for EtcdCluster {
    fn size(&self) -> usize {
        MEMBERS
    }

    fn wait_for_leader(&self, limit: Duration) -> Option<usize> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            let reports: Vec<Option<(String, String)>> = (0..MEMBERS)
                .filter(|i| self.running[*i])
                .map(|i| self.status(i))
                .collect();
            if let Some(Some((_, first))) = reports.first()
                && reports
                    .iter()
                    .all(|r| r.as_ref().is_some_and(|(_, l)| l == first))
            {
                // Before the ids are known (at start) any agreed leader will do.
                let index = (0..MEMBERS).find(|i| self.ids[*i].as_ref() == Some(first));
                match index {
                    Some(i) if self.running[i] => return Some(i),
                    None if self.ids.iter().all(Option::is_none) => return Some(0),
                    _ => {}
                }
            }
            thread::sleep(Duration::from_millis(50));
        }
        None
    }

    fn kill(&mut self, i: usize) {
        let pid_file = self.peers_dir.join("etcd").join(format!("n{}.pid", i + 1));
        if let Ok(pid) = std::fs::read_to_string(&pid_file) {
            // Already gone is fine: the point is that it is not running.
            let _ = Command::new("kill").args(["-9", pid.trim()]).status();
            // etcd holds its data dir lock until the process is really gone.
            let proc_dir = PathBuf::from(format!("/proc/{}", pid.trim()));
            let gone_by = Instant::now() + Duration::from_secs(5);
            while proc_dir.exists() && Instant::now() < gone_by {
                thread::sleep(Duration::from_millis(10));
            }
        }
        self.running[i] = false;
    }

    fn restart(&mut self, i: usize) -> io::Result<()> {
        self.kill(i);
        self.script_run(&["restart", &(i + 1).to_string()])?;
        self.running[i] = true;
        Ok(())
    }

    fn put(&self, i: usize, key: &str, value: &str) -> bool {
        let body = json!({"key": BASE64.encode(key), "value": BASE64.encode(value)});
        self.call(i, "/v3/kv/put", &body, WRITE_TIMEOUT).is_some()
    }

    fn get(&self, i: usize, key: &str, limit: Duration) -> Result<Option<String>, String> {
        let body = json!({"key": BASE64.encode(key)});
        let answer = self
            .call(i, "/v3/kv/range", &body, limit)
            .ok_or_else(|| format!("reading {key} from etcd failed"))?;
        let Some(encoded) = answer["kvs"][0]["value"].as_str() else {
            return Ok(None);
        };
        let bytes = BASE64
            .decode(encoded)
            .map_err(|e| format!("etcd value of {key} is not base64: {e}"))?;
        Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
    }
}

impl Drop for EtcdCluster {
    fn drop(&mut self) {
        let _ = self.script_run(&["stop"]);
    }
}
