//! The loop and its connections on smol over real loopback sockets.

use std::net::{Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::time::Duration as StdDuration;

use bytes::Bytes;
use smol::LocalExecutor;
use synod_core::ids::{LogIndex, NodeId};
use synod_core::node::{ClientError, ClientRequest, ClientResponse, Node, NodeConfig};
use synod_core::raft::{Config, Membership, ProposeError, Role};
use synod_core::state::kv_types::KvCommand;
use synod_core::time::Duration;
use synod_core::wire::frame_payload;

use super::inbound::accept_peers;
use super::log::{Level, Log};
use super::peers::Peers;
use super::smol_env::SmolEnv;
use super::{Env, Listener, MemoryDisk, MemoryImage, NodeHandle, Shell, ShellConfig, StopReason};

fn quiet_log() -> Log {
    Log::new(Level::Error, std::time::SystemTime::now)
}

fn loopback() -> SocketAddr {
    SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 0)
}

fn fast_node(id: NodeId, env: &SmolEnv) -> Node {
    let mut raft = Config::new(id);
    raft.heartbeat_interval = Duration::from_millis(10);
    raft.election_timeout = Duration::from_millis(30);
    let config = NodeConfig {
        raft,
        snapshot_threshold: 1024,
        snapshot_interval: synod_core::time::Duration::ZERO,
    };
    Node::new(config, Default::default(), 7, env.now()).expect("empty recovery")
}

fn test_config() -> ShellConfig {
    ShellConfig::for_election_timeout(Duration::from_millis(100))
}

/// Runs `test` on a fresh local executor with a timeout, so a hang fails instead of blocking.
fn run_local<T>(test: impl AsyncFnOnce(SmolEnv) -> T) -> T {
    let executor = Rc::new(LocalExecutor::new());
    let env = SmolEnv::new(executor.clone());
    smol::block_on(executor.run(async {
        futures_lite::future::or(test(env), async {
            async_io::Timer::after(StdDuration::from_secs(10)).await;
            panic!("test timed out");
        })
        .await
    }))
}

#[test]
fn single_server_elects_itself_and_answers_a_durable_write() {
    run_local(async |env: SmolEnv| {
        let listener = env.listen(loopback()).await.expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let mut node = fast_node(NodeId(1), &env);
        node.bootstrap(env.now(), Membership::voters([(NodeId(1), addr)]))
            .expect("fresh node");
        let image = MemoryImage::new();
        let (disk, durable) = MemoryDisk::new(image.clone());
        let (shell, handle) =
            Shell::new(env.clone(), node, disk, durable, test_config(), quiet_log());
        let (stopped_tx, stopped) = async_channel::bounded(1);
        env.spawn(async move {
            let _ = stopped_tx.send(shell.run(listener).await).await;
        });

        let put = ClientRequest::Write(
            KvCommand::Set {
                key: "k".into(),
                value: Bytes::from_static(b"v"),
                flags: 0,
            }
            .into(),
        );
        let response = loop {
            match handle.request(put.clone()).await {
                ClientResponse::Failed(ClientError::NotLeader { .. } | ClientError::NotReady) => {
                    async_io::Timer::after(StdDuration::from_millis(5)).await;
                }
                other => break other,
            }
        };
        let ClientResponse::Written { index, .. } = response else {
            panic!("write failed: {response:?}");
        };
        let status = handle.status();
        assert_eq!(
            (status.role, status.leader),
            (Role::Leader, Some(NodeId(1)))
        );
        assert!(
            status.commit >= index && status.applied >= index,
            "{status:?}"
        );
        assert!(image.recovered().entries.iter().any(|e| e.index == index));

        handle.shutdown();
        assert_eq!(stopped.recv().await, Ok(StopReason::Shutdown));
        assert_eq!(
            handle.request(put).await,
            ClientResponse::Failed(ClientError::NotLeader { leader: None })
        );
    });
}

#[test]
fn loop_stops_when_the_disk_stops_reporting() {
    run_local(async |env: SmolEnv| {
        let listener = env.listen(loopback()).await.expect("bind");
        let node = fast_node(NodeId(1), &env);
        let (disk, _) = MemoryDisk::new(MemoryImage::new());
        let (gone, durable) = async_channel::unbounded();
        drop(gone);
        let (shell, _handle) =
            Shell::new(env.clone(), node, disk, durable, test_config(), quiet_log());
        assert_eq!(shell.run(listener).await, StopReason::DiskFailed);
    });
}

