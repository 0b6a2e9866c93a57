//! Shared harness for the gossip driver tests: real loopback sockets, scaled-down timings,
//! one single-threaded executor per test and hard time limits.

#![allow(dead_code)] // Each test file uses a different part of the harness.

use std::future::Future;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use futures_lite::future;
use smol::{LocalExecutor, Task};
use synod_core::gossip::{Config, Keyring, MemberStatus};
use synod_core::time::Duration as CoreDuration;
use synod_runtime_smol::serf::{self, SerfConfig, SerfHandle};
use synod_runtime_smol::shell::smol_env::SmolEnv;

/// memberlist's LAN timings divided by ten, so failure detection takes well under a second.
pub(crate) fn fast_gossip() -> Config {
    Config {
        probe_interval: CoreDuration::from_millis(100),
        probe_timeout: CoreDuration::from_millis(50),
        gossip_interval: CoreDuration::from_millis(20),
        push_pull_interval: CoreDuration::from_secs(3),
        gossip_to_the_dead_time: CoreDuration::from_secs(3),
        reconnect_interval: CoreDuration::from_secs(3),
        ..Config::lan()
    }
}

/// A running driver; dropping `task` kills it without a leave.
pub(crate) struct TestNode {
    pub(crate) handle: SerfHandle,
    pub(crate) task: Option<Task<()>>,
}

impl TestNode {
    /// Stops the driver abruptly, as a crash would.
    pub(crate) fn kill(&mut self) {
        self.task = None;
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.handle.local_addr()
    }

    /// How this node sees `name`, if it knows it.
    pub(crate) fn status_of(&self, name: &str) -> Option<MemberStatus> {
        self.handle
            .members()
            .into_iter()
            .find(|m| m.name == name)
            .map(|m| m.status)
    }

    /// How many members this node sees as alive (or suspect), itself included.
    pub(crate) fn live_count(&self) -> usize {
        self.handle
            .members()
            .iter()
            .filter(|m| m.status.is_live())
            .count()
    }
}

/// Starts a driver on a free loopback port.
pub(crate) fn start_node(
    executor: &Rc<LocalExecutor<'static>>,
    name: &str,
    keyring: Option<Keyring>,
) -> TestNode {
    let bind: SocketAddr = "127.0.0.1:0".parse().expect("literal address");
    let mut config = SerfConfig::new(bind, name, fast_gossip());
    config.keyring = keyring;
    config.stream_timeout = Duration::from_secs(2);
    config.join_timeout = Duration::from_secs(1);
    let (handle, task) =
        serf::start(SmolEnv::new(executor.clone()), config).expect("bind loopback");
    TestNode {
        handle,
        task: Some(executor.spawn(task)),
    }
}

/// Runs `body` on a fresh single-threaded executor; panics if it takes longer than `limit`.
pub(crate) fn run<F, Fut>(limit: Duration, body: F)
where
    F: FnOnce(Rc<LocalExecutor<'static>>) -> Fut,
    Fut: Future<Output = ()>,
{
    let executor = Rc::new(LocalExecutor::new());
    let test = body(executor.clone());
    let finished = future::block_on(executor.run(future::or(
        async {
            test.await;
            true
        },
        async {
            async_io::Timer::after(limit).await;
            false
        },
    )));
    assert!(finished, "test did not finish within {limit:?}");
}

/// Polls `condition` every 10 ms until it holds; returns how long that took, or `None` once
/// `limit` has passed.
pub(crate) async fn wait_for(
    limit: Duration,
    mut condition: impl FnMut() -> bool,
) -> Option<Duration> {
    let start = Instant::now();
    loop {
        if condition() {
            return Some(start.elapsed());
        }
        if start.elapsed() >= limit {
            return None;
        }
        async_io::Timer::after(Duration::from_millis(10)).await;
    }
}

/// Starts `names` and joins every one to the first; waits until all see all alive.
pub(crate) async fn form_pool(
    executor: &Rc<LocalExecutor<'static>>,
    names: &[&str],
    keyring: Option<Keyring>,
) -> Vec<TestNode> {
    let nodes: Vec<TestNode> = names
        .iter()
        .map(|name| start_node(executor, name, keyring.clone()))
        .collect();
    let seed = nodes[0].addr();
    for node in &nodes[1..] {
        assert_eq!(node.handle.join(&[seed]).await, Ok(1));
    }
    let formed = wait_for(Duration::from_secs(5), || {
        nodes.iter().all(|n| n.live_count() == names.len())
    })
    .await;
    assert!(formed.is_some(), "pool of {} did not form", names.len());
    nodes
}
