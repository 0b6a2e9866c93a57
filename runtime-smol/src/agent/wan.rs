//! A server's WAN pool: the servers of every datacenter gossip with memberlist's WAN timings on
//! the serf WAN port (8302), each named `<node>.<dc>`, joined through `-join-wan` (failing the
//! start if nobody answers) and `-retry-join-wan`. Client agents and a disabled port run none.

use super::config::AgentConfig;
use super::join::{self, Pool, StartJoin};
use super::self_report::{AgentIdentity, lan_tags};
use super::{AgentError, ExitRequest, gossip};
use crate::http::backend::NO_WAN;
use crate::serf::SerfHandle;
use crate::shell::log::Log;
use crate::shell::smol_env::SmolEnv;

/// Consul's answer to a WAN request on a client agent.
pub(crate) const NOT_A_SERVER: &str = "Must be a server to join WAN cluster";

/// Starts the WAN pool and its joins; `None` when this agent runs no WAN pool.
pub(crate) async fn start(
    env: &SmolEnv,
    config: &AgentConfig,
    identity: &AgentIdentity,
    exit: &async_channel::Sender<ExitRequest>,
    log: &Log,
) -> Result<Option<SerfHandle>, AgentError> {
    let wants_join = !config.start_join_wan.is_empty() || !config.retry_join_wan.is_empty();
    if !config.server {
        if wants_join {
            log.warn(
                "agent",
                format_args!("(WAN) couldn't join: Err: {NOT_A_SERVER}"),
            );
        }
        return Ok(None);
    }
    let Some(port) = config.serf_wan_port else {
        log.info("agent", format_args!("WAN gossip disabled (port -1)"));
        if wants_join {
            return Err(AgentError(format!(
                "joining over WAN needs WAN gossip: {NO_WAN} (ports.serf_wan = -1)"
            )));
        }
        return Ok(None);
    };
    let keyring = gossip::wan_keyring(config)?;
    let member = (identity.advertise, lan_tags(identity));
    let serf = gossip::start_pool(env, config, member, Pool::Wan, port, keyring)?;
    log.info(
        "agent",
        format_args!("serf: WAN gossip listening on {}", serf.local_addr()),
    );
    let plan = StartJoin {
        pool: Pool::Wan,
        once: &config.start_join_wan,
        retry: &config.retry_join_wan,
        interval: config.retry_interval,
        max: config.retry_max,
    };
    join::join_at_start(env, &serf, plan, exit, log).await?;
    Ok(Some(serf))
}
