//! End to end: real `synod` agents on loopback forming a cluster through LAN gossip — joining,
//! `synod members`, failure detection, graceful leave, `-bootstrap-expect` and later servers.

mod cli_support;

use std::thread;
use std::time::Duration;

use cli_support::cluster::{FAILURE_DETECTION_LIMIT, Server, eventually, status_of};
use cli_support::{Agent, free_port, http, run_to_end};

#[test]
fn five_agents_join_detect_a_killed_one_as_failed_and_a_leaver_as_left() {
    let first = Server::start("m1", &[]);
    let mut servers = vec![first];
    for i in 2..=5 {
        let join = format!("-join={}", servers[0].serf_addr());
        servers.push(Server::start(&format!("m{i}"), &[join]));
    }
    for server in &servers {
        eventually(Duration::from_secs(15), "all five alive", || {
            let statuses = server.member_statuses();
            statuses.len() == 5 && statuses.iter().all(|(_, s)| s == "alive")
        });
    }
    let (code, out, err) = servers[0].cli(&["members"], &["-status=alive"]);
    assert_eq!(code, Some(0), "{err}");
    let header = out.lines().next().expect("a header");
    let columns: Vec<&str> = header.split_whitespace().collect();
    assert_eq!(
        columns,
        [
            "Node",
            "Address",
            "Status",
            "Type",
            "Build",
            "Protocol",
            "DC",
            "Partition",
            "Segment"
        ]
    );
    let (code, _, _) = servers[0].cli(&["members"], &["-status=failed"]);
    assert_eq!(code, Some(2), "no member matches: Consul's exit status 2");

    let killed = servers.pop().expect("five servers");
    let killed_name = killed.name.clone();
    killed.agent.kill_hard();
    for server in &servers {
        let took = eventually(FAILURE_DETECTION_LIMIT, "killed agent failed", || {
            status_of(server, &killed_name).as_deref() == Some("failed")
        });
        println!("{} saw {killed_name} failed after {took:?}", server.name);
    }

    let leaver = servers.pop().expect("four servers");
    let leaver_name = leaver.name.clone();
    let (code, out, err) = leaver.cli(&["leave"], &[]);
    assert_eq!(
        (code, out.as_str()),
        (Some(0), "Graceful leave complete\n"),
        "{err}"
    );
    let (status, _) = leaver.agent.wait_exit(Duration::from_secs(15));
    assert!(status.success(), "{status}");
    for server in &servers {
        eventually(Duration::from_secs(10), "leaver shows left", || {
            status_of(server, &leaver_name).as_deref() == Some("left")
        });
    }

    let (code, _, err) = servers[0].cli(&["force-leave"], &[&killed_name]);
    assert_eq!(code, Some(0), "{err}");
    eventually(
        Duration::from_secs(10),
        "force-left member shows left",
        || status_of(&servers[1], &killed_name).as_deref() == Some("left"),
    );

    // -prune forgets it on every agent now, not after reconnect_timeout (72 h).
    let (code, _, err) = servers[1].cli(&["force-leave"], &["-prune", &killed_name]);
    assert_eq!(code, Some(0), "{err}");
    for server in &servers {
        let took = eventually(Duration::from_secs(5), "pruned member gone", || {
            status_of(server, &killed_name).is_none()
        });
        println!(
            "{} no longer lists {killed_name} after {took:?}",
            server.name
        );
    }
    let (code, _, err) = servers[0].cli(&["force-leave"], &["-prune", "no-such-node"]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("No node found with name 'no-such-node'"),
        "{err}"
    );
}

#[test]
fn join_command_and_endpoint_contact_the_given_agents() {
    let a = Server::start("j1", &[]);
    let b = Server::start("j2", &[]);
    let (code, out, err) = a.cli(&["join"], &[&b.serf_addr()]);
    assert_eq!(
        (code, out.as_str()),
        (
            Some(0),
            "Successfully joined cluster by contacting 1 nodes.\n"
        ),
        "{err}"
    );
    eventually(Duration::from_secs(10), "both members", || {
        b.member_statuses().len() == 2
    });
    let (status, body) = http(a.http, "GET", "/v1/agent/members", "");
    assert_eq!(status, 200, "{body}");
    let members: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let b_entry = members
        .as_array()
        .expect("a list")
        .iter()
        .find(|m| m["Name"] == "j2")
        .expect("j2 listed");
    assert_eq!(b_entry["Addr"], "127.0.0.1");
    assert_eq!(b_entry["Port"], b.serf);
    assert_eq!(b_entry["Status"], 1);
    assert_eq!(b_entry["Tags"]["role"], "consul");
    assert_eq!(b_entry["Tags"]["port"], b.rpc.to_string());
    assert_eq!(b_entry["ProtocolCur"], 2);
    assert_eq!(b_entry["DelegateCur"], 4);
}

