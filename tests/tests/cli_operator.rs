//! End to end: `synod operator raft list-peers` / `remove-peer` and the HTTP endpoints behind
//! them, against a real dev agent.

mod cli_support;

use std::time::Duration;

use cli_support::{Agent, free_port, run_to_end};

const UUID: &str = "5f2a1c3e-7b8d-4e9f-a0b1-c2d3e4f5a6b7";

struct Dev {
    _agent: Agent,
    addr: String,
    server_port: u16,
}

fn dev_agent() -> Dev {
    let (http, server_port) = (free_port(), free_port());
    let mut agent = Agent::start(&[
        "-dev",
        "-node=alpha",
        &format!("-node-id={UUID}"),
        &format!("-http-port={http}"),
        &format!("-server-port={server_port}"),
        "-dns-port=-1",
    ]);
    agent.wait_for("New leader elected", Duration::from_secs(10));
    Dev {
        _agent: agent,
        addr: format!("-http-addr=127.0.0.1:{http}"),
        server_port,
    }
}

#[test]
fn list_peers_prints_consuls_columns() {
    let dev = dev_agent();
    let (status, out, err) = run_to_end(&["operator", "raft", "list-peers", &dev.addr]);
    assert_eq!(status.code(), Some(0), "{err}");
    let address = format!("127.0.0.1:{}", dev.server_port);
    let pad = " ".repeat(address.len() - "Address".len());
    assert_eq!(
        out,
        format!(
            "Node   ID                                    Address{pad}  State   Voter  RaftProtocol\n\
             alpha  {UUID}  {address}  leader  true   3\n"
        )
    );
}

#[test]
fn remove_peer_reports_unknown_peers_refusals_and_missing_arguments() {
    let dev = dev_agent();
    let remove = |args: &[&str]| {
        let mut all = vec!["operator", "raft", "remove-peer", dev.addr.as_str()];
        all.extend_from_slice(args);
        let (status, out, err) = run_to_end(&all);
        (status.code(), out, err)
    };
    assert_eq!(
        remove(&["-address=10.9.9.9:8300"]),
        (
            Some(1),
            String::new(),
            "Error removing peer: Unexpected response code: 500 (address \"10.9.9.9:8300\" was not found in the Raft configuration)\n".to_string()
        )
    );
    assert_eq!(
        remove(&["-id=00000000-0000-4000-8000-000000000000"]),
        (
            Some(1),
            String::new(),
            "Error removing peer: Unexpected response code: 500 (id \"00000000-0000-4000-8000-000000000000\" was not found in the Raft configuration)\n".to_string()
        )
    );
    // The request reaches the leader's Raft, which refuses to remove the last voter.
    assert_eq!(
        remove(&[&format!("-id={UUID}")]),
        (
            Some(1),
            String::new(),
            "Error removing peer: Unexpected response code: 500 (cannot remove the peer: cannot remove the last voter)\n".to_string()
        )
    );
    assert_eq!(
        remove(&[]),
        (
            Some(1),
            String::new(),
            "Error removing peer: an address or id is required for the peer to remove\n"
                .to_string()
        )
    );
    assert_eq!(
        remove(&["-id=x", "-address=y"]),
        (
            Some(1),
            String::new(),
            "Error removing peer: cannot give both an address and id\n".to_string()
        )
    );
    // The cluster is unchanged.
    let (_, out, _) = run_to_end(&["operator", "raft", "list-peers", &dev.addr]);
    assert!(out.contains("alpha  "), "{out}");
}
