//! End to end: `synod agent` reads config files (merged in order, flags winning), refuses bad
//! ones with file, key and reason, bootstraps with `-bootstrap-expect 1`, and reports itself on
//! `/v1/agent/self`.

mod cli_support;

use std::io::BufReader;
use std::net::TcpStream;
use std::time::Duration;

use cli_support::{Agent, free_port, http, run_to_end, temp_dir};
use synod_runtime_smol::cli::http_client::read_response;

/// `GET target` on the HTTP API: (status, body).
fn get(port: u16, target: &str) -> (u16, String) {
    http(port, "GET", target, "")
}

#[test]
fn config_dir_files_merge_in_lexical_order_and_their_ports_are_used() {
    let dir = temp_dir("config-dir");
    let (http, server) = (free_port(), free_port());
    std::fs::write(
        dir.join("10-base.json"),
        format!(
            r#"{{"datacenter": "east", "node_name": "from-base",
                "ports": {{"http": {http}, "server": {server}, "dns": -1}}}}"#
        ),
    )
    .expect("write base");
    std::fs::write(
        dir.join("20-override.json"),
        r#"{"node_name": "from-override", "performance": {"raft_multiplier": 2}}"#,
    )
    .expect("write override");
    std::fs::write(dir.join("30-ignored.hcl"), "not json at all").expect("write hcl");

    let mut agent = Agent::start(&["-dev", &format!("-config-dir={}", dir.display())]);
    agent.wait_for("New leader elected", Duration::from_secs(10));
    agent.wait_for("Node name: 'from-override'", Duration::from_secs(1));
    agent.wait_for("Datacenter: 'east'", Duration::from_secs(1));
    agent.wait_for(
        &format!("Client Addr: [127.0.0.1] (HTTP: {http}, DNS: -1)"),
        Duration::from_secs(1),
    );
    agent.wait_for(
        &format!("Cluster Addr: 127.0.0.1 (Server RPC: {server})"),
        Duration::from_secs(1),
    );
    let (status, leader) = get(http, "/v1/status/leader");
    assert_eq!(status, 200);
    assert_eq!(leader, format!("\"127.0.0.1:{server}\""));
    let (status, _) = agent.terminate(Duration::from_secs(5));
    assert!(status.success(), "{status}");
}

