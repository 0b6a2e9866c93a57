//! End to end: servers of two datacenters federating over WAN gossip — `-join-wan`,
//! `synod join -wan`, `synod members -wan`, `GET /v1/agent/members?wan=1`, and the answers of
//! a server whose WAN pool is disabled.

mod cli_support;

use std::time::Duration;

use cli_support::cluster::{Server, eventually};
use cli_support::http;

fn wan_names(server: &Server) -> Vec<String> {
    server
        .wan_member_statuses()
        .into_iter()
        .filter(|(_, status)| status == "alive")
        .map(|(name, _)| name)
        .collect()
}

#[test]
fn servers_of_two_datacenters_federate_over_wan_gossip() {
    let east = Server::start("east1", &["-datacenter=east".to_owned()]);
    let west = Server::start(
        "west1",
        &[
            "-datacenter=west".to_owned(),
            format!("-join-wan={}", east.wan_addr()),
        ],
    );
    for server in [&east, &west] {
        eventually(Duration::from_secs(15), "both WAN members alive", || {
            wan_names(server) == ["east1.east", "west1.west"]
        });
    }
    // The LAN pools stay per datacenter.
    assert_eq!(east.member_statuses().len(), 1);
    assert_eq!(west.member_statuses().len(), 1);

    let (code, out, err) = west.cli(&["members"], &["-wan"]);
    assert_eq!(code, Some(0), "{err}");
    let row = out
        .lines()
        .find(|l| l.starts_with("east1.east"))
        .expect("east listed");
    let columns: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        columns[1..],
        [
            east.wan_addr().as_str(),
            "alive",
            "server",
            env!("CARGO_PKG_VERSION"),
            "2",
            "east",
            "default",
            "<all>"
        ]
    );

    let (status, body) = http(west.http, "GET", "/v1/agent/members?wan=1", "");
    assert_eq!(status, 200, "{body}");
    let members: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let east_entry = members
        .as_array()
        .expect("a list")
        .iter()
        .find(|m| m["Name"] == "east1.east")
        .expect("east listed");
    assert_eq!(east_entry["Port"], east.wan);
    assert_eq!(east_entry["Tags"]["dc"], "east");
    assert_eq!(east_entry["Tags"]["role"], "consul");
    assert_eq!(east_entry["Tags"]["port"], east.rpc.to_string());

    // A second west server joins through `synod join -wan`.
    let west2 = Server::start("west2", &["-datacenter=west".to_owned()]);
    let (code, out, err) = west2.cli(&["join"], &["-wan", &east.wan_addr()]);
    assert_eq!(
        (code, out.as_str()),
        (
            Some(0),
            "Successfully joined cluster by contacting 1 nodes.\n"
        ),
        "{err}"
    );
    eventually(Duration::from_secs(15), "three WAN members", || {
        wan_names(&west) == ["east1.east", "west1.west", "west2.west"]
    });
}

#[test]
fn a_server_without_a_wan_pool_answers_like_consul() {
    let lan_only = Server::start("lan-only", &["-serf-wan-port=-1".to_owned()]);
    let peer = Server::start("wan-peer", &[]);
    let (code, out, err) = lan_only.cli(&["join"], &["-wan", &peer.wan_addr()]);
    assert_eq!((code, out.as_str()), (Some(1), ""), "{err}");
    assert!(err.contains("WAN Federation is disabled"), "{err}");
    let (status, body) = http(lan_only.http, "GET", "/v1/agent/members?wan=1", "");
    assert_eq!((status, body.trim()), (200, "[]"));
    let (code, _, _) = lan_only.cli(&["members"], &["-wan"]);
    assert_eq!(code, Some(2), "no WAN member: Consul's exit status 2");
    let (status, body) = http(
        lan_only.http,
        "PUT",
        "/v1/agent/force-leave/x.dc1?wan=1",
        "",
    );
    assert_eq!((status, body.trim()), (500, "WAN Federation is disabled"));
}
