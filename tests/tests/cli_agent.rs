//! `synod agent` end to end: a dev agent elects itself and exits cleanly on SIGTERM; a server
//! with a data dir restarts with its term and log.

mod cli_support;

use std::time::Duration;

use cli_support::{Agent, free_port, temp_dir};

fn port_flags() -> Vec<String> {
    vec![
        format!("-server-port={}", free_port()),
        format!("-http-port={}", free_port()),
        format!("-dns-port={}", free_port()),
    ]
}

fn as_strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// The number after `key=` in `line`.
fn field(line: &str, key: &str) -> u64 {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {key}= in {line:?}"))
}

#[test]
fn dev_agent_prints_the_banner_elects_itself_and_exits_0_on_sigterm() {
    let mut args = vec!["-dev".to_string(), "-node=dev-node".to_string()];
    args.extend(port_flags());
    let mut agent = Agent::start(&as_strs(&args));
    agent.wait_for("==> Starting synod agent...", Duration::from_secs(5));
    let name = agent.wait_for("Node name:", Duration::from_secs(1));
    assert!(name.contains("'dev-node'"), "{name}");
    agent.wait_for("Server: true (Bootstrap: true)", Duration::from_secs(1));
    agent.wait_for(
        "==> Log data will now stream in as it occurs:",
        Duration::from_secs(1),
    );
    let elected = agent.wait_for("New leader elected", Duration::from_secs(2));
    assert!(elected.contains("[INFO]  agent.server: "), "{elected}");

    let (status, output) = agent.terminate(Duration::from_secs(5));
    assert_eq!(status.code(), Some(0), "output:\n{}", output.join("\n"));
    assert!(
        output
            .iter()
            .any(|l| l.contains("Caught signal: terminated"))
    );
}

#[test]
fn dev_agent_exits_0_on_sigint() {
    let mut args = vec!["-dev".to_string()];
    args.extend(port_flags());
    let mut agent = Agent::start(&as_strs(&args));
    agent.wait_for("New leader elected", Duration::from_secs(5));
    let (status, output) = agent.signal("-INT", Duration::from_secs(5));
    assert_eq!(status.code(), Some(0), "output:\n{}", output.join("\n"));
    assert!(
        output
            .iter()
            .any(|l| l.contains("Caught signal: interrupt"))
    );
}

#[test]
fn server_restarts_from_its_data_dir_with_its_term_and_log() {
    let dir = temp_dir("restart");
    let dir_flag = format!("-data-dir={}", dir.display());
    let mut args = vec![
        "-server".to_string(),
        "-bootstrap".to_string(),
        dir_flag,
        "-node=solo".to_string(),
    ];
    args.extend(port_flags());

    let mut first = Agent::start(&as_strs(&args));
    let elected = first.wait_for("New leader elected", Duration::from_secs(10));
    let first_term = field(&elected, "term");
    let (status, _) = first.terminate(Duration::from_secs(5));
    assert_eq!(status.code(), Some(0));
    let node_id = std::fs::read_to_string(dir.join("node-id")).expect("node-id persisted");

    let mut second = Agent::start(&as_strs(&args));
    let restored = second.wait_for("restored from disk", Duration::from_secs(10));
    assert!(field(&restored, "term") >= first_term, "{restored}");
    assert!(field(&restored, "entries") >= 1, "{restored}");
    let banner_id = second.wait_for("Node ID:", Duration::from_secs(1));
    assert!(banner_id.contains(node_id.trim()), "{banner_id}");
    let reelected = second.wait_for("New leader elected", Duration::from_secs(10));
    assert!(field(&reelected, "term") > first_term, "{reelected}");
    let (status, _) = second.terminate(Duration::from_secs(5));
    assert_eq!(status.code(), Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn second_agent_on_the_same_data_dir_refuses_to_start() {
    let dir = temp_dir("locked");
    let dir_flag = format!("-data-dir={}", dir.display());
    let mut args = vec!["-server".to_string(), "-bootstrap".to_string(), dir_flag];
    args.extend(port_flags());
    let mut first = Agent::start(&as_strs(&args));
    first.wait_for("New leader elected", Duration::from_secs(10));

    let mut second_args = args.clone();
    second_args.extend(port_flags());
    let mut second = Agent::start(&as_strs(&second_args));
    let refusal = second.wait_for("another synod process", Duration::from_secs(10));
    assert!(refusal.starts_with("stderr: ==> "), "{refusal}");
    let (status, _) = second.wait_exit(Duration::from_secs(5));
    assert_eq!(status.code(), Some(1));

    let (status, _) = first.terminate(Duration::from_secs(5));
    assert_eq!(status.code(), Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}
