//! `synod agent`: a server agent on smol — identity, disk, Raft listener, the shell, signals —
//! or, without `-server`, a client agent (`client_mode`).

mod addresses;
mod banner;
mod client_backend;
mod client_mode;
mod client_report;
mod config;
pub mod config_file;
pub mod definitions;
mod disk;
mod formation;
pub mod go_duration;
mod gossip;
mod gossip_api;
mod http_backend;
mod identity;
mod join;
mod leave;
pub mod local;
mod members_report;
mod peers_json;
mod reconcile;
mod reconcile_plan;
pub mod reload;
mod self_report;
pub mod settings;
mod timings;
mod wan;

pub use client_backend::ClientBackend;
pub use config::AgentConfig;
pub use identity::is_uuid;

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::sync::Arc;
use std::time::SystemTime;

use async_signal::{Signal, Signals};
use futures_lite::{StreamExt, future};
use smol::LocalExecutor;
use synod_core::api::http::Limits;
use synod_core::ids::{NodeId, Term};
use synod_core::node::{Node, NodeConfig};
use synod_core::raft::{Membership, Recovered};

use crate::http::backend::Backend;
use crate::http::server::{Server, ServerConfig};
use crate::serf::SerfHandle;
use crate::shell::log::Log;
use crate::shell::smol_env::SmolEnv;
use crate::shell::{Env, Listener, NodeHandle, Shell, ShellConfig, StopReason};
use addresses::advertise_ip;
use banner::{BannerFacts, banner};
use disk::AgentDisk;

/// Why the agent could not start or had to stop (printed after `==> `).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentError(pub String);

impl fmt::Display for AgentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AgentError {}

/// Runs the agent until SIGINT/SIGTERM (→ `Ok`) or a fatal error. `loader` re-reads the
/// configuration for reloads (SIGHUP, `PUT /v1/agent/reload`).
pub fn run(config: AgentConfig, loader: reload::ConfigLoader) -> Result<(), AgentError> {
    // Registered first so a signal arriving during start-up is not lost to the default action
    // (which, for SIGHUP, would end the agent instead of reloading it).
    let signals = Signals::new([Signal::Term, Signal::Int, Signal::Hup])
        .map_err(|e| AgentError(format!("failed to install signal handlers: {e}")))?;
    let log = Log::new(config.log_level, SystemTime::now);
    let uuid = identity::node_uuid(config.data_dir.as_deref(), config.node_id.as_deref())
        .map_err(AgentError)?;
    if !config.server {
        return client_mode::run(config, loader, uuid, signals, log);
    }
    let id = identity::raft_id(&uuid);
    let (disk, durable, recovered) = AgentDisk::open(&config, &log)?;
    let executor = Rc::new(LocalExecutor::new());
    let env = SmolEnv::new(executor.clone());
    let start = Start {
        config,
        loader,
        uuid,
        id,
        recovered,
        log,
    };
    smol::block_on(executor.run(serve(env, start, disk, durable, signals)))
}

/// What `serve` starts from.
struct Start {
    config: AgentConfig,
    loader: reload::ConfigLoader,
    uuid: String,
    id: NodeId,
    recovered: Recovered,
    log: Log,
}

