//! The agent's own services and checks at run time: one task owns the core
//! [`synod_core::agent::LocalState`], runs its probes, keeps the catalog in sync through the
//! generic [`crate::http::Backend`] and persists API registrations. [`LocalAgent`] is the
//! cloneable handle the HTTP API and config reload use.

mod catalog_sync;
mod definition_json;
mod driver;
mod owner;
mod persist;
mod probe;
mod probe_http;
mod probe_script;
mod probe_tcp;
mod startup;
#[cfg(test)]
mod tests;

pub use startup::node_row;

use std::path::PathBuf;
use std::sync::Arc;

use async_channel::Sender;
use synod_core::agent::{AgentCheck, AgentService, LocalError, LocalState};
use synod_core::health::{CheckDefinition, ServiceDefinition};
use synod_core::rand::Rng;
use synod_core::state::catalog::types::{HealthStatus, Node};

use crate::http::Backend;
use crate::shell::Env;
use crate::shell::log::Log;
use crate::shell::smol_env::SmolEnv;
pub(crate) use owner::Owner;

/// What the API answers once the agent's task has stopped.
const STOPPED: &str = "the agent is shutting down";

type Job = Box<dyn FnOnce(&mut Owner) + Send>;

/// How the local agent is set up.
#[derive(Clone, Debug)]
pub struct LocalConfig {
    /// This agent's catalog node row.
    pub node: Node,
    /// Where API registrations persist (`None`: dev mode, memory only).
    pub data_dir: Option<PathBuf>,
    /// Whether API-registered script checks may run (`enable_script_checks`).
    pub enable_script_checks: bool,
    /// Seeds check spreading and sync stagger.
    pub seed: u64,
    /// Base interval between full syncs (Consul's minute; scaled up for large clusters).
    pub full_sync_interval: std::time::Duration,
}

/// A handle on the running local agent. Cheap to clone; `Send + Sync`.
#[derive(Clone, Debug)]
pub struct LocalAgent {
    jobs: Sender<Job>,
}

/// A service with the checks that bear on it (node checks and its own).
#[derive(Clone, Debug)]
pub struct ServiceWithChecks {
    /// The service.
    pub service: AgentService,
    /// Node checks and its own checks, by ID.
    pub checks: Vec<AgentCheck>,
}

/// Why an agent-API call failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LocalFailure {
    /// Refused by the agent's rules (Consul's 404/400/500 texts).
    Refused(LocalError),
    /// Anything else (persistence, script checks disabled, shutting down).
    Other(String),
}

impl std::fmt::Display for LocalFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LocalFailure::Refused(e) => e.fmt(f),
            LocalFailure::Other(e) => f.write_str(e),
        }
    }
}

impl From<LocalError> for LocalFailure {
    fn from(e: LocalError) -> Self {
        LocalFailure::Refused(e)
    }
}

/// Starts the local agent's task on `env`: restores persisted registrations, then keeps the
/// catalog in sync with what it holds.
pub fn start<B: Backend>(
    env: &SmolEnv,
    backend: Arc<B>,
    config: LocalConfig,
    log: Log,
) -> LocalAgent {
    let (jobs, job_rx) = async_channel::unbounded();
    let now = env.now();
    let mut local = LocalState::new(now, config.node.clone(), Rng::new(config.seed));
    local.set_full_sync_base(config.full_sync_interval);
    let owner = Owner::new(local, &config, log);
    let driver = driver::Driver::new(env.clone(), backend, owner, job_rx);
    env.spawn(driver.run());
    LocalAgent { jobs }
}

