//! `synod services register|deregister`, `synod maint` and `synod reload` against a stub agent
//! that records each request and answers from a script: the exact requests sent, Consul's
//! output texts and exit codes. (`cli_services_agent.rs` runs them against a real agent.)

mod cli_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use cli_support::{synod_binary, temp_dir};
use serde_json::{Value, json};

/// One request as the stub saw it.
#[derive(Debug, PartialEq)]
struct Seen {
    method: String,
    target: String,
    body: String,
}

/// An HTTP listener answering requests in order with `answers` (status, body), then closing.
struct StubAgent {
    addr: String,
    seen: mpsc::Receiver<Seen>,
}

impl StubAgent {
    fn answering(answers: &[(u16, &str)]) -> StubAgent {
        let answers: Vec<(u16, String)> = answers
            .iter()
            .map(|(status, body)| (*status, (*body).to_string()))
            .collect();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind stub agent");
        let addr = listener.local_addr().expect("stub addr").to_string();
        let (tx, seen) = mpsc::channel();
        thread::spawn(move || {
            for (status, body) in answers {
                let Ok((stream, _)) = listener.accept() else {
                    return;
                };
                stream
                    .set_read_timeout(Some(Duration::from_secs(10)))
                    .expect("read timeout");
                let mut reader = BufReader::new(stream);
                let mut request_line = String::new();
                reader.read_line(&mut request_line).expect("request line");
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).expect("header line");
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some((name, value)) = line.split_once(':')
                        && name.eq_ignore_ascii_case("content-length")
                    {
                        length = value.trim().parse().expect("content length");
                    }
                }
                let mut request_body = vec![0; length];
                reader.read_exact(&mut request_body).expect("body");
                let mut parts = request_line.split_whitespace();
                let _ = tx.send(Seen {
                    method: parts.next().unwrap_or_default().to_string(),
                    target: parts.next().unwrap_or_default().to_string(),
                    body: String::from_utf8_lossy(&request_body).into_owned(),
                });
                let reason = if status == 200 { "OK" } else { "Error" };
                let reply = format!(
                    "HTTP/1.1 {status} {reason}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let mut stream = reader.into_inner();
                stream.write_all(reply.as_bytes()).expect("reply");
            }
        });
        StubAgent { addr, seen }
    }

    /// Every request received so far.
    fn requests(&self) -> Vec<Seen> {
        self.seen.try_iter().collect()
    }
}

fn seen(method: &str, target: &str, body: &str) -> Seen {
    Seen {
        method: method.into(),
        target: target.into(),
        body: body.into(),
    }
}

/// `synod args...` talking to `addr`: (exit code, stdout, stderr).
fn synod(addr: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(synod_binary())
        .args(args)
        .env_remove("CONSUL_HTTP_ADDR")
        .env("SYNOD_HTTP_ADDR", addr)
        .output()
        .expect("run synod");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(out: &str) -> (i32, String, String) {
    (0, out.to_string(), String::new())
}

fn failed(err: &str) -> (i32, String, String) {
    (1, String::new(), err.to_string())
}

fn json_body(request: &Seen) -> Value {
    serde_json::from_str(&request.body).expect("a JSON body")
}

#[test]
fn register_by_flags_sends_the_service_and_prints_its_name() {
    let agent = StubAgent::answering(&[(200, "")]);
    assert_eq!(
        synod(
            &agent.addr,
            &[
                "services",
                "register",
                "-name=web",
                "-id=web-1",
                "-tag=rails",
                "-tag=v2",
                "-address=10.0.0.7",
                "-port=80",
                "-meta=team=payments",
            ]
        ),
        ok("Registered service: web\n")
    );
    let requests = agent.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        (requests[0].method.as_str(), requests[0].target.as_str()),
        ("PUT", "/v1/agent/service/register")
    );
    assert_eq!(
        json_body(&requests[0]),
        json!({"ID": "web-1", "Name": "web", "Tags": ["rails", "v2"], "Address": "10.0.0.7",
               "Port": 80, "Meta": {"team": "payments"}})
    );
}

#[test]
fn register_from_the_seed_file_sends_its_definition() {
    let dir = temp_dir("register-file");
    let web = dir.join("web.json");
    std::fs::write(
        &web,
        r#"{"service": {"name": "web", "tags": ["rails"], "port": 80}}"#,
    )
    .expect("write web.json");
    let agent = StubAgent::answering(&[(200, "")]);
    assert_eq!(
        synod(
            &agent.addr,
            &["services", "register", web.to_str().expect("utf-8 path")]
        ),
        ok("Registered service: web\n")
    );
    let requests = agent.requests();
    assert_eq!(
        json_body(&requests[0]),
        json!({"name": "web", "tags": ["rails"], "port": 80})
    );
}

