//! Running the real `synod` binary from synod-tests.
//!
//! `CARGO_BIN_EXE_synod` only exists inside the binary's own package, so the binary is built
//! here with the same cargo, target directory and profile as this test, once per test binary
//! (a no-op when it is already fresh), and taken from `<target>/<profile>/synod`.

#![allow(dead_code)] // each cli test file uses its own subset

pub(crate) mod cluster;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

/// The `synod` binary, built on first use.
pub(crate) fn synod_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(build_synod)
}

fn build_synod() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // <target>/<profile>/deps/<test-exe>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test executable lives in <target>/<profile>/deps");
    let target_dir = profile_dir.parent().expect("profile dir has a parent");
    let cargo = std::env::var("CARGO")
        .ok()
        .or_else(|| option_env!("CARGO").map(str::to_string))
        .unwrap_or_else(|| "cargo".to_string());
    let mut build = Command::new(cargo);
    build
        .args([
            "build",
            "--quiet",
            "-p",
            "synod-runtime-smol",
            "--bin",
            "synod",
        ])
        .arg("--target-dir")
        .arg(target_dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    if profile_dir.file_name().is_some_and(|p| p == "release") {
        build.arg("--release");
    }
    let status = build.status().expect("run cargo build");
    assert!(status.success(), "cargo build of synod failed: {status}");
    let binary = profile_dir.join("synod");
    assert!(binary.exists(), "no binary at {}", binary.display());
    binary
}

/// One HTTP/1.1 exchange with the agent's API on a fresh connection: (status, head, body).
pub(crate) fn http_exchange(
    port: u16,
    method: &str,
    target: &str,
    body: &str,
) -> (u16, String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the HTTP API");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    let request = format!(
        "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("send request");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).expect("read response");
    let (head, body) = raw.split_once("\r\n\r\n").expect("a response head");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("a status code");
    (status, head.to_string(), body.to_string())
}

/// One HTTP/1.1 exchange with the agent's API: (status, body).
pub(crate) fn http(port: u16, method: &str, target: &str, body: &str) -> (u16, String) {
    let (status, _, body) = http_exchange(port, method, target, body);
    (status, body)
}

/// A port nothing listens on right now.
pub(crate) fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local addr").port()
}

/// A fresh, empty directory for one test (a data dir, a config dir).
///
/// Kept under Cargo's per-target temp dir, in one folder per test binary that is emptied the
/// first time the binary asks: agents' data dirs hold a preallocated 64 MiB WAL segment each,
/// so leaving every run's dirs behind would fill the disk.
pub(crate) fn temp_dir(name: &str) -> PathBuf {
    static RUN_DIR: OnceLock<PathBuf> = OnceLock::new();
    let run_dir = RUN_DIR.get_or_init(|| {
        let binary = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "tests".to_string());
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("e2e")
            .join(binary);
        let _ = std::fs::remove_dir_all(&dir);
        dir
    });
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = run_dir.join(format!("{name}-{nanos}"));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// Runs `synod args...` to completion: (status, stdout, stderr).
pub(crate) fn run_to_end(args: &[&str]) -> (ExitStatus, String, String) {
    let out = Command::new(synod_binary())
        .args(args)
        .output()
        .expect("run synod");
    (
        out.status,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A running agent whose stdout is read line by line.
pub(crate) struct Agent {
    child: Child,
    lines: Receiver<String>,
    /// Every line read so far.
    pub(crate) seen: Vec<String>,
}

impl Agent {
    /// Starts `synod agent args...`. Unless `args` set the LAN and WAN gossip ports, free ones
    /// are given: Consul's defaults 8301 and 8302 would collide between agents started in
    /// parallel.
    pub(crate) fn start(args: &[&str]) -> Agent {
        Agent::spawn(Command::new(synod_binary()), args)
    }

    /// [`Agent::start`] inside network namespace `ns` (needs root).
    pub(crate) fn start_in_netns(ns: &str, args: &[&str]) -> Agent {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", ns]).arg(synod_binary());
        Agent::spawn(command, args)
    }

    fn spawn(mut command: Command, args: &[&str]) -> Agent {
        command.arg("agent").args(args);
        if !args.iter().any(|a| a.contains("serf-lan-port")) {
            command.arg(format!("-serf-lan-port={}", free_port()));
        }
        if !args.iter().any(|a| a.contains("serf-wan-port")) {
            command.arg(format!("-serf-wan-port={}", free_port()));
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn synod agent");
        let (tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        forward_lines(stdout, tx.clone(), "");
        forward_lines(stderr, tx, "stderr: ");
        Agent {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The agent's process ID (to signal it without waiting for an exit).
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits up to `limit` for a line containing `needle`; returns it.
    pub(crate) fn wait_for(&mut self, needle: &str, limit: Duration) -> String {
        if let Some(line) = self.seen.iter().find(|l| l.contains(needle)) {
            return line.clone();
        }
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => panic!(
                    "no line containing {needle:?} within {limit:?}; output so far:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Sends SIGTERM and waits up to `limit` for the exit status.
    pub(crate) fn terminate(self, limit: Duration) -> (ExitStatus, Vec<String>) {
        self.signal("-TERM", limit)
    }

    /// Sends `signal` (`-INT`, `-TERM`) and waits up to `limit` for the exit status.
    pub(crate) fn signal(self, signal: &str, limit: Duration) -> (ExitStatus, Vec<String>) {
        let pid = self.child.id().to_string();
        let kill = Command::new("kill").args([signal, &pid]).status();
        assert!(
            kill.is_ok_and(|s| s.success()),
            "kill {signal} {pid} failed"
        );
        self.wait_exit(limit)
    }

    /// Kills the agent with SIGKILL (no chance to clean up) and reaps it.
    pub(crate) fn kill_hard(mut self) {
        self.child.kill().expect("SIGKILL synod");
        self.child.wait().expect("reap synod");
    }

    /// Waits up to `limit` for the agent to exit; its status and everything it printed.
    pub(crate) fn wait_exit(mut self, limit: Duration) -> (ExitStatus, Vec<String>) {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for synod") {
                // Collect whatever it printed while shutting down.
                while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
                    self.seen.push(line);
                }
                return (status, std::mem::take(&mut self.seen));
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "synod did not exit within {limit:?}; output:\n{}",
                    self.seen.join("\n")
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        // A failed assertion must not leave the agent running.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn forward_lines(
    stream: impl Read + Send + 'static,
    tx: mpsc::Sender<String>,
    prefix: &'static str,
) {
    thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if tx.send(format!("{prefix}{line}")).is_err() {
                break;
            }
        }
    });
}
