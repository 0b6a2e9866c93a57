//! Joining the LAN pool: `-join` once at start, `-retry-join` in the background, and the
//! address rules shared with `synod join` / `PUT /v1/agent/join` (port 8301 when none given).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use smol::Timer;

use crate::serf::SerfHandle;
use crate::shell::log::Log;

/// Consul's LAN gossip port, used when a join address names none.
pub(crate) const DEFAULT_SERF_LAN_PORT: u16 = 8301;

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

/// Resolves every join address (a name may give several); unresolvable ones are logged and
/// skipped.
pub(crate) async fn resolve_all(addrs: &[String], log: &Log) -> Vec<SocketAddr> {
    let mut resolved = Vec::new();
    for addr in addrs {
        let target = with_default_port(addr, DEFAULT_SERF_LAN_PORT);
        match smol::net::resolve(target.as_str()).await {
            Ok(found) => resolved.extend(found),
            Err(e) => log.warn(
                "agent",
                format_args!("cannot resolve join address {addr:?}: {e}"),
            ),
        }
    }
    resolved
}

/// Joins through `addrs`; the number of agents contacted, or why none was.
pub(crate) async fn join(serf: &SerfHandle, addrs: &[String], log: &Log) -> Result<usize, String> {
    let resolved = resolve_all(addrs, log).await;
    if resolved.is_empty() {
        return Err(format!("no address of {addrs:?} could be resolved"));
    }
    serf.join(&resolved).await.map_err(|e| e.to_string())
}

/// `-retry-join`: tries every `interval` until one join succeeds; after `max` failed attempts
/// (0: never) gives up, returning the error the agent exits with.
pub(crate) async fn retry_join(
    serf: SerfHandle,
    addrs: Vec<String>,
    interval: Duration,
    max: u32,
    log: Log,
) -> Result<(), String> {
    log.info("agent", format_args!("Joining cluster...: cluster=LAN"));
    let mut attempt: u32 = 0;
    loop {
        attempt = attempt.saturating_add(1);
        match join(&serf, &addrs, &log).await {
            Ok(contacted) => {
                log.info(
                    "agent",
                    format_args!("(LAN) joined: number_of_nodes={contacted}"),
                );
                log.info("agent", format_args!("Join cluster completed. Synced with initial agents: cluster=LAN num_agents={contacted}"));
                return Ok(());
            }
            Err(e) if max != 0 && attempt >= max => {
                return Err(format!("agent: Join LAN failed: {e}, attempts exhausted"));
            }
            Err(e) => log.warn(
                "agent",
                format_args!(
                    "Join cluster failed, will retry: cluster=LAN retry_interval={}s error=\"{e}\"",
                    interval.as_secs_f64()
                ),
            ),
        }
        Timer::after(interval).await;
    }
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
