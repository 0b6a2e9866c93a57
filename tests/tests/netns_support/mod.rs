//! The partition scenario of `agent_resilience`: three servers in the network namespaces of
//! the shared peers' `netns.sh` (ns1..ns3, 10.77.0.1..3), the leader's link cut and healed.
//! It needs root (creating namespaces); otherwise it says why it skipped.

use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use crate::cli_support::cluster::DataDir;
use crate::cli_support::{Agent, synod_binary, temp_dir};

/// The shared peers' namespace script, beside the repository (`../shared/peers`).
const NETNS_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/peers/netns.sh");
/// How long to wait for another user of the shared namespaces to finish.
const NAMESPACES_BUSY_WAIT: Duration = Duration::from_secs(120);
/// Bound on each step (an election, a write refused, convergence).
const STEP: Duration = Duration::from_secs(30);

/// Why the scenario cannot run here, if it cannot.
fn cannot_run() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .unwrap_or("?");
    if uid != "0" {
        return Some(format!(
            "network namespaces need root (effective uid {uid})"
        ));
    }
    if !Path::new(NETNS_SCRIPT).exists() {
        return Some(format!("{NETNS_SCRIPT} is not there"));
    }
    let probe = Command::new("ip").args(["netns", "list"]).output();
    match probe {
        Ok(out) if out.status.success() => None,
        Ok(out) => Some(format!(
            "`ip netns list` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => Some(format!("`ip` is not usable: {e}")),
    }
}

/// Whether namespaces ns1..ns3 exist (someone else's run may be using them).
fn namespaces_exist() -> bool {
    Command::new("ip")
        .args(["netns", "list"])
        .output()
        .is_ok_and(|out| {
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .any(|l| l.split_whitespace().next() == Some("ns1"))
        })
}

fn netns(args: &[&str]) {
    let status = Command::new("bash")
        .arg(NETNS_SCRIPT)
        .args(args)
        .status()
        .expect("run netns.sh");
    assert!(status.success(), "netns.sh {args:?} failed: {status}");
}

/// The namespaces, torn down again when dropped (even after a failed assertion).
struct Namespaces;

impl Namespaces {
    fn up() -> Namespaces {
        netns(&["up"]);
        Namespaces
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        let _ = Command::new("bash").arg(NETNS_SCRIPT).arg("down").status();
    }
}

/// `synod <command> -http-addr=127.0.0.1:8500 <args>` inside `ns{i}`: (exit code, stdout,
/// stderr).
fn cli_in(i: usize, command: &[&str], args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new("ip")
        .args(["netns", "exec", &format!("ns{i}")])
        .arg(synod_binary())
        .args(command)
        .arg("-http-addr=127.0.0.1:8500")
        .args(args)
        .output()
        .expect("run synod in a namespace");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The leader's node name as server `i` sees it (from `operator raft list-peers`).
fn leader_seen_by(i: usize) -> Option<String> {
    let (code, out, _) = cli_in(i, &["operator", "raft", "list-peers"], &[]);
    if code != Some(0) {
        return None;
    }
    out.lines()
        .skip(1)
        .find(|l| l.split_whitespace().nth(3) == Some("leader"))
        .and_then(|l| l.split_whitespace().next())
        .map(str::to_owned)
}

/// Polls `check` every 200 ms for up to [`STEP`]; panics with `what` if it never holds.
fn within_step(what: &str, mut check: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < STEP, "{what}: not within {STEP:?}");
        thread::sleep(Duration::from_millis(200));
    }
    start.elapsed()
}

/// Server `i` in `ns{i}`; the agent comes first so it stops before its dir is removed.
fn start_server(i: usize) -> (Agent, DataDir) {
    let dir = DataDir::new(temp_dir(&format!("netns-p{i}")));
    let mut args = vec![
        "-server".to_owned(),
        format!("-node=p{i}"),
        format!("-bind=10.77.0.{i}"),
        "-client=0.0.0.0".to_owned(),
        format!("-data-dir={}", dir.path().display()),
        "-bootstrap-expect=3".to_owned(),
        "-retry-interval=1s".to_owned(),
        "-dns-port=-1".to_owned(),
        "-serf-lan-port=8301".to_owned(),
        "-serf-wan-port=8302".to_owned(),
    ];
    args.extend(
        (1..=3)
            .filter(|j| *j != i)
            .map(|j| format!("-retry-join=10.77.0.{j}")),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut agent = Agent::start_in_netns(&format!("ns{i}"), &args);
    agent.wait_for("synod agent running", STEP);
    (agent, dir)
}

/// Runs the whole scenario, or prints why it cannot and returns.
pub(crate) fn partition_scenario() {
    if let Some(why) = cannot_run() {
        println!("skipped: {why}");
        return;
    }
    let waited = Instant::now();
    while namespaces_exist() {
        if waited.elapsed() > NAMESPACES_BUSY_WAIT {
            println!("skipped: namespaces ns1..ns3 stayed in use by another run");
            return;
        }
        thread::sleep(Duration::from_secs(1));
    }
    let _namespaces = Namespaces::up();
    let _servers: Vec<(Agent, DataDir)> = (1..=3).map(start_server).collect();
    let mut leader_name = String::new();
    within_step("one leader seen by all three", || {
        let seen: Vec<Option<String>> = (1..=3).map(leader_seen_by).collect();
        match &seen[0] {
            Some(first) if seen.iter().all(|s| s.as_ref() == Some(first)) => {
                leader_name = first.clone();
                true
            }
            _ => false,
        }
    });
    let old: usize = leader_name
        .trim_start_matches('p')
        .parse()
        .expect("servers are named p1..p3");
    let survivor = old % 3 + 1;
    let (code, _, err) = cli_in(old, &["kv", "put"], &["partition/before", "1"]);
    assert_eq!(code, Some(0), "{err}");

    netns(&["cut", &old.to_string()]);
    let took = within_step("the others elect a new leader and take writes", || {
        cli_in(survivor, &["kv", "put"], &["partition/during", "2"]).0 == Some(0)
    });
    println!("writes resumed on p{survivor} {took:?} after cutting p{old} off");
    let new_leader = leader_seen_by(survivor).expect("the survivors know their leader");
    assert_ne!(new_leader, leader_name);
    let mut refusal = String::new();
    within_step("the cut-off old leader refuses writes", || {
        let (code, _, err) = cli_in(old, &["kv", "put"], &["partition/refused", "3"]);
        refusal = err;
        code == Some(1) && refusal.contains("No cluster leader")
    });
    println!("p{old} while cut off: {}", refusal.trim());

    netns(&["heal", &old.to_string()]);
    within_step("the old leader follows the new one", || {
        leader_seen_by(old).as_ref() == Some(&new_leader)
    });
    within_step("the old leader serves what was written meanwhile", || {
        let (code, out, _) = cli_in(old, &["kv", "get"], &["partition/during"]);
        code == Some(0) && out.trim() == "2"
    });
    let (code, _, err) = cli_in(old, &["kv", "put"], &["partition/after", "4"]);
    assert_eq!(code, Some(0), "{err}");
    let (code, out, _) = cli_in(survivor, &["kv", "get"], &["partition/refused"]);
    assert_eq!(
        (code, out.as_str()),
        (Some(1), ""),
        "the refused write never happened"
    );
}
