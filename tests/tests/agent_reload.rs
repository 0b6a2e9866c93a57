//! End to end: config-file service definitions are validated at start (file, key, reason), and
//! `synod reload`, `PUT /v1/agent/reload` and SIGHUP re-read them: additions, changes and
//! removals are applied, an invalid file refuses the reload and keeps what was running.
//!
//! What the agent does with the definitions shows in its log here; `agent_reload_catalog.rs`
//! checks the same walkthrough against `/v1/agent/services` and `/v1/catalog/service/web`.

mod cli_support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use cli_support::{Agent, free_port, http, run_to_end, synod_binary, temp_dir};

const WEB: &str = r#"{"service": {"name": "web", "tags": ["rails"], "port": 80}}"#;

/// A dev agent reading `dir`; its HTTP port.
fn agent_with_config_dir(dir: &Path) -> (Agent, u16) {
    let http = free_port();
    let mut agent = Agent::start(&[
        "-dev",
        &format!("-config-dir={}", dir.display()),
        &format!("-http-port={http}"),
        &format!("-server-port={}", free_port()),
        "-dns-port=-1",
    ]);
    agent.wait_for("New leader elected", Duration::from_secs(10));
    (agent, http)
}

/// `synod reload` against `http`: (exit code, stdout, stderr).
fn synod_reload(http: u16) -> (i32, String, String) {
    let out = Command::new(synod_binary())
        .args(["reload", &format!("-http-addr=127.0.0.1:{http}")])
        .env_remove("CONSUL_HTTP_ADDR")
        .env_remove("SYNOD_HTTP_ADDR")
        .output()
        .expect("run synod reload");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write(dir: &Path, file: &str, text: &str) {
    std::fs::write(dir.join(file), text).expect("write config file");
}

#[test]
fn the_seed_walkthrough_config_dir_is_accepted_and_reload_answers_200() {
    let dir = temp_dir("seed");
    write(&dir, "web.json", WEB);
    let (mut agent, http_port) = agent_with_config_dir(&dir);
    agent.wait_for(
        "agent: config definitions: services=[web] checks=[]",
        Duration::from_secs(1),
    );
    assert_eq!(
        http(http_port, "PUT", "/v1/agent/reload", ""),
        (200, String::new())
    );
    agent.wait_for(
        "config reloaded: added=[] changed=[] removed=[]",
        Duration::from_secs(5),
    );
    let (status, body) = http(http_port, "GET", "/v1/agent/reload", "");
    assert_eq!(
        (status, body.as_str()),
        (405, "method GET not allowed"),
        "reload is PUT only"
    );
    let (status, _) = agent.terminate(Duration::from_secs(5));
    assert!(status.success(), "{status}");
}

#[test]
fn synod_reload_adds_changes_and_removes_services_and_applies_the_log_level() {
    let dir = temp_dir("apply");
    write(&dir, "web.json", WEB);
    write(
        &dir,
        "db.json",
        r#"{"service": {"name": "db", "port": 5432}}"#,
    );
    write(&dir, "agent.json", r#"{"log_level": "info"}"#);
    let (mut agent, http_port) = agent_with_config_dir(&dir);
    agent.wait_for(
        "config definitions: services=[db,web] checks=[]",
        Duration::from_secs(1),
    );

    write(
        &dir,
        "web.json",
        r#"{"service": {"name": "web", "tags": ["rails"], "port": 8080}}"#,
    );
    std::fs::remove_file(dir.join("db.json")).expect("remove db.json");
    write(
        &dir,
        "api.json",
        r#"{"service": {"name": "api", "port": 9000, "check": {"ttl": "30s"}}}"#,
    );
    write(&dir, "agent.json", r#"{"log_level": "debug"}"#);
    assert_eq!(
        synod_reload(http_port),
        (
            0,
            "Configuration reload triggered\n".to_string(),
            String::new()
        )
    );
    agent.wait_for(
        "config reloaded: added=[api] changed=[web] removed=[db]",
        Duration::from_secs(5),
    );
    agent.wait_for("log level changed: log_level=Debug", Duration::from_secs(1));
    let (status, _) = agent.terminate(Duration::from_secs(5));
    assert!(status.success(), "{status}");
}

#[test]
fn an_invalid_file_refuses_the_reload_with_file_key_and_reason_and_keeps_the_running_definitions() {
    let dir = temp_dir("refuse");
    write(&dir, "web.json", WEB);
    let (mut agent, http_port) = agent_with_config_dir(&dir);
    agent.wait_for("services=[web]", Duration::from_secs(1));

    let bad = dir.join("web.json");
    write(
        &dir,
        "web.json",
        r#"{"service": {"name": "web", "port": "eighty"}}"#,
    );
    let (status, body) = http(http_port, "PUT", "/v1/agent/reload", "");
    assert_eq!(status, 500);
    let reason = format!("Error parsing {}: service.port: ", bad.display());
    assert!(body.starts_with(&reason), "{body}");
    let (code, stdout, stderr) = synod_reload(http_port);
    assert_eq!((code, stdout.as_str()), (1, ""));
    assert!(
        stderr.starts_with(&format!(
            "Error reloading: Unexpected response code: 500 ({reason}"
        )),
        "{stderr}"
    );
    agent.wait_for(
        "Failed to reload configs: Error parsing",
        Duration::from_secs(1),
    );

    // Back to the original file: nothing differs from what kept running.
    write(&dir, "web.json", WEB);
    assert_eq!(synod_reload(http_port).0, 0);
    agent.wait_for(
        "config reloaded: added=[] changed=[] removed=[]",
        Duration::from_secs(5),
    );
    let (status, _) = agent.terminate(Duration::from_secs(5));
    assert!(status.success(), "{status}");
}

#[test]
fn sighup_reloads_the_config_and_the_agent_keeps_running() {
    let dir = temp_dir("sighup");
    write(&dir, "web.json", WEB);
    let (mut agent, http_port) = agent_with_config_dir(&dir);
    agent.wait_for("services=[web]", Duration::from_secs(1));
    write(&dir, "api.json", r#"{"service": {"name": "api"}}"#);
    let hup = Command::new("kill")
        .args(["-HUP", &agent.pid().to_string()])
        .status()
        .expect("run kill");
    assert!(hup.success());
    agent.wait_for("Caught signal: hangup", Duration::from_secs(5));
    agent.wait_for(
        "config reloaded: added=[api] changed=[] removed=[]",
        Duration::from_secs(5),
    );
    let (status, _) = http(http_port, "GET", "/v1/status/leader", "");
    assert_eq!(status, 200, "still serving after SIGHUP");
    let (status, _) = agent.terminate(Duration::from_secs(5));
    assert!(status.success(), "{status}");
}

#[test]
fn bad_definitions_at_start_are_refused_with_file_key_and_reason() {
    let dir = temp_dir("start-bad");
    let web = dir.join("web.json");
    std::fs::write(&web, r#"{"service": {"name": "web", "prot": 80}}"#).expect("write");
    let (status, stdout, stderr) =
        run_to_end(&["agent", "-dev", &format!("-config-dir={}", dir.display())]);
    assert_eq!(status.code(), Some(1), "stdout:\n{stdout}");
    assert_eq!(
        stderr,
        format!(
            "==> Error parsing {}: service.prot: unknown key\n",
            web.display()
        )
    );

    std::fs::write(
        &web,
        r#"{"service": {"name": "web", "check": {"args": ["/bin/true"], "interval": "10s"}}}"#,
    )
    .expect("write");
    let (status, _, stderr) =
        run_to_end(&["agent", "-dev", &format!("-config-dir={}", dir.display())]);
    assert_eq!(status.code(), Some(1));
    assert_eq!(
        stderr,
        format!(
            "==> Error parsing {}: service \"web\" check \"service:web\": scripts are disabled \
             on this agent; to enable, configure 'enable_script_checks' or \
             'enable_local_script_checks' to true\n",
            web.display()
        )
    );
}

#[test]
fn local_script_checks_in_config_files_start_with_enable_local_script_checks() {
    let dir = temp_dir("start-scripts");
    write(
        &dir,
        "web.json",
        r#"{"service": {"name": "web", "check": {"args": ["/bin/true"], "interval": "10s"}}}"#,
    );
    let http_port = free_port();
    let mut agent = Agent::start(&[
        "-dev",
        "-enable-local-script-checks",
        &format!("-config-dir={}", dir.display()),
        &format!("-http-port={http_port}"),
        &format!("-server-port={}", free_port()),
        "-dns-port=-1",
    ]);
    agent.wait_for(
        "config definitions: services=[web] checks=[]",
        Duration::from_secs(10),
    );
    let (status, _) = agent.terminate(Duration::from_secs(5));
    assert!(status.success(), "{status}");
}