#[test]
fn register_refuses_missing_or_conflicting_arguments_and_bad_files() {
    let agent = StubAgent::answering(&[]);
    assert_eq!(
        synod(&agent.addr, &["services", "register"]),
        failed("Service registration requires at least one argument or flags.\n")
    );
    assert_eq!(
        synod(
            &agent.addr,
            &["services", "register", "-name=web", "web.json"]
        ),
        failed("Service registration requires arguments or -id, not both.\n")
    );
    let dir = temp_dir("register-bad");
    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"service": {"name": "web", "port": 70000}}"#).expect("write");
    let (code, stdout, stderr) = synod(
        &agent.addr,
        &["services", "register", bad.to_str().expect("utf-8 path")],
    );
    assert_eq!((code, stdout.as_str()), (1, ""));
    assert!(
        stderr.starts_with(&format!(
            "Error: Error parsing {}: service.port: ",
            bad.display()
        )),
        "{stderr}"
    );
    let (code, _, stderr) = synod(
        &agent.addr,
        &["services", "register", "-name=web", "-port=x"],
    );
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with("invalid value \"x\" for flag -port"),
        "{stderr}"
    );
    assert_eq!(agent.requests(), vec![], "nothing was sent");
}

#[test]
fn a_refused_registration_prints_the_agents_answer_and_exits_1() {
    let agent = StubAgent::answering(&[(400, "Invalid Service Meta: too many keys\n")]);
    assert_eq!(
        synod(&agent.addr, &["services", "register", "-name=web"]),
        failed(
            "Error registering service \"web\": Unexpected response code: 400 (Invalid Service Meta: too many keys)\n"
        )
    );
}

#[test]
fn deregister_by_id_or_by_file() {
    let agent = StubAgent::answering(&[(200, ""), (200, ""), (200, "")]);
    assert_eq!(
        synod(&agent.addr, &["services", "deregister", "-id=web-1"]),
        ok("Deregistered service: web-1\n")
    );
    let dir = temp_dir("deregister-file");
    let file = dir.join("two.json");
    std::fs::write(
        &file,
        r#"{"services": [{"name": "web"}, {"name": "db", "id": "db-1"}]}"#,
    )
    .expect("write");
    assert_eq!(
        synod(
            &agent.addr,
            &["services", "deregister", file.to_str().expect("utf-8 path")]
        ),
        ok("Deregistered service: web\nDeregistered service: db-1\n")
    );
    assert_eq!(
        agent.requests(),
        vec![
            seen("PUT", "/v1/agent/service/deregister/web-1", ""),
            seen("PUT", "/v1/agent/service/deregister/web", ""),
            seen("PUT", "/v1/agent/service/deregister/db-1", ""),
        ]
    );
}

#[test]
fn deregister_refuses_missing_or_conflicting_arguments() {
    let agent = StubAgent::answering(&[]);
    assert_eq!(
        synod(&agent.addr, &["services", "deregister"]),
        failed("Service deregistration requires at least one argument or -id.\n")
    );
    assert_eq!(
        synod(
            &agent.addr,
            &["services", "deregister", "-id=web", "web.json"]
        ),
        failed("Service deregistration requires arguments or -id, not both.\n")
    );
}

#[test]
fn services_without_a_subcommand_prints_usage_and_exits_1() {
    let (code, stdout, stderr) = synod("127.0.0.1:1", &["services"]);
    assert_eq!((code, stdout.as_str()), (1, ""));
    assert!(
        stderr.starts_with("Usage: synod services <subcommand>"),
        "{stderr}"
    );
}

const AGENT_SELF: &str = r#"{"Config": {"NodeName": "node-a", "Datacenter": "dc1"}}"#;

