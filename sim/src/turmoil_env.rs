//! The shell environment over turmoil sockets and tokio time, plus the scaffolding turmoil
//! scenarios share: a server host (re-run on every bounce) and a registry of node handles.
//!
//! Disk: the in-memory [`MemoryImage`], one per host name, shared across bounces. The real WAL
//! runs a committer thread doing real `fsync`s, which turmoil cannot schedule: completions would
//! arrive at real-time moments unrelated to simulated time and break seed reproducibility. The
//! image applies `LogWrite` with the same semantics and makes each write durable before its
//! token is reported, so a bounced host restarts from exactly what its last incarnation had
//! acknowledged. (Torn and lost unsynced writes are the `world` simulator's job.)

#[cfg(not(tokio_unstable))]
compile_error!(
    "turmoil scenarios need `--cfg tokio_unstable` (seeded tokio RNG, forwarded task panics); \
     build from the workspace root so .cargo/config.toml applies"
);

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration as StdDuration, SystemTime, UNIX_EPOCH};

use synod_core::ids::NodeId;
use synod_core::node::{Node, NodeConfig};
use synod_core::raft::{Config, Membership};
use synod_core::rand::splitmix64;
use synod_core::time::{Duration, Instant};
use synod_runtime_smol::shell::log::{Level, Log};
use synod_runtime_smol::shell::{
    Conn, Env, Listener, MemoryDisk, MemoryImage, NodeHandle, Shell, ShellConfig, Status,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Port every simulated server listens on for Raft traffic.
pub const RAFT_PORT: u16 = 8300;

/// [`Env`] over turmoil: tokio's paused clock, `spawn_local`, turmoil TCP.
#[derive(Clone, Debug)]
pub struct TurmoilEnv {
    start: tokio::time::Instant,
}

impl TurmoilEnv {
    /// An environment whose clock starts now (call inside a turmoil host).
    pub fn new() -> Self {
        TurmoilEnv {
            start: tokio::time::Instant::now(),
        }
    }
}

impl Default for TurmoilEnv {
    fn default() -> Self {
        TurmoilEnv::new()
    }
}

impl Env for TurmoilEnv {
    type Conn = TurmoilConn;
    type Listener = TurmoilListener;

    fn now(&self) -> Instant {
        let micros = u64::try_from(self.start.elapsed().as_micros()).unwrap_or(u64::MAX);
        Instant::from_micros(micros)
    }

    fn sleep_until(&self, deadline: Instant) -> impl Future<Output = ()> {
        let at = self
            .start
            .checked_add(Duration::from_micros(deadline.as_micros()));
        async move {
            match at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => futures_lite::future::pending().await,
            }
        }
    }

    fn spawn(&self, task: impl Future<Output = ()> + 'static) {
        // Detached: the host's runtime drops it on crash or when the host ends.
        drop(tokio::task::spawn_local(task));
    }

    fn connect(&self, addr: &str) -> impl Future<Output = io::Result<TurmoilConn>> {
        let addr = addr.to_string();
        async move {
            let stream = turmoil::net::TcpStream::connect(addr).await?;
            Ok(TurmoilConn(stream))
        }
    }

    async fn listen(&self, addr: SocketAddr) -> io::Result<TurmoilListener> {
        turmoil::net::TcpListener::bind(addr)
            .await
            .map(TurmoilListener)
    }
}

/// A turmoil TCP stream.
#[derive(Debug)]
pub struct TurmoilConn(turmoil::net::TcpStream);

impl Conn for TurmoilConn {
    async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).await
    }

    async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.write_all(buf).await
    }
}

/// A turmoil TCP listener.
pub struct TurmoilListener(turmoil::net::TcpListener);

impl Listener for TurmoilListener {
    type Conn = TurmoilConn;

