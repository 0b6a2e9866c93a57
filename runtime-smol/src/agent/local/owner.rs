//! What the owner task holds and how agent-API calls change it: the core state plus the
//! persistence and script-check rules that are the runtime's business.

use synod_core::agent::{LocalState, Source};
use synod_core::health::{CheckDefinition, CheckKind, ServiceDefinition};
use synod_core::time::Instant;

use super::persist::Store;
use super::{LocalConfig, LocalFailure, ServiceWithChecks};
use crate::shell::log::Log;

/// Consul's refusal of a script check the agent may not run.
const SCRIPTS_DISABLED: &str = "Scripts are disabled on this agent; to enable, configure 'enable_script_checks' or 'enable_local_script_checks' to true";

/// The state the owner task hands to every job.
pub(crate) struct Owner {
    /// The agent's services and checks.
    pub(crate) local: LocalState,
    /// The time of the wake-up that runs the job.
    pub(crate) now: Instant,
    store: Option<Store>,
    enable_script_checks: bool,
    pub(crate) log: Log,
}

impl Owner {
    pub(super) fn new(local: LocalState, config: &LocalConfig, log: Log) -> Owner {
        Owner {
            local,
            now: Instant::from_micros(0),
            store: config.data_dir.as_deref().map(Store::new),
            enable_script_checks: config.enable_script_checks,
            log,
        }
    }

    /// Brings back the API registrations of an earlier run.
    pub(super) fn restore(&mut self) {
        let Some(store) = &self.store else {
            return;
        };
        let restored = store.load();
        for error in &restored.errors {
            self.log.warn(
                "agent",
                format_args!("skipping a persisted registration: {error}"),
            );
        }
        let (services, checks) = (restored.services.len(), restored.checks.len());
        for def in restored.services {
            self.local.add_service(self.now, def, Source::Api, false);
        }
        for def in restored.checks {
            if let Err(e) = self.local.add_check(self.now, def, Source::Api) {
                self.log
                    .warn("agent", format_args!("skipping a persisted check: {e}"));
            }
        }
        if services + checks > 0 {
            self.log.info(
                "agent",
                format_args!("restored {services} services and {checks} checks from disk"),
            );
        }
    }

    pub(super) fn replace_config(
        &mut self,
        services: Vec<ServiceDefinition>,
        checks: Vec<CheckDefinition>,
    ) -> Result<(), String> {
        let errors = self.local.replace_config(self.now, services, checks);
        if errors.is_empty() {
            return Ok(());
        }
        let texts: Vec<String> = errors.iter().map(ToString::to_string).collect();
        Err(texts.join("; "))
    }

    pub(super) fn service_with_checks(&self, id: &str) -> Option<ServiceWithChecks> {
        let service = self.local.service(id)?.clone();
        Some(ServiceWithChecks {
            service,
            checks: self.local.service_checks(id),
        })
    }

    pub(super) fn register_service(
        &mut self,
        mut def: ServiceDefinition,
        replace_existing_checks: bool,
    ) -> Result<(), LocalFailure> {
        if !self.enable_script_checks && def.checks.iter().any(is_script) {
            return Err(LocalFailure::Other(SCRIPTS_DISABLED.to_owned()));
        }
        let before = self.api_checks_of(&def.id);
        let checks = def.checks.clone();
        if let Some(store) = &self.store {
            def.checks.clear();
            store.save_service(&def).map_err(LocalFailure::Other)?;
            for check in &checks {
                store.save_check(check).map_err(LocalFailure::Other)?;
            }
            def.checks = checks;
        }
        let id = def.id.clone();
        self.local
            .add_service(self.now, def, Source::Api, replace_existing_checks);
        let after = self.api_checks_of(&id);
        for gone in before.iter().filter(|c| !after.contains(c)) {
            self.forget_check_file(gone);
        }
        Ok(())
    }

    pub(super) fn deregister_service(&mut self, id: &str) -> Result<(), LocalFailure> {
        let checks = self.api_checks_of(id);
        self.local.remove_service(id)?;
        self.forget_service_files(id, &checks);
        Ok(())
    }

    pub(super) fn register_check(&mut self, def: CheckDefinition) -> Result<(), LocalFailure> {
        if !self.enable_script_checks && is_script(&def) {
            return Err(LocalFailure::Other(SCRIPTS_DISABLED.to_owned()));
        }
        if let Some(store) = &self.store
            && (def.service_id.is_empty() || self.local.service(&def.service_id).is_some())
        {
            store.save_check(&def).map_err(LocalFailure::Other)?;
        }
        self.local.add_check(self.now, def, Source::Api)?;
        Ok(())
    }

    pub(super) fn deregister_check(&mut self, id: &str) -> Result<(), LocalFailure> {
        self.local.remove_check(id)?;
        self.forget_check_file(id);
        Ok(())
    }

    /// A service `deregister_critical_service_after` removed: forget its files.
    pub(super) fn forget_service_files(&self, id: &str, checks: &[String]) {
        let Some(store) = &self.store else {
            return;
        };
        let mut result = store.forget_service(id);
        for check in checks {
            result = result.and(store.forget_check(check));
        }
        if let Err(e) = result {
            self.log.warn("agent", format_args!("{e}"));
        }
    }

    fn forget_check_file(&self, id: &str) {
        if let Some(store) = &self.store
            && let Err(e) = store.forget_check(id)
        {
            self.log.warn("agent", format_args!("{e}"));
        }
    }

    /// IDs of the checks bound to service `id`.
    pub(super) fn api_checks_of(&self, id: &str) -> Vec<String> {
        self.local
            .checks()
            .into_iter()
            .filter(|c| c.row.service_id == id && c.def.is_some())
            .map(|c| c.row.check_id)
            .collect()
    }
}

fn is_script(def: &CheckDefinition) -> bool {
    matches!(def.kind, CheckKind::Script { .. })
}
