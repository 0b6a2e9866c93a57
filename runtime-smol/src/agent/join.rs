//! Joining a gossip pool: `-join` / `-join-wan` once at start, `-retry-join` /
//! `-retry-join-wan` in the background, and the address rules shared with `synod join [-wan]` /
//! `PUT /v1/agent/join[?wan]` (port 8301 or 8302 when none given).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use smol::Timer;

use super::{AgentError, ExitRequest};
use crate::serf::SerfHandle;
use crate::shell::Env;
use crate::shell::log::Log;
use crate::shell::smol_env::SmolEnv;

/// Consul's LAN gossip port, used when a join address names none.
pub(crate) const DEFAULT_SERF_LAN_PORT: u16 = 8301;
/// Consul's WAN gossip port, used when a WAN join address names none.
pub(crate) const DEFAULT_SERF_WAN_PORT: u16 = 8302;

/// Which gossip pool a join is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pool {
    /// Every agent of the datacenter.
    Lan,
    /// The servers of every datacenter.
    Wan,
}

impl Pool {
    /// The port a join address without one gets.
    pub(crate) fn default_port(self) -> u16 {
        match self {
            Pool::Lan => DEFAULT_SERF_LAN_PORT,
            Pool::Wan => DEFAULT_SERF_WAN_PORT,
        }
    }

    /// How Consul's log lines name the pool.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Pool::Lan => "LAN",
            Pool::Wan => "WAN",
        }
    }
}

/// `host`, `host:port`, `ip`, `ip:port`, `[v6]:port` → what to resolve, with the default port
/// when none is given.
pub(crate) fn with_default_port(addr: &str, default_port: u16) -> String {
    let addr = addr.trim();
    if addr.parse::<SocketAddr>().is_ok() {
        return addr.to_owned();
    }
    let bare = addr.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return SocketAddr::new(ip, default_port).to_string();
    }
    match addr.rsplit_once(':') {
        Some((_, port)) if port.parse::<u16>().is_ok() => addr.to_owned(),
        _ => format!("{addr}:{default_port}"),
    }
}

/// Resolves one join address (a name may give several) with `pool`'s default port.
pub(crate) async fn resolve(addr: &str, pool: Pool) -> std::io::Result<Vec<SocketAddr>> {
    let target = with_default_port(addr, pool.default_port());
    smol::net::resolve(target.as_str()).await
}

/// Resolves every join address; unresolvable ones are logged and skipped.
async fn resolve_all(addrs: &[String], pool: Pool, log: &Log) -> Vec<SocketAddr> {
    let mut resolved = Vec::new();
    for addr in addrs {
        match resolve(addr, pool).await {
            Ok(found) => resolved.extend(found),
            Err(e) => log.warn(
                "agent",
                format_args!("cannot resolve join address {addr:?}: {e}"),
            ),
        }
    }
    resolved
}

/// Joins `pool` through `addrs`; the number of agents that answered, or why none did.
async fn join_pool(
    serf: &SerfHandle,
    addrs: &[String],
    pool: Pool,
    log: &Log,
) -> Result<usize, String> {
    let resolved = resolve_all(addrs, pool, log).await;
    if resolved.is_empty() {
        return Err(format!("no address of {addrs:?} could be resolved"));
    }
    serf.join(&resolved).await.map_err(|e| e.to_string())
}

/// `-retry-join[-wan]`: tries every `interval` until one join succeeds; after `max` failed
/// attempts (0: never) gives up, returning the error the agent exits with.
async fn retry_join_pool(
    serf: SerfHandle,
    addrs: Vec<String>,
    pool: Pool,
    interval: Duration,
    max: u32,
    log: Log,
) -> Result<(), String> {
    let label = pool.label();
    log.info("agent", format_args!("Joining cluster...: cluster={label}"));
    let mut attempt: u32 = 0;
    loop {
        attempt = attempt.saturating_add(1);
        match join_pool(&serf, &addrs, pool, &log).await {
            Ok(contacted) => {
                log.info(
                    "agent",
                    format_args!("({label}) joined: number_of_nodes={contacted}"),
                );
                log.info("agent", format_args!("Join cluster completed. Synced with initial agents: cluster={label} num_agents={contacted}"));
                return Ok(());
            }
            Err(e) if max != 0 && attempt >= max => {
                return Err(format!(
                    "agent: Join {label} failed: {e}, attempts exhausted"
                ));
            }
            Err(e) => log.warn(
                "agent",
                format_args!(
                    "Join cluster failed, will retry: cluster={label} retry_interval={}s error=\"{e}\"",
                    interval.as_secs_f64()
                ),
            ),
        }
        Timer::after(interval).await;
    }
}

/// What an agent joins when it starts, in one pool.
pub(crate) struct StartJoin<'a> {
    pub(crate) pool: Pool,
    /// `-join[-wan]`: at least one must answer or the agent does not start.
    pub(crate) once: &'a [String],
    /// `-retry-join[-wan]`: retried in the background.
    pub(crate) retry: &'a [String],
    pub(crate) interval: Duration,
    pub(crate) max: u32,
}

/// Joins `plan.once` (failing the start, as Consul does, if nobody answers) and spawns the
/// `plan.retry` loop, whose exhaustion stops the agent through `exit`.
pub(crate) async fn join_at_start(
    env: &SmolEnv,
    serf: &SerfHandle,
    plan: StartJoin<'_>,
    exit: &async_channel::Sender<ExitRequest>,
    log: &Log,
) -> Result<(), AgentError> {
    let label = plan.pool.label();
    if !plan.once.is_empty() {
        log.info("agent", format_args!("Joining cluster...: cluster={label}"));
        let contacted = join_pool(serf, plan.once, plan.pool, log)
            .await
            .map_err(|e| {
                let wan = if plan.pool == Pool::Wan { "WAN " } else { "" };
                AgentError(format!(
                    "Error starting agent: Failed to join {wan}{}: {e}",
                    plan.once.join(", ")
                ))
            })?;
        log.info(
            "agent",
            format_args!("({label}) joined: number_of_nodes={contacted}"),
        );
    }
    if !plan.retry.is_empty() {
        let retry = retry_join_pool(
            serf.clone(),
            plan.retry.to_vec(),
            plan.pool,
            plan.interval,
            plan.max,
            log.clone(),
        );
        let exit = exit.clone();
        env.spawn(async move {
            if let Err(e) = retry.await {
                let _ = exit.send(ExitRequest::Failed(e)).await;
            }
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_addresses_without_a_port_get_the_lan_port() {
        assert_eq!(with_default_port("10.0.0.1", 8301), "10.0.0.1:8301");
        assert_eq!(with_default_port("10.0.0.1:9301", 8301), "10.0.0.1:9301");
        assert_eq!(with_default_port("::1", 8301), "[::1]:8301");
        assert_eq!(with_default_port("[::1]", 8301), "[::1]:8301");
        assert_eq!(with_default_port("[::1]:7", 8301), "[::1]:7");
        assert_eq!(with_default_port("node-a", 8301), "node-a:8301");
        assert_eq!(with_default_port("node-a:9", 8301), "node-a:9");
    }
}