async fn serve(
    env: SmolEnv,
    start: Start,
    disk: AgentDisk,
    durable: async_channel::Receiver<synod_core::ids::IoToken>,
    signals: Signals,
) -> Result<(), AgentError> {
    let Start {
        config,
        loader,
        uuid,
        id,
        recovered,
        log,
    } = start;
    let bind = SocketAddr::new(config.bind, config.server_port);
    let listener = env
        .listen(bind)
        .await
        .map_err(|e| AgentError(format!("failed to listen for server RPC on {bind}: {e}")))?;
    let port = listener
        .local_addr()
        .map_err(|e| AgentError(format!("failed to read the RPC listener's address: {e}")))?
        .port();
    let cluster_addr = SocketAddr::new(advertise_ip(config.bind, config.advertise), port);
    let keyring = gossip::keyring(&config)?;
    print!(
        "{}",
        banner(
            &config,
            &BannerFacts {
                node_id: &uuid,
                cluster_addr,
                gossip_encrypted: keyring.is_some(),
            }
        )
    );

    let node_config = timings::node_config(id, config.dev, config.raft_multiplier);
    let shell_config = ShellConfig::for_election_timeout(node_config.raft.election_timeout);
    let node = create_node(
        &config,
        node_config,
        recovered,
        cluster_addr,
        env.now(),
        &log,
    )?;
    let (mut shell, handle) =
        Shell::new(env.clone(), node, disk, durable, shell_config, log.clone());
    let identity = self_report::AgentIdentity {
        node_name: config.node_name.clone(),
        uuid: uuid.clone(),
        datacenter: config.datacenter.clone(),
        advertise: cluster_addr.ip(),
        serf_lan_port: config.serf_lan_port,
        server_port: cluster_addr.port(),
        bootstrap: config.bootstrap,
        bootstrap_expect: config.bootstrap_expect,
    };
    let (exit_tx, exit_requests) = async_channel::bounded(4);
    let tags = self_report::lan_tags(&identity);
    let serf = start_gossip(
        &env,
        &config,
        identity.advertise,
        tags,
        keyring,
        &exit_tx,
        &log,
    )
    .await?;
    if let Some(serf) = &serf {
        env.spawn(formation::run(
            serf.clone(),
            handle.clone(),
            config.datacenter.clone(),
            config.bootstrap_expect,
            log.clone(),
        ));
        let local = reconcile_plan::Local {
            datacenter: config.datacenter.clone(),
            node_name: config.node_name.clone(),
        };
        env.spawn(reconcile::run(
            serf.clone(),
            handle.clone(),
            local,
            log.clone(),
        ));
    }
    let wan = wan::start(&env, &config, &identity, &exit_tx, &log).await?;
    let (reload_handle, reload_requests) = reload::channel();
    let backend = http_backend::NodeBackend::new(
        handle.clone(),
        identity,
        serf.clone(),
        exit_tx,
        reload_handle.clone(),
    )
    .with_wan(wan.clone());
    let local_agent = start_local_agent(&env, &config, &uuid, cluster_addr, &backend, &log)?;
    if let Some(serf) = &serf {
        env.spawn(follow_cluster_size(serf.clone(), local_agent.clone()));
    }
    // Hands the config-file definitions to the local agent now and after every reload.
    let reloader =
        reload::Reloader::start(loader, local_agent.clone(), config.clone(), log.clone())
            .await
            .map_err(AgentError)?;
    env.spawn(reloader.serve(reload_requests));
    let backend = backend.with_local(local_agent);
    // Client agents' RPC arrives on the Raft listener; each request goes through this server.
    let rpc = crate::rpc::client_conn_handler(env.clone(), Arc::new(backend.clone()), log.clone());
    shell.serve_clients(rpc);
    let seed = backend.raft_id().0;
    start_http_api(&env, &config, backend, seed, &log).await?;
    let dns = start_dns(&config, &handle, cluster_addr.ip(), id, &log)?;
    log.info(
        "agent",
        format_args!(
            "synod agent running: node={} id={uuid} raft_id={id}",
            config.node_name
        ),
    );

    let exits = Exits {
        signals,
        reload: reload_handle,
        requests: exit_requests,
        serf,
        wan,
        leave_on_terminate: config.leave_on_terminate,
        skip_leave_on_interrupt: config.skip_leave_on_interrupt,
    };
    let outcome = run_until_exit(&env, shell, listener, &handle, exits, &log).await;
    if let Some(dns) = dns {
        dns.stop();
    }
    outcome
}

/// Starts LAN gossip advertising `advertise` with `tags` (unless its port is disabled), joins
/// `-join` addresses (failing the start if none answers), and spawns `-retry-join`.
async fn start_gossip(
    env: &SmolEnv,
    config: &AgentConfig,
    advertise: IpAddr,
    tags: BTreeMap<String, String>,
    keyring: Option<synod_core::gossip::Keyring>,
    exit_tx: &async_channel::Sender<ExitRequest>,
    log: &Log,
) -> Result<Option<SerfHandle>, AgentError> {
    let Some(port) = config.serf_lan_port else {
        log.info("agent", format_args!("LAN gossip disabled (port -1)"));
        if config.bootstrap_expect > 1 || !config.start_join.is_empty() {
            return Err(AgentError(
                "joining other servers needs LAN gossip: serf_lan port cannot be -1".into(),
            ));
        }
        return Ok(None);
    };
    let serf = gossip::start_lan(env, config, advertise, tags, port, keyring)?;
    log.info(
        "agent",
        format_args!("serf: LAN gossip listening on {}", serf.local_addr()),
    );
    let plan = join::StartJoin {
        pool: join::Pool::Lan,
        once: &config.start_join,
        retry: &config.retry_join,
        interval: config.retry_interval,
        max: config.retry_max,
    };
    join::join_at_start(env, &serf, plan, exit_tx, log).await?;
    Ok(Some(serf))
}

