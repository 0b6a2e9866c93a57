//! Config reload (`SIGHUP`, `PUT /v1/agent/reload`, `synod reload`): every config source is
//! re-read exactly as at start and validated as a whole; on any error nothing changes and the
//! error names the file, key and reason. On success the service and check definitions go to
//! the [`DefinitionSink`] and the reloadable settings take effect.
//!
//! Reloadable: the config-file `service`/`services`/`check`/`checks` (validated against the
//! re-read `enable_script_checks`/`enable_local_script_checks`) and `log_level`. Every other
//! setting keeps its running value until a restart; a reload that changes one says so in the
//! log.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use synod_core::health::{CheckDefinition, ServiceDefinition};

use super::AgentConfig;
use super::definitions::Definitions;
use crate::shell::log::Log;

/// Re-reads every config source (same files, dirs and flags as at start, merged in the same
/// order) into a validated configuration; the error is the text the operator sees. It runs on
/// the blocking thread pool so file reads never stall the agent's event loop.
pub type ConfigLoader = Arc<dyn Fn() -> Result<AgentConfig, String> + Send + Sync>;

/// Where config-file definitions go: the agent's local services and checks, which replace the
/// previous config-file ones with these (adding, changing and removing).
pub trait DefinitionSink {
    /// Replaces the config-file definitions; the error refuses the reload.
    fn replace_config_definitions(
        &self,
        services: Vec<ServiceDefinition>,
        checks: Vec<CheckDefinition>,
    ) -> impl Future<Output = Result<(), String>>;
}

/// Asks the reload task for a reload and hears its outcome; cheap to clone, `Send`.
#[derive(Clone, Debug)]
pub struct ReloadHandle {
    requests: async_channel::Sender<async_channel::Sender<Result<(), String>>>,
}

/// The receiving end of [`ReloadHandle`], drained by [`Reloader::serve`].
pub struct ReloadRequests(async_channel::Receiver<async_channel::Sender<Result<(), String>>>);

/// What a reload answers when the reload task is gone (the agent is shutting down).
pub const RELOAD_UNAVAILABLE: &str = "the agent is shutting down";

/// A connected handle and request queue.
pub fn channel() -> (ReloadHandle, ReloadRequests) {
    let (requests, rx) = async_channel::unbounded();
    (ReloadHandle { requests }, ReloadRequests(rx))
}

impl ReloadHandle {
    /// Reloads and waits for the outcome.
    pub async fn reload(&self) -> Result<(), String> {
        let (reply, outcome) = async_channel::bounded(1);
        self.requests
            .send(reply)
            .await
            .map_err(|_| RELOAD_UNAVAILABLE.to_owned())?;
        outcome
            .recv()
            .await
            .map_err(|_| RELOAD_UNAVAILABLE.to_owned())?
    }

    /// Starts a reload without waiting (`SIGHUP`); the outcome is logged.
    pub fn trigger(&self) {
        let (reply, _ignored) = async_channel::bounded(1);
        let _ = self.requests.try_send(reply);
    }
}

/// Owns the running configuration and applies reloads one at a time.
pub struct Reloader<S> {
    loader: ConfigLoader,
    sink: S,
    running: AgentConfig,
    log: Log,
}

impl<S: DefinitionSink> Reloader<S> {
    /// Hands the start-up definitions to `sink`; `running` is the configuration the agent
    /// started with (`loader` must produce it again when nothing changed on disk).
    pub async fn start(
        loader: ConfigLoader,
        sink: S,
        running: AgentConfig,
        log: Log,
    ) -> Result<Self, String> {
        let Definitions { services, checks } = running.definitions.clone();
        log.info(
            "agent",
            format_args!(
                "config definitions: services={} checks={}",
                names(&services, |s| &s.id),
                names(&checks, |c| &c.id)
            ),
        );
        sink.replace_config_definitions(services, checks).await?;
        Ok(Reloader {
            loader,
            sink,
            running,
            log,
        })
    }