impl LocalAgent {
    /// Runs `f` on the owner task and returns its answer.
    async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Owner) -> T + Send + 'static,
    ) -> Result<T, LocalFailure> {
        let (tx, rx) = async_channel::bounded(1);
        let job: Job = Box::new(move |owner| {
            let _ = tx.try_send(f(owner));
        });
        self.jobs
            .send(job)
            .await
            .map_err(|_| LocalFailure::Other(STOPPED.to_owned()))?;
        rx.recv()
            .await
            .map_err(|_| LocalFailure::Other(STOPPED.to_owned()))
    }

    /// Makes the config-sourced services and checks equal to these (adds, changes, removes);
    /// API-registered ones are left alone. Checks naming a missing service are refused (the
    /// rest still apply).
    pub async fn replace_config_definitions(
        &self,
        services: Vec<ServiceDefinition>,
        checks: Vec<CheckDefinition>,
    ) -> Result<(), String> {
        self.call(move |o| o.replace_config(services, checks))
            .await
            .map_err(|e| e.to_string())?
    }

    /// Every local service, by ID.
    pub async fn services(&self) -> Result<Vec<AgentService>, LocalFailure> {
        self.call(|o| o.local.services().cloned().collect()).await
    }

    /// Every local check, by ID.
    pub async fn checks(&self) -> Result<Vec<AgentCheck>, LocalFailure> {
        self.call(|o| o.local.checks()).await
    }

    /// One service with the checks bearing on it.
    pub async fn service(&self, id: String) -> Result<Option<ServiceWithChecks>, LocalFailure> {
        self.call(move |o| o.service_with_checks(&id)).await
    }

    /// Every instance of service `name` with the checks bearing on it.
    pub async fn services_named(
        &self,
        name: String,
    ) -> Result<Vec<ServiceWithChecks>, LocalFailure> {
        self.call(move |o| {
            let ids: Vec<String> = o
                .local
                .services()
                .filter(|s| s.def.name == name)
                .map(|s| s.def.id.clone())
                .collect();
            ids.iter()
                .filter_map(|id| o.service_with_checks(id))
                .collect()
        })
        .await
    }

    /// `/v1/agent/service/register`.
    pub async fn register_service(
        &self,
        def: ServiceDefinition,
        replace_existing_checks: bool,
    ) -> Result<(), LocalFailure> {
        self.call(move |o| o.register_service(def, replace_existing_checks))
            .await?
    }

    /// `/v1/agent/service/deregister/<id>`.
    pub async fn deregister_service(&self, id: String) -> Result<(), LocalFailure> {
        self.call(move |o| o.deregister_service(&id)).await?
    }

    /// `/v1/agent/check/register`.
    pub async fn register_check(&self, def: CheckDefinition) -> Result<(), LocalFailure> {
        self.call(move |o| o.register_check(def)).await?
    }

    /// `/v1/agent/check/deregister/<id>`.
    pub async fn deregister_check(&self, id: String) -> Result<(), LocalFailure> {
        self.call(move |o| o.deregister_check(&id)).await?
    }

    /// `/v1/agent/check/pass|warn|fail|update/<id>`.
    pub async fn ttl_update(
        &self,
        id: String,
        status: HealthStatus,
        output: String,
    ) -> Result<(), LocalFailure> {
        self.call(move |o| {
            let now = o.now;
            o.local
                .ttl_update(now, &id, status, &output)
                .map_err(LocalFailure::from)
        })
        .await?
    }

    /// The number of nodes in the cluster, which stretches the full-sync interval past 128.
    pub async fn set_cluster_size(&self, nodes: usize) -> Result<(), LocalFailure> {
        self.call(move |o| o.local.set_cluster_size(nodes)).await
    }

    /// `/v1/agent/maintenance`.
    pub async fn node_maintenance(&self, enable: bool, reason: String) -> Result<(), LocalFailure> {
        self.call(move |o| o.local.set_node_maintenance(enable, &reason))
            .await
    }

    /// `/v1/agent/service/maintenance/<id>`.
    pub async fn service_maintenance(
        &self,
        id: String,
        enable: bool,
        reason: String,
    ) -> Result<(), LocalFailure> {
        self.call(move |o| {
            o.local
                .set_service_maintenance(&id, enable, &reason)
                .map_err(LocalFailure::from)
        })
        .await?
    }
}

/// The reloader hands every validated set of config-file definitions here.
impl crate::agent::reload::DefinitionSink for LocalAgent {
    fn replace_config_definitions(
        &self,
        services: Vec<ServiceDefinition>,
        checks: Vec<CheckDefinition>,
    ) -> impl std::future::Future<Output = Result<(), String>> {
        LocalAgent::replace_config_definitions(self, services, checks)
    }
}
