//! A test cluster's server agents: start one on free ports, ask it things through the CLI and
//! HTTP, and wait for conditions.

use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use super::{Agent, free_port, http, run_to_end, temp_dir};

/// How long a killed agent may take to show as failed (serf's LAN defaults give ~5–6 s with
/// many members; Lifeguard starts suspicion at its maximum with few confirmers).
pub(crate) const FAILURE_DETECTION_LIMIT: Duration = Duration::from_secs(15);

/// One server agent of a test cluster.
pub(crate) struct Server {
    pub(crate) agent: Agent,
    pub(crate) name: String,
    pub(crate) http: u16,
    pub(crate) serf: u16,
    /// WAN gossip port.
    pub(crate) wan: u16,
    pub(crate) rpc: u16,
    /// Declared after `agent`, so the agent is stopped before its data dir (64 MiB of
    /// preallocated WAL) is removed.
    pub(crate) dir: DataDir,
}

/// A server's data dir, removed when dropped: a test cluster starts many servers and the
/// disk is shared.
pub(crate) struct DataDir(PathBuf);

impl DataDir {
    /// Takes ownership of `path`: it is removed when this is dropped.
    pub(crate) fn new(path: PathBuf) -> DataDir {
        DataDir(path)
    }

    pub(crate) fn path(&self) -> &std::path::Path {
        &self.0
    }

    pub(crate) fn join(&self, path: &str) -> PathBuf {
        self.0.join(path)
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        // Best effort: a leftover dir is cleaned with the next run's.
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Server {
    pub(crate) fn start(name: &str, extra: &[String]) -> Server {
        Server::start_on(name, free_port(), extra)
    }

    /// Starts server `name` with its LAN gossip on `serf`.
    pub(crate) fn start_on(name: &str, serf: u16, extra: &[String]) -> Server {
        let (http, rpc, wan) = (free_port(), free_port(), free_port());
        let dir = temp_dir(&format!("cluster-{name}"));
        let mut args = vec![
            "-server".to_owned(),
            format!("-node={name}"),
            "-bind=127.0.0.1".to_owned(),
            format!("-data-dir={}", dir.display()),
            format!("-http-port={http}"),
            format!("-server-port={rpc}"),
            format!("-serf-lan-port={serf}"),
            format!("-serf-wan-port={wan}"),
            "-dns-port=-1".to_owned(),
        ];
        args.extend_from_slice(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut agent = Agent::start(&args);
        agent.wait_for("synod agent running", Duration::from_secs(20));
        Server {
            agent,
            name: name.to_owned(),
            http,
            serf,
            wan,
            rpc,
            dir: DataDir::new(dir),
        }
    }

    pub(crate) fn serf_addr(&self) -> String {
        format!("127.0.0.1:{}", self.serf)
    }

    pub(crate) fn wan_addr(&self) -> String {
        format!("127.0.0.1:{}", self.wan)
    }

    pub(crate) fn http_flag(&self) -> String {
        format!("-http-addr=127.0.0.1:{}", self.http)
    }

    /// `synod <command> -http-addr=<this agent> <args>`: (exit code, stdout, stderr).
    pub(crate) fn cli(&self, command: &[&str], args: &[&str]) -> (Option<i32>, String, String) {
        let flag = self.http_flag();
        let mut all: Vec<&str> = command.to_vec();
        all.push(&flag);
        all.extend_from_slice(args);
        let (status, out, err) = run_to_end(&all);
        (status.code(), out, err)
    }

    /// Node name → status, from `synod members`.
    pub(crate) fn member_statuses(&self) -> Vec<(String, String)> {
        self.statuses(&[])
    }

    /// Member name (`<node>.<dc>`) → status, from `synod members -wan`.
    pub(crate) fn wan_member_statuses(&self) -> Vec<(String, String)> {
        self.statuses(&["-wan"])
    }

    fn statuses(&self, args: &[&str]) -> Vec<(String, String)> {
        let (_, out, _) = self.cli(&["members"], args);
        out.lines()
            .skip(1)
            .filter_map(|line| {
                let cols: Vec<&str> = line.split_whitespace().collect();
                Some((cols.first()?.to_string(), cols.get(2)?.to_string()))
            })
            .collect()
    }

    pub(crate) fn leader(&self) -> String {
        let (status, body) = http(self.http, "GET", "/v1/status/leader", "");
        assert_eq!(status, 200, "{body}");
        body.trim().trim_matches('"').to_owned()
    }
}

/// Polls `check` every 200 ms until it holds; panics with `what` after `limit`. Returns how
/// long it took.
pub(crate) fn eventually(limit: Duration, what: &str, mut check: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        thread::sleep(Duration::from_millis(200));
    }
    start.elapsed()
}

pub(crate) fn status_of(server: &Server, name: &str) -> Option<String> {
    server
        .member_statuses()
        .into_iter()
        .find(|(node, _)| node == name)
        .map(|(_, status)| status)
}
