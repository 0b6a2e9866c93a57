//! Starting this agent's gossip pools — LAN (every agent of the datacenter) and WAN (servers of
//! every datacenter, named `<node>.<dc>`): bind address, advertised address, tags and the
//! keyrings (Consul's `<data-dir>/serf/local.keyring` and `remote.keyring` rule).

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use super::AgentError;
use super::config::AgentConfig;
use super::join::Pool;
use crate::serf::{self, Config, Keyring, SerfConfig, SerfHandle};
use crate::shell::smol_env::SmolEnv;

/// The LAN keyring gossip runs with, `None` when unencrypted: an existing keyring file wins
/// over `encrypt`; in dev mode (no data dir) `encrypt` is used as is.
pub(crate) fn keyring(config: &AgentConfig) -> Result<Option<Keyring>, AgentError> {
    pool_keyring(config, serf::keyring_path)
}

/// The WAN pool's keyring (its own file, seeded from the same `encrypt` key).
pub(crate) fn wan_keyring(config: &AgentConfig) -> Result<Option<Keyring>, AgentError> {
    pool_keyring(config, serf::wan_keyring_path)
}

fn pool_keyring(
    config: &AgentConfig,
    file: fn(&Path) -> std::path::PathBuf,
) -> Result<Option<Keyring>, AgentError> {
    let refused = |e: serf::KeyringFileError| AgentError(format!("Failed to load keyring: {e}"));
    match &config.data_dir {
        Some(dir) => {
            serf::load_or_init_keyring_at(&file(dir), config.encrypt.as_deref()).map_err(refused)
        }
        None => config
            .encrypt
            .as_ref()
            .map(|key| serf::keyring_from_keys(std::slice::from_ref(key)))
            .transpose()
            .map_err(refused),
    }
}

/// This agent's name in `pool`: the node name on the LAN, `<node>.<dc>` on the WAN (as
/// Consul names WAN members, so servers of different datacenters may share a node name).
pub(crate) fn member_name(pool: Pool, node: &str, datacenter: &str) -> String {
    match pool {
        Pool::Lan => node.to_owned(),
        Pool::Wan => format!("{node}.{datacenter}"),
    }
}

/// Starts the LAN pool on `config.bind:port`; see [`start_pool`].
pub(crate) fn start_lan(
    env: &SmolEnv,
    config: &AgentConfig,
    advertise: IpAddr,
    tags: BTreeMap<String, String>,
    port: u16,
    keyring: Option<Keyring>,
) -> Result<SerfHandle, AgentError> {
    start_pool(env, config, (advertise, tags), Pool::Lan, port, keyring)
}

/// Starts `pool` on `config.bind:port` with memberlist's timings for it, advertising
/// `advertise` with `tags`; spawns its task on `env` and returns the handle.
pub(crate) fn start_pool(
    env: &SmolEnv,
    config: &AgentConfig,
    (advertise, tags): (IpAddr, BTreeMap<String, String>),
    pool: Pool,
    port: u16,
    keyring: Option<Keyring>,
) -> Result<SerfHandle, AgentError> {
    let bind = SocketAddr::new(config.bind, port);
    let timings = match pool {
        Pool::Lan => Config::lan(),
        Pool::Wan => Config::wan(),
    };
    let name = member_name(pool, &config.node_name, &config.datacenter);
    let mut serf_config = SerfConfig::new(bind, name, timings);
    // A specific bind address is advertised as bound (port 0 then gets its real port); an
    // unspecified one needs the address peers can reach.
    if config.bind.is_unspecified() || config.advertise.is_some() {
        serf_config.advertise = Some(SocketAddr::new(advertise, port));
    }
    serf_config.tags = tags;
    serf_config.keyring = keyring;
    let (handle, task) = serf::start(env.clone(), serf_config).map_err(|e| {
        AgentError(format!(
            "failed to start {} gossip on {bind}: {e}",
            pool.label()
        ))
    })?;
    crate::shell::Env::spawn(env, task);
    Ok(handle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wan_members_are_named_node_dot_datacenter() {
        assert_eq!(member_name(Pool::Lan, "s1", "dc1"), "s1");
        assert_eq!(member_name(Pool::Wan, "s1", "dc1"), "s1.dc1");
    }
}