#[test]
fn bad_config_files_are_refused_with_file_key_and_reason_and_exit_1() {
    let dir = temp_dir("config-bad");
    let typo = dir.join("a.json");
    std::fs::write(&typo, r#"{"prots": {"http": 8501}}"#).expect("write");
    let (status, stdout, stderr) =
        run_to_end(&["agent", "-dev", &format!("-config-file={}", typo.display())]);
    assert_eq!(status.code(), Some(1), "stdout:\n{stdout}");
    assert_eq!(
        stderr,
        format!(
            "==> Error parsing {}: unknown key \"prots\"\n",
            typo.display()
        )
    );

    let bad_value = dir.join("b.json");
    std::fs::write(&bad_value, r#"{"ports": {"http": "8500"}}"#).expect("write");
    let (status, _, stderr) =
        run_to_end(&["agent", "-dev", &format!("-config-dir={}", dir.display())]);
    assert_eq!(status.code(), Some(1));
    // a.json sorts first and is refused first.
    assert!(stderr.contains("a.json: unknown key \"prots\""), "{stderr}");
    std::fs::remove_file(&typo).expect("remove a.json");
    let (status, _, stderr) =
        run_to_end(&["agent", "-dev", &format!("-config-dir={}", dir.display())]);
    assert_eq!(status.code(), Some(1));
    assert_eq!(
        stderr,
        format!(
            "==> Error parsing {}: invalid value for \"ports.http\": expected an integer from -1 to 65535, got \"8500\"\n",
            bad_value.display()
        )
    );
}

#[test]
fn server_with_bootstrap_expect_1_elects_itself() {
    let dir = temp_dir("bootstrap-expect");
    let http = free_port();
    let mut agent = Agent::start(&[
        "-server",
        "-bootstrap-expect",
        "1",
        "-data-dir",
        &dir.display().to_string(),
        &format!("-http-port={http}"),
        &format!("-server-port={}", free_port()),
        "-dns-port=-1",
    ]);
    agent.wait_for("same as bootstrap mode", Duration::from_secs(5));
    agent.wait_for("New leader elected", Duration::from_secs(10));
    let (status, _) = agent.terminate(Duration::from_secs(5));
    assert!(status.success(), "{status}");
}

#[test]
fn join_to_an_address_nobody_answers_stops_the_agent() {
    let nobody = format!("127.0.0.1:{}", free_port());
    let agent = Agent::start(&[
        "-dev",
        &format!("-join={nobody}"),
        &format!("-http-port={}", free_port()),
        &format!("-server-port={}", free_port()),
        "-dns-port=-1",
    ]);
    let (status, lines) = agent.wait_exit(Duration::from_secs(15));
    assert_eq!(status.code(), Some(1), "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("Failed to join") && l.contains(&nobody)),
        "{lines:?}"
    );
}

#[test]
fn agent_self_reports_config_member_and_raft_stats() {
    let (http, server) = (free_port(), free_port());
    let uuid = "5f2a1c3e-7b8d-4e9f-a0b1-c2d3e4f5a6b7";
    let mut agent = Agent::start(&[
        "-dev",
        "-node=self-node",
        &format!("-node-id={uuid}"),
        "-datacenter=dc7",
        &format!("-http-port={http}"),
        &format!("-server-port={server}"),
        "-dns-port=-1",
    ]);
    agent.wait_for("New leader elected", Duration::from_secs(10));
    let (status, body) = get(http, "/v1/agent/self");
    assert_eq!(status, 200, "{body}");
    let info: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let config = &info["Config"];
    assert_eq!(config["Datacenter"], "dc7");
    assert_eq!(config["NodeName"], "self-node");
    assert_eq!(config["NodeID"], uuid);
    assert_eq!(config["Server"], true);
    assert!(config["Version"].as_str().is_some_and(|v| !v.is_empty()));
    assert!(config["Revision"].is_string());
    let member = &info["Member"];
    assert_eq!(member["Name"], "self-node");
    assert_eq!(member["Addr"], "127.0.0.1");
    assert_eq!(member["Status"], 1);
    assert_eq!(member["Tags"]["role"], "consul");
    assert_eq!(member["Tags"]["dc"], "dc7");
    assert_eq!(member["Tags"]["port"], server.to_string());
    assert_eq!(member["Tags"]["id"], uuid);
    let raft = &info["Stats"]["raft"];
    assert_eq!(raft["state"], "Leader");
    assert_eq!(raft["num_peers"], "0");
    assert_eq!(raft["last_contact"], "0");
    for number in ["term", "commit_index", "applied_index", "last_log_index"] {
        let text = raft[number].as_str().expect("a string stat");
        assert!(text.parse::<u64>().is_ok_and(|n| n > 0), "{number}={text}");
    }
    let runtime = &info["Stats"]["runtime"];
    assert_eq!(runtime["os"], std::env::consts::OS);
    assert!(runtime["arch"].is_string() && runtime["version"].is_string());
    let (status, _) = agent.terminate(Duration::from_secs(5));
    assert!(status.success(), "{status}");
}

#[test]
fn raft_configuration_and_peer_removal_endpoints_answer_like_consul() {
    let (http, server) = (free_port(), free_port());
    let uuid = "5f2a1c3e-7b8d-4e9f-a0b1-c2d3e4f5a6b7";
    let mut agent = Agent::start(&[
        "-dev",
        "-node=alpha",
        &format!("-node-id={uuid}"),
        &format!("-http-port={http}"),
        &format!("-server-port={server}"),
        "-dns-port=-1",
    ]);
    agent.wait_for("New leader elected", Duration::from_secs(10));
    let (status, body) = get(http, "/v1/operator/raft/configuration");
    assert_eq!(status, 200, "{body}");
    let index: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let index = index["Index"].as_u64().expect("an Index");
    assert_eq!(
        body,
        format!(
            r#"{{"Servers":[{{"ID":"{uuid}","Node":"alpha","Address":"127.0.0.1:{server}","Leader":true,"ProtocolVersion":"3","Voter":true}}],"Index":{index}}}"#
        )
    );
    let (status, body) = get(http, "/v1/operator/raft/peer?id=x");
    assert_eq!((status, body.as_str()), (405, "method GET not allowed"));
}

#[test]
fn connections_over_http_max_conns_per_client_get_429() {
    let dir = temp_dir("conn-limit");
    let http = free_port();
    let file = dir.join("limits.json");
    std::fs::write(
        &file,
        format!(r#"{{"limits": {{"http_max_conns_per_client": 2}}, "ports": {{"http": {http}, "dns": -1}}}}"#),
    )
    .expect("write");
    let mut agent = Agent::start(&[
        "-dev",
        &format!("-config-file={}", file.display()),
        &format!("-server-port={}", free_port()),
    ]);
    agent.wait_for("New leader elected", Duration::from_secs(10));
    let held: Vec<TcpStream> = (0..2)
        .map(|_| TcpStream::connect(("127.0.0.1", http)).expect("connect"))
        .collect();
    // Let the server account for both before the third arrives.
    std::thread::sleep(Duration::from_millis(200));
    let third = TcpStream::connect(("127.0.0.1", http)).expect("connect");
    third
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let refused = read_response(BufReader::new(third)).expect("a 429");
    assert_eq!(refused.status, 429);
    drop(held);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(get(http, "/v1/status/leader").0, 200);
}

#[test]
fn kv_max_value_size_from_a_config_file_limits_the_value_size() {
    let dir = temp_dir("kv-limit");
    let http = free_port();
    let file = dir.join("limits.json");
    std::fs::write(&file, r#"{"limits": {"kv_max_value_size": 8}}"#).expect("write");
    let mut agent = Agent::start(&[
        "-dev",
        &format!("-config-file={}", file.display()),
        &format!("-http-port={http}"),
        &format!("-server-port={}", free_port()),
        "-dns-port=-1",
    ]);
    agent.wait_for("New leader elected", Duration::from_secs(10));
    let addr = format!("-http-addr=127.0.0.1:{http}");
    let (status, out, _) = run_to_end(&["kv", "put", &addr, "small", "12345678"]);
    assert_eq!(
        (status.code(), out.as_str()),
        (Some(0), "Success! Data written to: small\n")
    );
    let (status, _, err) = run_to_end(&["kv", "put", &addr, "big", "123456789"]);
    assert_eq!(status.code(), Some(1));
    assert!(
        err.starts_with("Error! Failed writing data: Unexpected response code: 413 (Request body(9 bytes) too large, max size: 8 bytes."),
        "{err}"
    );
}
