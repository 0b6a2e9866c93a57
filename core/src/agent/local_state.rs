//! [`LocalState`]: the agent's services and checks, their check scheduler, maintenance and the
//! sync bookkeeping. Handle/poll style: inputs take `now`, outputs are drained.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use crate::agent::entries::{AgentService, CheckBody, CheckEntry, Source, Sync};
use crate::agent::full_sync::{FULL_SYNC_INTERVAL, scaled_interval};
use crate::health::check::{CheckDefinition, CheckKind, ServiceDefinition};
use crate::health::scheduler::{self, Outcome, Scheduler};
use crate::rand::Rng;
use crate::state::catalog::types::{HealthStatus, Node};
use crate::time::Instant;

/// What the agent's state asks of its driver (besides syncing, see
/// [`LocalState::take_changes`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Run this probe; report with [`LocalState::handle_outcome`].
    RunCheck {
        /// Check.
        check_id: String,
        /// The probe.
        spec: CheckKind,
        /// When the probe must give up (critical).
        deadline: Instant,
    },
    /// A full sync is due: read the catalog's view of this node and pass it to
    /// [`LocalState::full_sync`].
    FullSync,
    /// `deregister_critical_service_after` removed this service (forget its persisted copy).
    ServiceReaped {
        /// Service instance.
        service_id: String,
        /// Where it came from.
        source: Source,
        /// The checks that went with it.
        check_ids: Vec<String>,
    },
}

/// Why an agent-API change was refused (Consul's texts).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LocalError {
    /// No local service with this ID.
    UnknownService(String),
    /// No local check with this ID.
    UnknownCheck(String),
    /// A check names a service the agent does not have.
    MissingService {
        /// The service ID the check named.
        service_id: String,
    },
    /// A TTL report for a check that is not a TTL check (or does not exist).
    NotTtl(String),
    /// Maintenance asked for a service the agent does not have.
    NoServiceForMaintenance(String),
}

impl core::fmt::Display for LocalError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            LocalError::UnknownService(id) => write!(
                f,
                "Unknown service ID {id:?}. Ensure that the service ID is passed, not the service name."
            ),
            LocalError::UnknownCheck(id) => write!(
                f,
                "Unknown check ID {id:?}. Ensure that the check ID is passed, not the check name."
            ),
            LocalError::MissingService { service_id } => {
                write!(f, "ServiceID {service_id:?} does not exist")
            }
            LocalError::NotTtl(id) => write!(f, "CheckID {id:?} does not have associated TTL"),
            LocalError::NoServiceForMaintenance(id) => {
                write!(f, "No service registered with ID {id:?}")
            }
        }
    }
}

/// The services and checks one agent owns.
#[derive(Clone, Debug)]
pub struct LocalState {
    pub(crate) node: Node,
    pub(crate) node_sync: Sync,
    pub(crate) services: BTreeMap<String, AgentService>,
    pub(crate) checks: BTreeMap<String, CheckEntry>,
    /// Removed locally, still to be deregistered from the catalog.
    pub(crate) removed_services: BTreeSet<String>,
    pub(crate) removed_checks: BTreeSet<String>,
    /// Some entry is [`Sync::Dirty`] (kept so the driver's check after every input is O(1)).
    pub(crate) urgent: bool,
    pub(crate) scheduler: Scheduler,
    pub(crate) rng: Rng,
    pub(crate) next_full_sync: Instant,
    pub(crate) cluster_size: usize,
    sync_base: Duration,
    actions: VecDeque<Action>,
}

impl LocalState {
    /// The agent for `node` (its catalog row), with nothing registered yet. A full sync is due
    /// at once (it registers the node).
    pub fn new(now: Instant, node: Node, mut rng: Rng) -> Self {
        LocalState {
            node,
            node_sync: Sync::Dirty,
            services: BTreeMap::new(),
            checks: BTreeMap::new(),
            removed_services: BTreeSet::new(),
            removed_checks: BTreeSet::new(),
            urgent: true,
            scheduler: Scheduler::new(rng.fork()),
            rng,
            next_full_sync: now,
            cluster_size: 1,
            sync_base: FULL_SYNC_INTERVAL,
            actions: VecDeque::new(),
        }
    }

    /// This agent's node row.
    pub fn node(&self) -> &Node {
        &self.node
    }

    /// Replaces the base full-sync interval (a minute) before cluster scaling; tests and small
    /// deployments use a shorter one.
    pub fn set_full_sync_base(&mut self, base: Duration) {
        self.sync_base = base;
    }

    /// The number of nodes in the cluster, which stretches the full-sync interval.
    pub fn set_cluster_size(&mut self, nodes: usize) {
        self.cluster_size = nodes.max(1);
    }