    /// The configuration in effect.
    pub fn running(&self) -> &AgentConfig {
        &self.running
    }

    /// Re-reads, validates and applies every config source; on error nothing changes.
    pub async fn reload(&mut self) -> Result<(), String> {
        self.log
            .info("agent", format_args!("Reloading configuration..."));
        let loader = Arc::clone(&self.loader);
        let new = smol::unblock(move || loader()).await?;
        let changes = DefinitionChanges::between(&self.running.definitions, &new.definitions);
        let Definitions { services, checks } = new.definitions.clone();
        self.sink
            .replace_config_definitions(services, checks)
            .await
            .map_err(|e| format!("Failed reloading services and checks: {e}"))?;
        if new.log_level != self.running.log_level {
            self.log.set_min_level(new.log_level);
            self.log.info(
                "agent",
                format_args!("log level changed: log_level={:?}", new.log_level),
            );
        }
        let applied = with_reloadable_settings(&self.running, &new);
        if applied != new {
            self.log.warn(
                "agent",
                format_args!(
                    "only services, checks and log_level are reloaded; other changed settings take effect after a restart"
                ),
            );
        }
        self.log.info("agent", format_args!("{changes}"));
        self.running = applied;
        Ok(())
    }

    /// Answers reload requests until every [`ReloadHandle`] is gone.
    pub async fn serve(mut self, requests: ReloadRequests) {
        while let Ok(reply) = requests.0.recv().await {
            let outcome = self.reload().await;
            if let Err(e) = &outcome {
                self.log
                    .error("agent", format_args!("Failed to reload configs: {e}"));
            }
            let _ = reply.try_send(outcome);
        }
    }
}

/// `running` with the settings a reload applies taken from `new`; it differs from `new` only
/// in settings that need a restart.
fn with_reloadable_settings(running: &AgentConfig, new: &AgentConfig) -> AgentConfig {
    AgentConfig {
        log_level: new.log_level,
        enable_script_checks: new.enable_script_checks,
        enable_local_script_checks: new.enable_local_script_checks,
        definitions: new.definitions.clone(),
        ..running.clone()
    }
}

/// Service and check IDs a reload adds, changes and removes (for the log).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DefinitionChanges {
    /// New IDs.
    pub added: Vec<String>,
    /// IDs whose definition differs.
    pub changed: Vec<String>,
    /// IDs no longer defined.
    pub removed: Vec<String>,
}

impl DefinitionChanges {
    /// Compares services and standalone checks by ID (checks prefixed `check:` to keep the
    /// two namespaces apart).
    pub fn between(old: &Definitions, new: &Definitions) -> Self {
        let mut changes = DefinitionChanges::default();
        changes.diff(&old.services, &new.services, |s| s.id.clone());
        changes.diff(&old.checks, &new.checks, |c| format!("check:{}", c.id));
        changes
    }

    fn diff<'a, T: PartialEq>(&mut self, old: &'a [T], new: &'a [T], key: impl Fn(&T) -> String) {
        let by_key = |items: &'a [T]| -> BTreeMap<String, &'a T> {
            items.iter().map(|i| (key(i), i)).collect()
        };
        let (old, new) = (by_key(old), by_key(new));
        for (id, definition) in &new {
            match old.get(id) {
                None => self.added.push(id.clone()),
                Some(previous) if previous != definition => self.changed.push(id.clone()),
                Some(_) => {}
            }
        }
        self.removed
            .extend(old.keys().filter(|id| !new.contains_key(*id)).cloned());
    }
}

impl std::fmt::Display for DefinitionChanges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "config reloaded: added=[{}] changed=[{}] removed=[{}]",
            self.added.join(","),
            self.changed.join(","),
            self.removed.join(",")
        )
    }
}

fn names<T>(items: &[T], id: impl Fn(&T) -> &String) -> String {
    let ids: Vec<&str> = items.iter().map(|item| id(item).as_str()).collect();
    format!("[{}]", ids.join(","))
}

#[cfg(test)]
#[path = "reload_tests.rs"]
mod tests;