    async fn accept(&self) -> io::Result<TurmoilConn> {
        let (stream, _) = self.0.accept().await?;
        Ok(TurmoilConn(stream))
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

/// Wall-clock time inside the simulation (the builder's fixed epoch plus simulated time), so
/// log lines are reproducible too.
pub fn sim_wall_clock() -> SystemTime {
    UNIX_EPOCH + turmoil::since_epoch().unwrap_or(StdDuration::ZERO)
}

/// Handles of the running servers, by host name; replaced when a host restarts.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    handles: Arc<Mutex<BTreeMap<String, NodeHandle>>>,
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, NodeHandle>> {
        self.handles
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn publish(&self, name: &str, handle: NodeHandle) {
        self.lock().insert(name.to_string(), handle);
    }

    /// The handle of `name`'s current incarnation, if it ever started.
    pub fn handle(&self, name: &str) -> Option<NodeHandle> {
        self.lock().get(name).cloned()
    }

    /// Status of every server whose loop is running, by host name.
    pub fn statuses(&self) -> BTreeMap<String, Status> {
        self.lock()
            .iter()
            .filter(|(_, h)| !h.is_stopped())
            .map(|(name, h)| (name.clone(), h.status()))
            .collect()
    }
}

/// A cluster of servers named `names`, all voters, bootstrapped with the same membership.
#[derive(Clone, Debug)]
pub struct ClusterSpec {
    /// Host names; server `i` gets Raft id `i + 1`.
    pub names: Vec<String>,
    /// Every node's random generator derives from this, its id and its incarnation.
    pub seed: u64,
    /// Lowest level logged.
    pub log_level: Level,
}

impl ClusterSpec {
    /// Servers `names` with Consul's default Raft timings.
    pub fn new(names: &[&str], seed: u64) -> Self {
        ClusterSpec {
            names: names.iter().map(|n| n.to_string()).collect(),
            seed,
            log_level: Level::Info,
        }
    }

    /// Raft id of host `name`.
    pub fn id_of(&self, name: &str) -> Option<NodeId> {
        self.names
            .iter()
            .position(|n| n == name)
            .and_then(|i| u64::try_from(i + 1).ok())
            .map(NodeId)
    }

    /// Host name of Raft id `id`.
    pub fn name_of(&self, id: NodeId) -> Option<&str> {
        let index = usize::try_from(id.0).ok()?.checked_sub(1)?;
        self.names.get(index).map(String::as_str)
    }

    /// The Raft settings every server uses.
    pub fn raft_config(&self, id: NodeId) -> Config {
        Config::new(id)
    }

    /// The bootstrap membership (call inside the simulation: it resolves host addresses).
    fn membership(&self) -> Membership {
        Membership::voters(self.names.iter().enumerate().map(|(i, name)| {
            let id = NodeId(u64::try_from(i + 1).unwrap_or(u64::MAX));
            (
                id,
                SocketAddr::new(turmoil::lookup(name.as_str()), RAFT_PORT).to_string(),
            )
        }))
    }

    /// Adds every server as a turmoil host. Each keeps its disk image across bounces.
    pub fn add_hosts(&self, sim: &mut turmoil::Sim<'_>, registry: &Registry) {
        for name in &self.names {
            let image = MemoryImage::new();
            let incarnation = Arc::new(AtomicU64::new(0));
            let spec = self.clone();
            let registry = registry.clone();
            let name = name.clone();
            sim.host(name.clone(), move || {
                let run = incarnation.fetch_add(1, Ordering::Relaxed);
                run_server(
                    spec.clone(),
                    name.clone(),
                    image.clone(),
                    registry.clone(),
                    run,
                )
            });
        }
    }
}

/// One server's software: recover from the image, bootstrap if brand new, run the shell.
async fn run_server(
    spec: ClusterSpec,
    name: String,
    image: MemoryImage,
    registry: Registry,
    incarnation: u64,
) -> turmoil::Result {
    let id = spec
        .id_of(&name)
        .ok_or_else(|| format!("host {name} is not in the cluster spec"))?;
    let env = TurmoilEnv::new();
    // Bind the unspecified address: turmoil refuses a host's own IP; peers use its lookup IP.
    let listener = env
        .listen(SocketAddr::new(
            IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            RAFT_PORT,
        ))
        .await?;
    let recovered = image.recovered();
    let fresh = recovered.hard_state.term.0 == 0 && recovered.entries.is_empty();
    let raft = spec.raft_config(id);
    let shell_config = ShellConfig::for_election_timeout(raft.election_timeout);
    let config = NodeConfig {
        raft,
        snapshot_threshold: 1024,
        snapshot_interval: synod_core::time::Duration::ZERO,
    };
    let mut seed = spec.seed ^ id.0.rotate_left(32) ^ incarnation;
    let mut node = Node::new(config, recovered, splitmix64(&mut seed), env.now())
        .map_err(|e| format!("{name}: {e}"))?;
    if fresh {
        node.bootstrap(env.now(), spec.membership())
            .map_err(|e| format!("{name}: bootstrap failed: {e:?}"))?;
    }
    let (disk, durable) = MemoryDisk::new(image);
    let log = Log::new(spec.log_level, sim_wall_clock).with_prefix(&format!("{name}: "));
    let (shell, handle) = Shell::new(env, node, disk, durable, shell_config, log);
    registry.publish(&name, handle.clone());
    shell.run(listener).await;
    drop(handle);
    Ok(())
}

/// A turmoil builder with everything that must be fixed for a reproducible run.
pub fn builder(seed: u64, duration: StdDuration) -> turmoil::Builder {
    let mut b = turmoil::Builder::new();
    b.simulation_duration(duration)
        .tick_duration(StdDuration::from_millis(1))
        .min_message_latency(StdDuration::from_millis(1))
        .max_message_latency(StdDuration::from_millis(5))
        .tcp_capacity(65_536)
        .epoch(UNIX_EPOCH + StdDuration::from_secs(1_795_672_800))
        .rng_seed(seed);
    b
}