    /// Adds or replaces a service and the checks in `def.checks` (replacing checks with the same
    /// IDs). With `replace_existing_checks`, the service's other checks are removed.
    pub fn add_service(
        &mut self,
        now: Instant,
        mut def: ServiceDefinition,
        source: Source,
        replace_existing_checks: bool,
    ) {
        let checks = std::mem::take(&mut def.checks);
        let id = def.id.clone();
        if replace_existing_checks {
            let keep: BTreeSet<&str> = checks.iter().map(|c| c.id.as_str()).collect();
            let stale: Vec<String> = self
                .checks
                .iter()
                .filter(|(cid, c)| {
                    c.service_id() == id
                        && matches!(c.body, CheckBody::Probe(_))
                        && !keep.contains(cid.as_str())
                })
                .map(|(cid, _)| cid.clone())
                .collect();
            for cid in stale {
                self.drop_check(&cid);
            }
        }
        let changed = self.services.get(&id).is_none_or(|s| s.def != def);
        self.urgent |= changed;
        self.removed_services.remove(&id);
        self.services.insert(
            id,
            AgentService {
                def,
                source,
                sync: if changed { Sync::Dirty } else { Sync::Clean },
            },
        );
        for check in checks {
            self.put_probe(now, check, source);
        }
    }

    /// Removes a service with its checks.
    pub fn remove_service(&mut self, service_id: &str) -> Result<(), LocalError> {
        if self.services.remove(service_id).is_none() {
            return Err(LocalError::UnknownService(service_id.to_owned()));
        }
        let owned: Vec<String> = self
            .checks
            .iter()
            .filter(|(_, c)| c.service_id() == service_id)
            .map(|(id, _)| id.clone())
            .collect();
        for id in owned {
            self.scheduler.remove(&id);
            self.checks.remove(&id);
        }
        // Deregistering the service takes its checks with it in the catalog.
        self.removed_services.insert(service_id.to_owned());
        Ok(())
    }

    /// Adds or replaces a check; a `service_id` must name a local service.
    pub fn add_check(
        &mut self,
        now: Instant,
        def: CheckDefinition,
        source: Source,
    ) -> Result<(), LocalError> {
        if !def.service_id.is_empty() && !self.services.contains_key(&def.service_id) {
            return Err(LocalError::MissingService {
                service_id: def.service_id,
            });
        }
        self.put_probe(now, def, source);
        Ok(())
    }

    /// Removes a check.
    pub fn remove_check(&mut self, check_id: &str) -> Result<(), LocalError> {
        if !self.checks.contains_key(check_id) {
            return Err(LocalError::UnknownCheck(check_id.to_owned()));
        }
        self.drop_check(check_id);
        Ok(())
    }

    /// Makes the config-sourced services and checks exactly `services` and `checks` (adding,
    /// changing, removing); API-sourced ones stay. Checks naming a missing service are skipped
    /// and returned.
    pub fn replace_config(
        &mut self,
        now: Instant,
        services: Vec<ServiceDefinition>,
        checks: Vec<CheckDefinition>,
    ) -> Vec<LocalError> {
        let wanted_services: BTreeSet<String> = services.iter().map(|s| s.id.clone()).collect();
        let mut wanted_checks: BTreeSet<String> = checks.iter().map(|c| c.id.clone()).collect();
        wanted_checks.extend(
            services
                .iter()
                .flat_map(|s| s.checks.iter().map(|c| c.id.clone())),
        );
        let stale_services: Vec<String> = self
            .services
            .iter()
            .filter(|(id, s)| s.source == Source::Config && !wanted_services.contains(*id))
            .map(|(id, _)| id.clone())
            .collect();
        for id in stale_services {
            let _ = self.remove_service(&id);
        }
        let stale_checks: Vec<String> = self
            .checks
            .iter()
            .filter(|(id, c)| c.source == Source::Config && !wanted_checks.contains(*id))
            .map(|(id, _)| id.clone())
            .collect();
        for id in stale_checks {
            self.drop_check(&id);
        }
        for service in services {
            self.add_service(now, service, Source::Config, false);
        }
        checks
            .into_iter()
            .filter_map(|c| self.add_check(now, c, Source::Config).err())
            .collect()
    }

    /// A TTL report (`pass`/`warn`/`fail`/`update`).
    pub fn ttl_update(
        &mut self,
        now: Instant,
        check_id: &str,
        status: HealthStatus,
        output: &str,
    ) -> Result<(), LocalError> {
        self.scheduler
            .ttl_update(now, check_id, status, output)
            .map_err(|_| LocalError::NotTtl(check_id.to_owned()))?;
        self.drain_scheduler();
        Ok(())
    }

