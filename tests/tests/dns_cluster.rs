//! End to end on three real servers: every server answers DNS from its own applied state
//! (followers included), NS at the apex and `consul.service` name the servers, and a health
//! change written through one server shows on the others' DNS.

mod cli_support;
mod dns_support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use cli_support::{Agent, free_port, http, temp_dir};
use dns_support::{lines, parse, query, udp};
use simple_dns::{RCODE, TYPE};

struct Server {
    _agent: Agent,
    http: u16,
    dns: u16,
    _dir: PathBuf,
}

fn start(name: &str, serf: u16, join: u16) -> Server {
    let (http, dns) = (free_port(), free_port());
    let dir = temp_dir(&format!("dns-{name}"));
    let args = [
        "-server".to_owned(),
        format!("-node={name}"),
        "-bind=127.0.0.1".to_owned(),
        format!("-data-dir={}", dir.display()),
        format!("-http-port={http}"),
        format!("-dns-port={dns}"),
        format!("-server-port={}", free_port()),
        format!("-serf-lan-port={serf}"),
        "-bootstrap-expect=3".to_owned(),
        format!("-retry-join=127.0.0.1:{join}"),
        "-retry-interval=1s".to_owned(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut agent = Agent::start(&args);
    agent.wait_for("DNS server listening on", Duration::from_secs(20));
    Server {
        _agent: agent,
        http,
        dns,
        _dir: dir,
    }
}

/// Asks `port` until `accept` holds for the reply; panics after `limit`.
fn until(port: u16, q: &[u8], limit: Duration, accept: impl Fn(&[String], RCODE) -> bool) {
    let start = Instant::now();
    loop {
        let bytes = udp(port, q);
        let reply = parse(&bytes);
        let answers = lines(&reply.answers);
        if accept(&answers, reply.rcode()) {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "port {port}: no acceptable answer within {limit:?}; last {:?} {answers:?}",
            reply.rcode()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Registers (or re-registers) `web` on node `ext` with its check in `status` through `port`,
/// retrying while the cluster has no leader yet.
fn register_web(port: u16, status: &str) {
    let body = format!(
        r#"{{"Node":"ext","Address":"10.0.0.1","Service":{{"ID":"web","Service":"web","Port":80}},
            "Check":{{"CheckID":"web-up","Name":"web up","Status":"{status}","ServiceID":"web"}}}}"#
    );
    let start = Instant::now();
    loop {
        let (code, answer) = http(port, "PUT", "/v1/catalog/register", &body);
        if (code, answer.as_str()) == (200, "true") {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "register: {code} {answer}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn every_server_answers_from_its_own_state_and_names_the_servers() {
    let serf: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let servers: Vec<Server> = (0..3)
        .map(|i| start(&format!("d{i}"), serf[i], serf[(i + 1) % 3]))
        .collect();
    let limit = Duration::from_secs(30);
    register_web(servers[1].http, "passing");
    let web = query("web.service.consul", TYPE::A, None);
    for s in &servers {
        until(s.dns, &web, limit, |answers, _| {
            answers == ["web.service.consul. 0 A 10.0.0.1"]
        });
    }
    // The leader registers each server's `consul` service: they are the NS records.
    let ns = query("consul", TYPE::NS, None);
    let consul = query("consul.service.consul", TYPE::SRV, None);
    for s in &servers {
        until(s.dns, &ns, limit, |answers, rcode| {
            rcode == RCODE::NoError && answers.len() == 3
        });
        until(s.dns, &consul, limit, |answers, _| answers.len() == 3);
    }
    // A health change written through one server reaches every server's DNS: no healthy
    // instance left is NXDOMAIN, as in Consul.
    register_web(servers[2].http, "critical");
    for s in &servers {
        until(s.dns, &web, limit, |answers, rcode| {
            rcode == RCODE::NameError && answers.is_empty()
        });
    }
}