/// The node for this agent: recovered from disk, or bootstrapped if it is brand new and asked to.
fn create_node(
    config: &AgentConfig,
    node_config: NodeConfig,
    recovered: Recovered,
    cluster_addr: SocketAddr,
    now: synod_core::time::Instant,
    log: &Log,
) -> Result<Node, AgentError> {
    let id = node_config.raft.id;
    let fresh = is_fresh(&recovered);
    if !fresh {
        log.info(
            "agent.server.raft",
            format_args!(
                "restored from disk: term={} commit={} entries={}",
                recovered.hard_state.term,
                recovered.hard_state.commit,
                recovered.entries.len()
            ),
        );
    }
    let seed = identity::random_seed().map_err(|e| AgentError(format!("no entropy: {e}")))?;
    let mut node = Node::new(node_config, recovered, seed, now)
        .map_err(|e| AgentError(format!("failed to start the server: {e}")))?;
    if config.bootstrap_expect == 1 {
        log.warn(
            "agent",
            format_args!("bootstrap_expect = 1: this is the same as bootstrap mode"),
        );
    }
    if config.bootstrap && fresh {
        let membership = Membership::voters([(id, cluster_addr.to_string())]);
        node.bootstrap(now, membership)
            .map_err(|e| AgentError(format!("failed to bootstrap the cluster: {e:?}")))?;
        log.info(
            "agent.server",
            format_args!("bootstrapping a new cluster: server={id} addr={cluster_addr}"),
        );
    }
    Ok(node)
}

/// Why the agent should stop, asked by another part of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ExitRequest {
    /// `synod leave` / `PUT /v1/agent/leave`: gossip already left; shut down.
    Left,
    /// A background task failed fatally (e.g. `-retry-join` exhausted its attempts).
    Failed(String),
}

/// Everything that can end the agent besides the shell stopping by itself.
struct Exits {
    signals: Signals,
    /// SIGHUP reloads the configuration instead of ending the agent.
    reload: reload::ReloadHandle,
    requests: async_channel::Receiver<ExitRequest>,
    serf: Option<SerfHandle>,
    /// The WAN pool, left before the LAN one as Consul's servers do.
    wan: Option<SerfHandle>,
    leave_on_terminate: bool,
    skip_leave_on_interrupt: bool,
}

/// Runs the shell until a signal or an exit request (then shuts it down cleanly) or until it
/// stops by itself. Signals leave the gossip pool first when Consul's rules say so.
async fn run_until_exit(
    env: &SmolEnv,
    shell: Shell<SmolEnv, AgentDisk>,
    listener: <SmolEnv as Env>::Listener,
    handle: &NodeHandle,
    mut exits: Exits,
    log: &Log,
) -> Result<(), AgentError> {
    let (stopped_tx, stopped) = async_channel::bounded(1);
    env.spawn(async move {
        let reason = shell.run(listener).await;
        let _ = stopped_tx.send(reason).await;
    });
    enum Exit {
        Stopped(Option<StopReason>),
        Signal(Option<std::io::Result<Signal>>),
        Requested(Option<ExitRequest>),
    }
    let requests = exits.requests.clone();
    let exit = future::or(
        async { Exit::Stopped(stopped.recv().await.ok()) },
        future::or(
            async { Exit::Signal(next_exit_signal(&mut exits.signals, &exits.reload, log).await) },
            async { Exit::Requested(requests.recv().await.ok()) },
        ),
    )
    .await;
    let outcome = match exit {
        Exit::Signal(signal) => {
            let leave = leaves_on_signal(
                &signal,
                exits.leave_on_terminate,
                exits.skip_leave_on_interrupt,
                log,
            );
            if leave && let Some(wan) = &exits.wan {
                leave::leave_wan(wan, log).await;
            }
            if leave && let Some(serf) = &exits.serf {
                log.info("agent", format_args!("Gracefully shutting down agent..."));
                if let Err(e) = leave::graceful_leave(handle, serf).await {
                    log.warn("agent", format_args!("graceful leave failed: {e}"));
                }
            }
            Ok(())
        }
        Exit::Requested(Some(ExitRequest::Failed(message))) => Err(AgentError(message)),
        Exit::Requested(_) => Ok(()),
        Exit::Stopped(Some(StopReason::Shutdown)) => return Ok(()),
        Exit::Stopped(Some(StopReason::DiskFailed)) | Exit::Stopped(None) => {
            return Err(AgentError(
                "the server stopped: its disk failed (see the log above)".to_string(),
            ));
        }
    };
    handle.shutdown();
    let _ = stopped.recv().await;
    log.info("agent", format_args!("shutdown complete"));
    outcome
}

/// Logs the signal that stops the agent; whether it should leave the LAN pool first, by
/// Consul's rules (SIGINT unless `skip_leave_on_interrupt`, SIGTERM if `leave_on_terminate`).
/// The next signal that ends the agent; SIGHUP on the way only triggers a config reload.
async fn next_exit_signal(
    signals: &mut Signals,
    reload: &reload::ReloadHandle,
    log: &Log,
) -> Option<std::io::Result<Signal>> {
    loop {
        let signal = signals.next().await;
        if !matches!(signal, Some(Ok(Signal::Hup))) {
            return signal;
        }
        log.info("agent", format_args!("Caught signal: hangup"));
        reload.trigger();
    }
}

