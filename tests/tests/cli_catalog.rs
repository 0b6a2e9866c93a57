//! `synod catalog datacenters | nodes | services` against a real server agent, with Consul's
//! output and exit codes.

mod cli_support;

use std::process::ExitStatus;
use std::thread;
use std::time::{Duration, Instant};

use cli_support::{Agent, free_port, http, run_to_end};

const NODE_ID: &str = "1b662d97-8b5c-3cc2-0ac0-96f55ad423b5";

/// A `-dev` server on free ports, its own node in the catalog, plus node `worker-01` with
/// services `redis` (tags primary, v1) and `web` registered through the catalog API.
fn agent_with_services() -> (Agent, u16) {
    let http_port = free_port();
    let args = [
        "-dev".to_owned(),
        "-node=dev1".to_owned(),
        format!("-http-port={http_port}"),
        format!("-server-port={}", free_port()),
        "-dns-port=-1".to_owned(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut agent = Agent::start(&args);
    agent.wait_for("New leader elected", Duration::from_secs(15));
    for body in [
        format!(
            r#"{{"Node":"worker-01","ID":"{NODE_ID}","Address":"10.4.5.31",
                "TaggedAddresses":{{"lan":"10.4.5.31","wan":"10.4.5.31"}},"NodeMeta":{{"rack":"r1"}},
                "Service":{{"Service":"redis","Tags":["v1","primary"],"Port":6379}}}}"#
        ),
        r#"{"Node":"worker-01","Address":"10.4.5.31","SkipNodeUpdate":true,
            "Service":{"Service":"web","Port":80}}"#
            .to_owned(),
    ] {
        let (status, answer) = http(http_port, "PUT", "/v1/catalog/register", &body);
        assert_eq!((status, answer.as_str()), (200, "true"));
    }
    // The leader's own node (with the consul service) arrives through reconciliation.
    let start = Instant::now();
    while !http(http_port, "GET", "/v1/catalog/services", "")
        .1
        .contains("consul")
    {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no consul service"
        );
        thread::sleep(Duration::from_millis(100));
    }
    (agent, http_port)
}

fn catalog(port: u16, args: &[&str]) -> (ExitStatus, String, String) {
    let flag = format!("-http-addr=127.0.0.1:{port}");
    let mut all = vec!["catalog"];
    all.extend_from_slice(args);
    all.push(&flag);
    run_to_end(&all)
}

#[test]
fn catalog_commands_print_consuls_tables_and_lists() {
    let (_agent, port) = agent_with_services();

    let (status, out, err) = catalog(port, &["datacenters"]);
    assert!(status.success(), "{err}");
    assert_eq!(out, "dc1\n");

    let (status, out, err) = catalog(port, &["nodes", "-service=redis"]);
    assert!(status.success(), "{err}");
    assert_eq!(
        out,
        "Node       ID        Address    DC\nworker-01  1b662d97  10.4.5.31  dc1\n"
    );

    let (status, out, err) = catalog(port, &["nodes", "-detailed", "-node-meta=rack=r1"]);
    assert!(status.success(), "{err}");
    assert_eq!(
        out,
        "Node       ID                                    Address    DC   TaggedAddresses               Meta\n\
         worker-01  1b662d97-8b5c-3cc2-0ac0-96f55ad423b5  10.4.5.31  dc1  lan=10.4.5.31, wan=10.4.5.31  rack=r1\n"
    );

    let (status, out, err) = catalog(port, &["nodes"]);
    assert!(status.success(), "{err}");
    let names: Vec<&str> = out
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(names, ["dev1", "worker-01"]);

    let (status, out, err) = catalog(port, &["services"]);
    assert!(status.success(), "{err}");
    assert_eq!(out, "consul\nredis\nweb\n");

    let (status, out, err) = catalog(port, &["services", "-tags"]);
    assert!(status.success(), "{err}");
    assert_eq!(
        out, "consul      \nredis       primary,v1\nweb\n",
        "tabwriter pads the name column to the longest name plus six"
    );

    let (status, out, err) = catalog(port, &["services", "-node=worker-01", "-tags"]);
    assert!(status.success(), "{err}");
    assert_eq!(out, "redis      primary,v1\nweb\n");
}

#[test]
fn no_match_is_reported_on_stderr_with_status_zero_and_bad_usage_is_one() {
    let (_agent, port) = agent_with_services();

    let (status, out, err) = catalog(port, &["nodes", "-service=nope"]);
    assert_eq!((status.code(), out.as_str()), (Some(0), ""));
    assert_eq!(
        err,
        "No nodes match the given query - try expanding your search.\n"
    );
    let (status, _, err) = catalog(port, &["services", "-node=nope"]);
    assert_eq!(status.code(), Some(0));
    assert_eq!(
        err,
        "No services match the given query - try expanding your search.\n"
    );

    // Flags end at the first argument, as with Go's flag package: put the address first.
    let flag = format!("-http-addr=127.0.0.1:{port}");
    let (status, _, err) = run_to_end(&["catalog", "nodes", &flag, "extra"]);
    assert_eq!(status.code(), Some(1));
    assert_eq!(err, "Too many arguments (expected 0, got 1)\n");
    let (status, _, err) = catalog(port, &["services", "-node-meta=rack"]);
    assert_eq!(status.code(), Some(1));
    assert!(
        err.starts_with("Missing \"=\" value in argument: rack"),
        "{err}"
    );
    let (status, _, err) = run_to_end(&["catalog", "bogus"]);
    assert_eq!(status.code(), Some(1));
    assert!(err.starts_with("Unknown subcommand: \"bogus\""), "{err}");

    let dead = format!("-http-addr=127.0.0.1:{}", free_port());
    let (status, _, err) = run_to_end(&["catalog", "nodes", &dead]);
    assert_eq!(status.code(), Some(1));
    assert!(err.starts_with("Error listing nodes: "), "{err}");
}