/// Starts three `-bootstrap-expect 3` servers in `order`, each retry-joining the next one's
/// gossip port, and checks they elect exactly one leader that all of them report.
fn bootstrap_three(order: [usize; 3], tag: &str) -> Vec<Server> {
    let serf_ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let mut started: Vec<(usize, Server)> = Vec::new();
    for i in order {
        let next = serf_ports[(i + 1) % 3];
        let extra = vec![
            "-bootstrap-expect=3".to_owned(),
            format!("-retry-join=127.0.0.1:{next}"),
            "-retry-interval=1s".to_owned(),
        ];
        let name = format!("{tag}{i}");
        started.push((i, Server::start_on(&name, serf_ports[i], &extra)));
        thread::sleep(Duration::from_millis(300));
    }
    started.sort_by_key(|(i, _)| *i);
    let servers: Vec<Server> = started.into_iter().map(|(_, s)| s).collect();
    eventually(Duration::from_secs(30), "one leader known by all", || {
        let leaders: Vec<String> = servers.iter().map(Server::leader).collect();
        !leaders[0].is_empty() && leaders.iter().all(|l| *l == leaders[0])
    });
    let (code, out, err) = servers[0].cli(&["operator", "raft", "list-peers"], &[]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.lines().count(), 4, "three servers:\n{out}");
    assert_eq!(out.matches("leader").count(), 1, "one leader:\n{out}");
    assert_eq!(out.matches("true").count(), 3, "three voters:\n{out}");
    servers
}

#[test]
fn three_servers_with_bootstrap_expect_elect_one_leader_in_either_start_order() {
    let forward = bootstrap_three([0, 1, 2], "f");
    drop(forward);
    let servers = bootstrap_three([2, 0, 1], "r");

    // A write through a follower is forwarded to the leader; every server then serves the
    // value, a follower also with the default (leader-confirmed) consistency.
    let leader_addr = servers[0].leader();
    let leader = servers
        .iter()
        .find(|s| leader_addr == format!("127.0.0.1:{}", s.rpc))
        .expect("the leader is one of the three");
    let follower = servers
        .iter()
        .find(|s| leader_addr != format!("127.0.0.1:{}", s.rpc))
        .expect("two of the three follow");
    let (status, body) = http(follower.http, "PUT", "/v1/kv/formed", "yes");
    assert_eq!((status, body.trim()), (200, "true"));
    for server in &servers {
        eventually(Duration::from_secs(10), "value replicated", || {
            http(server.http, "GET", "/v1/kv/formed?stale&raw", "") == (200, "yes".to_owned())
        });
    }
    assert_eq!(
        http(follower.http, "GET", "/v1/kv/formed?raw", ""),
        (200, "yes".to_owned())
    );

    // A fourth server joining later becomes a voter.
    let late = Server::start("late", &[format!("-join={}", servers[1].serf_addr())]);
    eventually(Duration::from_secs(30), "the late server votes", || {
        let (_, out, _) = leader.cli(&["operator", "raft", "list-peers"], &[]);
        out.lines()
            .any(|l| l.contains(&format!("127.0.0.1:{}", late.rpc)) && l.contains("true"))
    });

    // The leader leaving gracefully takes itself out of Raft; the other three carry on.
    let leader_rpc = format!("127.0.0.1:{}", leader.rpc);
    let (code, _, err) = leader.cli(&["leave"], &[]);
    assert_eq!(code, Some(0), "{err}");
    eventually(
        Duration::from_secs(30),
        "a new leader without the leaver",
        || {
            let (_, out, _) = late.cli(&["operator", "raft", "list-peers"], &[]);
            out.lines().count() == 4 && !out.contains(&leader_rpc) && out.contains("leader")
        },
    );
}