#[test]
fn frames_reach_a_peer_in_order_including_those_queued_before_it_listened() {
    run_local(async |env: SmolEnv| {
        // Reserve a port, then close it so the first connection attempts are refused.
        let port = {
            let probe = env.listen(loopback()).await.expect("bind");
            probe.local_addr().expect("addr").port()
        };
        let addr = SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port);
        let membership = Membership::voters([(NodeId(2), addr.to_string())]);
        let mut peers = Peers::new(env.clone(), test_config(), quiet_log());
        peers.send(&membership, NodeId(2), frame_payload(b"early"));

        async_io::Timer::after(StdDuration::from_millis(50)).await;
        let listener = env.listen(addr).await.expect("rebind the reserved port");
        let (frames_in, frames) = async_channel::unbounded();
        env.spawn(accept_peers(
            env.clone(),
            listener,
            frames_in,
            test_config(),
            quiet_log(),
            None,
        ));
        for body in [&b"one"[..], b"two", b"three"] {
            peers.send(&membership, NodeId(2), frame_payload(body));
        }

        let mut got = Vec::new();
        while got.len() < 4 {
            got.push(frames.recv().await.expect("frames keep coming"));
        }
        assert_eq!(
            got,
            vec![
                Bytes::from_static(b"early"),
                Bytes::from_static(b"one"),
                Bytes::from_static(b"two"),
                Bytes::from_static(b"three"),
            ]
        );
    });
}

#[test]
fn frames_for_servers_outside_the_membership_are_dropped() {
    run_local(async |env: SmolEnv| {
        let mut peers = Peers::new(env.clone(), test_config(), quiet_log());
        peers.send(&Membership::default(), NodeId(9), frame_payload(b"x"));
        assert_eq!(peers.link_count(), 0);
    });
}

/// Three bootstrapped servers over loopback, running on `env`; their handles by id 1..=3.
async fn start_three_servers(env: &SmolEnv) -> Vec<NodeHandle> {
    let mut listeners = Vec::new();
    for _ in 0..3 {
        listeners.push(env.listen(loopback()).await.expect("bind"));
    }
    let membership = Membership::voters(
        listeners
            .iter()
            .zip(1..)
            .map(|(l, id)| (NodeId(id), l.local_addr().expect("addr").to_string())),
    );
    let mut handles = Vec::new();
    for (listener, id) in listeners.into_iter().zip(1..) {
        let mut node = fast_node(NodeId(id), env);
        node.bootstrap(env.now(), membership.clone())
            .expect("fresh node");
        let (disk, durable) = MemoryDisk::new(MemoryImage::new());
        let (shell, handle) =
            Shell::new(env.clone(), node, disk, durable, test_config(), quiet_log());
        env.spawn(async move {
            shell.run(listener).await;
        });
        handles.push(handle);
    }
    handles
}

/// Writes `put` through whichever server leads once one does; the write's index.
async fn write_through_the_leader(handles: &[NodeHandle], put: &ClientRequest) -> LogIndex {
    // Whoever answers `Written` is the leader; the others redirect.
    loop {
        for handle in handles {
            if let ClientResponse::Written { index, .. } = handle.request(put.clone()).await {
                return index;
            }
        }
        async_io::Timer::after(StdDuration::from_millis(5)).await;
    }
}

#[test]
fn three_servers_over_loopback_elect_a_leader_and_replicate_a_write() {
    run_local(async |env: SmolEnv| {
        let handles = start_three_servers(&env).await;
        let put = ClientRequest::Write(
            KvCommand::Set {
                key: "replicated".into(),
                value: Bytes::from_static(b"yes"),
                flags: 0,
            }
            .into(),
        );
        let index = write_through_the_leader(&handles, &put).await;
        for handle in &handles {
            handle.applied_past(index.prev()).await;
        }
        let statuses: Vec<_> = handles.iter().map(|h| h.status()).collect();
        let leaders = statuses.iter().filter(|s| s.role == Role::Leader).count();
        assert_eq!(leaders, 1, "{statuses:#?}");
        let leader = statuses
            .iter()
            .find(|s| s.role == Role::Leader)
            .map(|s| s.id);
        assert!(
            statuses
                .iter()
                .all(|s| s.leader == leader && s.applied >= index)
        );
        for handle in &handles {
            handle.shutdown();
        }
    });
}

#[test]
fn the_leader_removes_a_follower_through_its_handle_and_followers_refuse() {
    run_local(async |env: SmolEnv| {
        let handles = start_three_servers(&env).await;
        let put = ClientRequest::Write(
            KvCommand::Set {
                key: "k".into(),
                value: Bytes::from_static(b"v"),
                flags: 0,
            }
            .into(),
        );
        let written = write_through_the_leader(&handles, &put).await;
        // Let the leader's first entry commit, so membership changes are allowed.
        for handle in &handles {
            handle.applied_past(written.prev()).await;
        }
        let leader = handles
            .iter()
            .find(|h| h.status().role == Role::Leader)
            .expect("a leader");
        let follower = handles
            .iter()
            .find(|h| h.status().role != Role::Leader)
            .expect("a follower");
        let removed = follower.status().id;
        assert_eq!(
            follower.remove_server(removed).await,
            Err(ProposeError::NotLeader {
                leader: Some(leader.status().id)
            })
        );
        let index = leader.remove_server(removed).await.expect("accepted");
        leader.applied_past(index.prev()).await;
        let servers: Vec<NodeId> = leader.status().membership.servers.keys().copied().collect();
        assert_eq!(servers.len(), 2);
        assert!(!servers.contains(&removed), "{servers:?}");
        for handle in &handles {
            handle.shutdown();
        }
    });
}

mod reads;