#[test]
fn maint_enables_and_disables_node_and_service_maintenance() {
    let agent = StubAgent::answering(&[
        (200, AGENT_SELF),
        (200, ""),
        (200, AGENT_SELF),
        (200, ""),
        (200, AGENT_SELF),
        (200, ""),
    ]);
    assert_eq!(
        synod(&agent.addr, &["maint", "-enable", "-reason=kernel upgrade"]),
        ok("Node maintenance is now enabled\n")
    );
    assert_eq!(
        synod(&agent.addr, &["maint", "-enable", "-service=web"]),
        ok("Service maintenance is now enabled for \"web\"\n")
    );
    assert_eq!(
        synod(&agent.addr, &["maint", "-disable", "-service=web"]),
        ok("Service maintenance is now disabled for \"web\"\n")
    );
    assert_eq!(
        agent.requests(),
        vec![
            seen("GET", "/v1/agent/self", ""),
            seen(
                "PUT",
                "/v1/agent/maintenance?enable=true&reason=kernel+upgrade",
                ""
            ),
            seen("GET", "/v1/agent/self", ""),
            seen(
                "PUT",
                "/v1/agent/service/maintenance/web?enable=true&reason",
                ""
            ),
            seen("GET", "/v1/agent/self", ""),
            seen("PUT", "/v1/agent/service/maintenance/web?enable=false", ""),
        ]
    );
    let agent = StubAgent::answering(&[(200, AGENT_SELF), (200, "")]);
    assert_eq!(
        synod(&agent.addr, &["maint", "-disable"]),
        ok("Node maintenance is now disabled\n")
    );
}

#[test]
fn maint_without_flags_lists_what_is_in_maintenance() {
    let checks = r#"{
        "_node_maintenance": {"CheckID": "_node_maintenance", "ServiceID": "", "Notes": "kernel upgrade"},
        "_service_maintenance:web": {"CheckID": "_service_maintenance:web", "ServiceID": "web", "Notes": "deploy"},
        "service:web": {"CheckID": "service:web", "ServiceID": "web", "Notes": ""}
    }"#;
    let agent = StubAgent::answering(&[(200, AGENT_SELF), (200, checks)]);
    assert_eq!(
        synod(&agent.addr, &["maint"]),
        ok("Node:\n  Name:   node-a\n  Reason: kernel upgrade\n\n\
            Service:\n  ID:     web\n  Reason: deploy\n\n")
    );
    let targets: Vec<String> = agent.requests().into_iter().map(|r| r.target).collect();
    assert_eq!(targets, ["/v1/agent/self", "/v1/agent/checks"]);
    let quiet = StubAgent::answering(&[(200, AGENT_SELF), (200, "{}")]);
    assert_eq!(synod(&quiet.addr, &["maint"]), ok(""));
}

#[test]
fn maint_refuses_conflicting_flags_with_consuls_texts() {
    let agent = StubAgent::answering(&[]);
    let cases: [(&[&str], &str); 3] = [
        (
            &["maint", "-enable", "-disable"],
            "Only one of -enable or -disable may be provided\n",
        ),
        (
            &["maint", "-reason=x"],
            "Reason may only be provided with -enable\n",
        ),
        (
            &["maint", "-service=web"],
            "Service requires either -enable or -disable\n",
        ),
    ];
    for (args, message) in cases {
        assert_eq!(synod(&agent.addr, args), failed(message), "{args:?}");
    }
    assert_eq!(agent.requests(), vec![]);
}

#[test]
fn maint_reports_a_refused_change() {
    let agent = StubAgent::answering(&[
        (200, AGENT_SELF),
        (
            404,
            "Unknown service ID \"nope\". Ensure that the service ID is passed, not the service name.\n",
        ),
    ]);
    assert_eq!(
        synod(&agent.addr, &["maint", "-enable", "-service=nope"]),
        failed(
            "Error enabling service maintenance: Unexpected response code: 404 (Unknown service ID \"nope\". Ensure that the service ID is passed, not the service name.)\n"
        )
    );
}

#[test]
fn reload_prints_consuls_texts_and_exit_codes() {
    let agent = StubAgent::answering(&[
        (200, ""),
        (
            500,
            "Error parsing /etc/synod.d/web.json: service.port: expected a number\n",
        ),
    ]);
    assert_eq!(
        synod(&agent.addr, &["reload"]),
        ok("Configuration reload triggered\n")
    );
    assert_eq!(
        synod(&agent.addr, &["reload"]),
        failed(
            "Error reloading: Unexpected response code: 500 (Error parsing /etc/synod.d/web.json: service.port: expected a number)\n"
        )
    );
    assert_eq!(
        agent.requests(),
        vec![
            seen("PUT", "/v1/agent/reload", ""),
            seen("PUT", "/v1/agent/reload", ""),
        ]
    );
    let (code, _, stderr) = synod(&agent.addr, &["reload", "extra"]);
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with("The reload command does not take any arguments."),
        "{stderr}"
    );
}
