//! End to end: the real `synod` binary serving Consul's KV API, in memory (`-dev`) and on disk.

mod cli_support;

use std::time::Duration;

use cli_support::{Agent, free_port, http_exchange as http, temp_dir};

struct Ports {
    http: u16,
    server: u16,
    dns: u16,
}

impl Ports {
    fn free() -> Ports {
        Ports {
            http: free_port(),
            server: free_port(),
            dns: free_port(),
        }
    }

    fn args(&self) -> Vec<String> {
        vec![
            format!("-http-port={}", self.http),
            format!("-server-port={}", self.server),
            format!("-dns-port={}", self.dns),
        ]
    }
}

fn start(extra: &[&str], ports: &Ports) -> Agent {
    let mut args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    args.extend(ports.args());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut agent = Agent::start(&args);
    agent.wait_for("New leader elected", Duration::from_secs(10));
    agent
}

#[test]
fn dev_agent_serves_the_seed_notes_kv_walkthrough() {
    let ports = Ports::free();
    let agent = start(&["-dev"], &ports);
    let p = ports.http;

    assert_eq!(http(p, "PUT", "/v1/kv/web/key1", "v1").2, "true");
    assert_eq!(http(p, "PUT", "/v1/kv/web/key2?flags=42", "test").2, "true");
    assert_eq!(http(p, "PUT", "/v1/kv/web/sub/key3", "x").2, "true");

    let (status, head, body) = http(p, "GET", "/v1/kv/web/key2", "");
    assert_eq!(status, 200);
    assert!(head.contains("X-Consul-Index: "), "{head}");
    assert!(head.contains("X-Consul-Knownleader: true"), "{head}");
    let index = body
        .split("\"ModifyIndex\":")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse::<u64>().ok())
        .expect("a ModifyIndex");
    assert_eq!(
        body,
        format!(
            "[{{\"LockIndex\":0,\"Key\":\"web/key2\",\"Flags\":42,\"Value\":\"dGVzdA==\",\"CreateIndex\":{index},\"ModifyIndex\":{index}}}]"
        )
    );

    // CAS with a stale index fails; with the current one it succeeds.
    assert_eq!(http(p, "PUT", "/v1/kv/web/key2?cas=1", "nope").2, "false");
    let cas = format!("/v1/kv/web/key2?cas={index}");
    assert_eq!(http(p, "PUT", &cas, "newval").2, "true");
    assert_eq!(http(p, "GET", "/v1/kv/web/key2?raw", "").2, "newval");

    assert_eq!(
        http(p, "GET", "/v1/kv/web/?keys&separator=/", "").2,
        r#"["web/key1","web/key2","web/sub/"]"#
    );
    assert_eq!(http(p, "DELETE", "/v1/kv/web/sub?recurse", "").2, "true");
    assert_eq!(http(p, "GET", "/v1/kv/web/sub/key3", "").0, 404);

    let (status, _, leader) = http(p, "GET", "/v1/status/leader", "");
    assert_eq!(status, 200);
    assert_eq!(leader, format!("\"127.0.0.1:{}\"", ports.server));

    let (status, _) = agent.terminate(Duration::from_secs(5));
    assert!(status.success(), "{status}");
}

#[test]
fn acknowledged_writes_survive_kill_9_and_restart() {
    let dir = temp_dir("kill9");
    let data_dir = format!("-data-dir={}", dir.display());
    let ports = Ports::free();
    let agent = start(&["-server", "-bootstrap", &data_dir], &ports);
    for i in 0..50 {
        let path = format!("/v1/kv/durable/{i:02}");
        assert_eq!(
            http(ports.http, "PUT", &path, &format!("value-{i}")).2,
            "true"
        );
    }
    // SIGKILL: no graceful shutdown, nothing flushed on the way out.
    agent.kill_hard();

    let ports = Ports::free();
    let agent = start(&["-server", &data_dir], &ports);
    let keys = http(ports.http, "GET", "/v1/kv/durable/?keys", "").2;
    let expected: Vec<String> = (0..50).map(|i| format!("\"durable/{i:02}\"")).collect();
    assert_eq!(keys, format!("[{}]", expected.join(",")));
    assert_eq!(
        http(ports.http, "GET", "/v1/kv/durable/49?raw", "").2,
        "value-49"
    );
    let (status, _) = agent.terminate(Duration::from_secs(5));
    assert!(status.success(), "{status}");
    let _ = std::fs::remove_dir_all(dir);
}