/// A `-dev` agent on free ports with `extra` flags, expected to stop by itself: its exit code
/// and output.
fn dev_agent_exit(extra: &[String]) -> (Option<i32>, Vec<String>) {
    let mut args = vec![
        "-dev".to_owned(),
        format!("-http-port={}", free_port()),
        format!("-server-port={}", free_port()),
        "-dns-port=-1".to_owned(),
    ];
    args.extend_from_slice(extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (status, lines) = Agent::start(&args).wait_exit(Duration::from_secs(30));
    (status.code(), lines)
}

#[test]
fn encrypted_agents_join_each_other_and_an_agent_without_the_key_cannot() {
    let (status, key, err) = run_to_end(&["keygen"]);
    assert!(status.success(), "{err}");
    let key = key.trim().to_owned();
    assert_eq!(key.len(), 44, "base64 of 32 bytes: {key}");
    let mut a = Server::start("e1", &[format!("-encrypt={key}")]);
    a.agent
        .wait_for("Gossip Encryption: true", Duration::from_secs(1));
    let keyring = std::fs::read_to_string(a.dir.join("serf").join("local.keyring"))
        .expect("the keyring file is written under the data dir");
    assert_eq!(keyring, format!("[\"{key}\"]"));
    let b = Server::start(
        "e2",
        &[
            format!("-encrypt={key}"),
            format!("-join={}", a.serf_addr()),
        ],
    );
    eventually(Duration::from_secs(10), "both encrypted members", || {
        b.member_statuses().len() == 2 && a.member_statuses().len() == 2
    });
    let names = |s: &Server| -> Vec<String> {
        s.member_statuses()
            .into_iter()
            .map(|(name, _)| name)
            .collect()
    };

    // Without the key (or with another one) nobody answers: `-join` fails the start as
    // Consul's does, and `synod join` exits 1 saying why.
    let (_, wrong_key, _) = run_to_end(&["keygen"]);
    for key_flag in [None, Some(format!("-encrypt={}", wrong_key.trim()))] {
        let mut extra = vec![format!("-join={}", a.serf_addr())];
        extra.extend(key_flag.clone());
        let (code, lines) = dev_agent_exit(&extra);
        assert_eq!(code, Some(1), "{lines:?}");
        assert!(
            lines.iter().any(|l| l.contains("Failed to join")
                && l.contains("none answered the join")
                && l.contains("-encrypt")),
            "{lines:?}"
        );
        let outsider = Server::start("outsider", &Vec::from_iter(key_flag));
        let (code, out, err) = outsider.cli(&["join"], &[&a.serf_addr()]);
        assert_eq!((code, out.as_str()), (Some(1), ""), "{err}");
        assert!(err.contains("none answered the join"), "{err}");
        assert!(err.contains("Failed to join any nodes."), "{err}");
        assert_eq!(names(&outsider), ["outsider"]);
    }
    assert_eq!(names(&a), ["e1", "e2"]);

    // -retry-join keeps trying instead.
    let mut retrying = Agent::start(&[
        "-dev",
        &format!("-http-port={}", free_port()),
        &format!("-server-port={}", free_port()),
        "-dns-port=-1",
        &format!("-retry-join={}", a.serf_addr()),
        "-retry-interval=500ms",
    ]);
    let failure = retrying.wait_for("Join cluster failed, will retry", Duration::from_secs(20));
    assert!(failure.contains("none answered the join"), "{failure}");
    let (status, lines) = retrying.terminate(Duration::from_secs(10));
    assert!(
        status.success(),
        "still running until told to stop: {status}"
    );
    assert!(
        !lines.iter().any(|l| l.contains("attempts exhausted")),
        "{lines:?}"
    );
}

#[test]
fn retry_join_gives_up_after_retry_max_attempts() {
    let nobody = format!("127.0.0.1:{}", free_port());
    let (code, lines) = dev_agent_exit(&[
        format!("-retry-join={nobody}"),
        "-retry-interval=200ms".to_owned(),
        "-retry-max=2".to_owned(),
    ]);
    assert_eq!(code, Some(1), "{lines:?}");
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains("Join cluster failed, will retry"))
            .count(),
        1,
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("attempts exhausted")),
        "{lines:?}"
    );
}