fn leaves_on_signal(
    signal: &Option<std::io::Result<Signal>>,
    leave_on_terminate: bool,
    skip_leave_on_interrupt: bool,
    log: &Log,
) -> bool {
    let interrupt = matches!(signal, Some(Ok(Signal::Int)));
    let name = if interrupt { "interrupt" } else { "terminated" };
    log.info("agent", format_args!("Caught signal: {name}"));
    if interrupt {
        !skip_leave_on_interrupt
    } else {
        leave_on_terminate
    }
}

/// A server that has never been part of a cluster.
fn is_fresh(recovered: &Recovered) -> bool {
    recovered.hard_state.term == Term(0)
        && recovered.entries.is_empty()
        && recovered.snapshot.is_none()
}

/// Starts the agent's own services and checks (restoring API registrations, registering the
/// node) and applies the config files' definitions.
pub(super) fn start_local_agent<B: Backend + Clone>(
    env: &SmolEnv,
    config: &AgentConfig,
    uuid: &str,
    cluster_addr: SocketAddr,
    backend: &B,
    log: &Log,
) -> Result<local::LocalAgent, AgentError> {
    let local_config = local::LocalConfig {
        node: local::node_row(
            uuid,
            &config.node_name,
            cluster_addr.ip(),
            &config.datacenter,
        ),
        data_dir: config.data_dir.clone(),
        enable_script_checks: config.enable_script_checks,
        seed: identity::random_seed().map_err(|e| AgentError(format!("no entropy: {e}")))?,
        full_sync_interval: config.ae_interval,
    };
    Ok(local::start(
        env,
        Arc::new(backend.clone()),
        local_config,
        log.clone(),
    ))
}

/// Keeps the local agent's idea of the cluster size current (it spaces out full syncs).
pub(super) async fn follow_cluster_size(serf: SerfHandle, agent: local::LocalAgent) {
    const EVERY: std::time::Duration = std::time::Duration::from_secs(30);
    loop {
        let live = serf.members().iter().filter(|m| m.status.is_live()).count();
        if agent.set_cluster_size(live).await.is_err() {
            return;
        }
        smol::Timer::after(EVERY).await;
    }
}

/// Starts the HTTP API on `config.client:config.http_port`, unless that port is disabled.
async fn start_http_api<B: Backend>(
    env: &SmolEnv,
    config: &AgentConfig,
    backend: B,
    seed: u64,
    log: &Log,
) -> Result<(), AgentError> {
    let Some(port) = config.http_port else {
        log.info("agent.http", format_args!("HTTP API disabled (port -1)"));
        return Ok(());
    };
    let addr = SocketAddr::new(config.client, port);
    let limits = Limits {
        max_body: usize::try_from(config.kv_max_value_size).unwrap_or(usize::MAX),
        ..Limits::default()
    };
    let server_config = ServerConfig {
        datacenter: config.datacenter.clone(),
        seed,
        ui: config.ui,
        limits,
        max_connections_per_client: usize::try_from(config.http_max_conns_per_client)
            .unwrap_or(usize::MAX),
        ..ServerConfig::default()
    };
    let backend = Arc::new(backend);
    let server = Server::bind(addr, backend, server_config)
        .await
        .map_err(|e| AgentError(format!("failed to listen for HTTP on {addr}: {e}")))?;
    let bound = server.local_addr().unwrap_or(addr);
    log.info("agent.http", format_args!("HTTP API listening on {bound}"));
    env.spawn(server.run());
    Ok(())
}

/// Starts the DNS interface on `config.client:config.dns_port` (UDP and TCP), unless that port
/// is disabled. It answers from the node's published state on as many threads as cores.
fn start_dns(
    config: &AgentConfig,
    handle: &NodeHandle,
    advertise: std::net::IpAddr,
    id: NodeId,
    log: &Log,
) -> Result<Option<crate::dns::DnsServer>, AgentError> {
    let Some(port) = config.dns_port else {
        log.info(
            "agent.dns",
            format_args!("DNS interface disabled (port -1)"),
        );
        return Ok(None);
    };
    let addr = SocketAddr::new(config.client, port);
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let dns_config = crate::dns::DnsServerConfig {
        addr,
        options: config.dns.clone(),
        datacenter: config.datacenter.clone(),
        node_name: config.node_name.clone(),
        node_addr: advertise,
        threads,
        seed: id.0,
        tcp: crate::dns::TcpLimits::default(),
    };
    crate::dns::DnsServer::start(dns_config, Arc::new(handle.clone()), log.clone())
        .map(Some)
        .map_err(|e| AgentError(format!("failed to listen for DNS on {addr}: {e}")))
}