    /// Records a probe's result.
    pub fn handle_outcome(&mut self, now: Instant, check_id: &str, outcome: Outcome) {
        self.scheduler.handle_outcome(now, check_id, outcome);
        self.drain_scheduler();
    }

    /// When [`LocalState::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        Some(match self.scheduler.poll_timeout() {
            Some(at) => at.min(self.next_full_sync),
            None => self.next_full_sync,
        })
    }

    /// Fires probe deadlines and, when due, asks for a full sync.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.scheduler.handle_timeout(now);
        self.drain_scheduler();
        if now >= self.next_full_sync {
            // Not due again until this one completes and reschedules.
            self.next_full_sync = Instant::from_micros(u64::MAX);
            self.actions.push_back(Action::FullSync);
        }
    }

    /// A sync could not read or write the catalog (or no leader is known yet): run a full sync
    /// after `retry_after` plus a random stagger of up to as much again.
    pub fn sync_failed(&mut self, now: Instant, retry_after: Duration) {
        let micros = u64::try_from(retry_after.as_micros()).unwrap_or(u64::MAX);
        let stagger = Duration::from_micros(self.rng.below(micros.max(1)));
        let at = now.saturating_add(retry_after).saturating_add(stagger);
        self.next_full_sync = self.next_full_sync.min(at);
    }

    /// The next action for the driver.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// Whether a change waits to be written now.
    pub fn needs_sync(&self) -> bool {
        self.urgent || !self.removed_services.is_empty() || !self.removed_checks.is_empty()
    }

    pub(crate) fn schedule_full_sync(&mut self, now: Instant) {
        let interval = scaled_interval(self.sync_base, self.cluster_size);
        let micros = u64::try_from(interval.as_micros()).unwrap_or(u64::MAX);
        let stagger = Duration::from_micros(self.rng.below(micros.max(1)));
        self.next_full_sync = now.saturating_add(interval).saturating_add(stagger);
    }

    fn put_probe(&mut self, now: Instant, def: CheckDefinition, source: Source) {
        let id = def.id.clone();
        let unchanged = matches!(
            self.checks.get(&id),
            Some(CheckEntry { body: CheckBody::Probe(old), .. }) if *old == def
        );
        self.removed_checks.remove(&id);
        if unchanged {
            if let Some(entry) = self.checks.get_mut(&id) {
                entry.source = source;
            }
            return;
        }
        self.scheduler.add(now, def.clone());
        self.checks.insert(
            id,
            CheckEntry {
                body: CheckBody::Probe(def),
                source,
                sync: Sync::Dirty,
            },
        );
        self.urgent = true;
        self.drain_scheduler();
    }

    pub(crate) fn put_fixed(&mut self, row: crate::state::catalog::types::Check) {
        let id = row.check_id.clone();
        self.removed_checks.remove(&id);
        self.checks.insert(
            id,
            CheckEntry {
                body: CheckBody::Fixed(row),
                source: Source::Api,
                sync: Sync::Dirty,
            },
        );
        self.urgent = true;
    }

    pub(crate) fn drop_check(&mut self, check_id: &str) {
        self.scheduler.remove(check_id);
        if self.checks.remove(check_id).is_some() {
            self.removed_checks.insert(check_id.to_owned());
        }
    }

    fn drain_scheduler(&mut self) {
        while let Some(action) = self.scheduler.poll_action() {
            match action {
                scheduler::Action::RunCheck {
                    check_id,
                    spec,
                    deadline,
                } => self.actions.push_back(Action::RunCheck {
                    check_id,
                    spec,
                    deadline,
                }),
                scheduler::Action::StatusChanged { check_id, .. } => {
                    if let Some(entry) = self.checks.get_mut(&check_id) {
                        entry.sync = Sync::Dirty;
                        self.urgent = true;
                    }
                }
                scheduler::Action::OutputChanged { check_id, .. } => {
                    if let Some(entry) = self.checks.get_mut(&check_id)
                        && entry.sync == Sync::Clean
                    {
                        entry.sync = Sync::Deferred;
                    }
                }
                scheduler::Action::DeregisterService { service_id, .. } => {
                    let source = self.services.get(&service_id).map(|s| s.source);
                    let check_ids: Vec<String> = self
                        .checks
                        .iter()
                        .filter(|(_, c)| c.service_id() == service_id)
                        .map(|(id, _)| id.clone())
                        .collect();
                    if let Some(source) = source
                        && self.remove_service(&service_id).is_ok()
                    {
                        self.actions.push_back(Action::ServiceReaped {
                            service_id,
                            source,
                            check_ids,
                        });
                    }
                }
            }
        }
    }
}
