//! `synod agent` without `-server`: a client agent. No Raft and no RPC listener: it joins LAN
//! gossip as `role=node`, learns the servers from their gossip tags, and serves the HTTP API
//! by forwarding every request over client RPC to one server at a time.

use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use async_signal::{Signal, Signals};
use futures_lite::future;
use smol::LocalExecutor;

use super::addresses::advertise_ip;
use super::banner::{BannerFacts, banner};
use super::client_backend::{ClientBackend, live_servers};
use super::client_report::client_lan_tags;
use super::reload::{self, ConfigLoader, ReloadHandle};
use super::self_report::AgentIdentity;
use super::{
    AgentConfig, AgentError, ExitRequest, follow_cluster_size, gossip, identity, leaves_on_signal,
    next_exit_signal, start_gossip, start_http_api, start_local_agent,
};
use crate::rpc::pool::ServerSource;
use crate::rpc::{PoolSettings, RpcPool};
use crate::serf::SerfHandle;
use crate::shell::log::Log;
use crate::shell::smol_env::SmolEnv;

/// Giving up on connecting to one server after this long (then the next is tried).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a client keeps a working server before moving to the next one, at least.
const REBALANCE_AFTER: Duration = Duration::from_secs(120);

/// Runs a client agent until SIGINT/SIGTERM, `leave`, or a fatal error.
pub(super) fn run(
    config: AgentConfig,
    loader: ConfigLoader,
    uuid: String,
    signals: Signals,
    log: Log,
) -> Result<(), AgentError> {
    let executor = Rc::new(LocalExecutor::new());
    let env = SmolEnv::new(executor.clone());
    smol::block_on(executor.run(serve(env, config, loader, uuid, signals, log)))
}

async fn serve(
    env: SmolEnv,
    config: AgentConfig,
    loader: ConfigLoader,
    uuid: String,
    signals: Signals,
    log: Log,
) -> Result<(), AgentError> {
    let Some(lan_port) = config.serf_lan_port else {
        return Err(AgentError(
            "a client agent finds the servers through LAN gossip: ports.serf_lan cannot be -1"
                .into(),
        ));
    };
    let keyring = gossip::keyring(&config)?;
    let advertise = advertise_ip(config.bind, config.advertise);
    print!(
        "{}",
        banner(
            &config,
            &BannerFacts {
                node_id: &uuid,
                cluster_addr: SocketAddr::new(advertise, lan_port),
                gossip_encrypted: keyring.is_some(),
            }
        )
    );
    let identity = AgentIdentity {
        node_name: config.node_name.clone(),
        uuid: uuid.clone(),
        datacenter: config.datacenter.clone(),
        advertise,
        serf_lan_port: Some(lan_port),
        server_port: config.server_port,
        bootstrap: false,
        bootstrap_expect: 0,
    };
    let (exit_tx, exit_requests) = async_channel::bounded(4);
    let tags = client_lan_tags(&identity);
    let serf = start_gossip(&env, &config, advertise, tags, keyring, &exit_tx, &log)
        .await?
        .ok_or_else(|| AgentError("LAN gossip did not start".into()))?;
    let seed = identity::random_seed().map_err(|e| AgentError(format!("no entropy: {e}")))?;
    let settings = PoolSettings {
        connect_timeout: CONNECT_TIMEOUT,
        // Spreads clients over the servers.
        rotation: usize::try_from(seed % 1024).unwrap_or(0),
        // Consul's clients keep a server 2 minutes or more (jittered so they do not move in
        // step).
        rebalance_after: REBALANCE_AFTER + Duration::from_secs(seed % 60),
    };
    let (pool, connections) = RpcPool::new(server_source(&serf, &config.datacenter), settings);
    crate::shell::Env::spawn(&env, connections);
    let (reload_handle, reload_requests) = reload::channel();
    let backend = ClientBackend::new(pool, identity, serf.clone(), exit_tx, reload_handle.clone());
    let lan_addr = SocketAddr::new(advertise, lan_port);
    let local_agent = start_local_agent(&env, &config, &uuid, lan_addr, &backend, &log)?;
    crate::shell::Env::spawn(&env, follow_cluster_size(serf.clone(), local_agent.clone()));
    // Hands the config-file definitions to the local agent now and after every reload.
    let reloader =
        reload::Reloader::start(loader, local_agent.clone(), config.clone(), log.clone())
            .await
            .map_err(AgentError)?;
    crate::shell::Env::spawn(&env, reloader.serve(reload_requests));
    let backend = backend.with_local(local_agent);
    start_http_api(&env, &config, backend, seed, &log).await?;
    log.info(
        "agent",
        format_args!(
            "synod agent running as a client: node={} id={uuid}",
            config.node_name
        ),
    );
    wait_for_exit(&config, signals, exit_requests, &serf, &reload_handle, &log).await
}

/// The servers' RPC addresses, from gossip at the time of asking.
fn server_source(serf: &SerfHandle, dc: &str) -> ServerSource {
    let serf = serf.clone();
    let dc = dc.to_owned();
    Arc::new(move || {
        live_servers(&serf, &dc)
            .into_iter()
            .map(|server| server.rpc_addr)
            .collect()
    })
}

/// Waits for a signal (leaving the pool first when Consul's rules say so) or an exit request.
async fn wait_for_exit(
    config: &AgentConfig,
    mut signals: Signals,
    requests: async_channel::Receiver<ExitRequest>,
    serf: &SerfHandle,
    reload: &ReloadHandle,
    log: &Log,
) -> Result<(), AgentError> {
    enum Exit {
        Signal(Option<std::io::Result<Signal>>),
        Requested(Option<ExitRequest>),
    }
    let exit = future::or(
        async { Exit::Signal(next_exit_signal(&mut signals, reload, log).await) },
        async { Exit::Requested(requests.recv().await.ok()) },
    )
    .await;
    let outcome = match exit {
        Exit::Signal(signal) => {
            let leave = leaves_on_signal(
                &signal,
                config.leave_on_terminate,
                config.skip_leave_on_interrupt,
                log,
            );
            if leave {
                log.info("agent", format_args!("Gracefully shutting down agent..."));
                if let Err(e) = serf.leave().await {
                    log.warn("agent", format_args!("graceful leave failed: {e}"));
                }
            }
            Ok(())
        }
        Exit::Requested(Some(ExitRequest::Failed(message))) => Err(AgentError(message)),
        Exit::Requested(_) => Ok(()),
    };
    log.info("agent", format_args!("shutdown complete"));
    outcome
}
