//! Starting the LAN gossip pool for this agent: bind address, advertised address, tags and the
//! keyring (Consul's `<data-dir>/serf/local.keyring` rule).

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use super::AgentError;
use super::config::AgentConfig;
use crate::serf::{self, Config, Keyring, SerfConfig, SerfHandle};
use crate::shell::smol_env::SmolEnv;

/// The keyring gossip runs with, `None` when unencrypted: an existing keyring file wins over
/// `encrypt`; in dev mode (no data dir) `encrypt` is used as is.
pub(crate) fn keyring(config: &AgentConfig) -> Result<Option<Keyring>, AgentError> {
    let refused = |e: serf::KeyringFileError| AgentError(format!("Failed to load keyring: {e}"));
    match &config.data_dir {
        Some(dir) => serf::load_or_init_keyring(dir, config.encrypt.as_deref()).map_err(refused),
        None => config
            .encrypt
            .as_ref()
            .map(|key| serf::keyring_from_keys(std::slice::from_ref(key)))
            .transpose()
            .map_err(refused),
    }
}

/// Starts the LAN pool on `config.bind:port`, advertising `advertise` with `tags`; spawns its
/// task on `env` and returns the handle.
pub(crate) fn start_lan(
    env: &SmolEnv,
    config: &AgentConfig,
    advertise: IpAddr,
    tags: BTreeMap<String, String>,
    port: u16,
    keyring: Option<Keyring>,
) -> Result<SerfHandle, AgentError> {
    let bind = SocketAddr::new(config.bind, port);
    let mut serf_config = SerfConfig::new(bind, config.node_name.clone(), Config::lan());
    // A specific bind address is advertised as bound (port 0 then gets its real port); an
    // unspecified one needs the address peers can reach.
    if config.bind.is_unspecified() || config.advertise.is_some() {
        serf_config.advertise = Some(SocketAddr::new(advertise, port));
    }
    serf_config.tags = tags;
    serf_config.keyring = keyring;
    let (handle, task) = serf::start(env.clone(), serf_config)
        .map_err(|e| AgentError(format!("failed to start LAN gossip on {bind}: {e}")))?;
    crate::shell::Env::spawn(env, task);
    Ok(handle)
}
