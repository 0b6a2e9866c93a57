//! What the agent holds for each service and check: the definition, where it came from and
//! whether the catalog already has it.

use crate::health::check::{CheckDefinition, ServiceDefinition};
use crate::state::catalog::types::{Check, HealthStatus};

/// Where a definition came from: config-sourced ones are replaced as a set on reload, API ones
/// persist in the data dir.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A config file (`service`/`check` keys).
    Config,
    /// `/v1/agent/service/register` or `/v1/agent/check/register`.
    Api,
}

/// How far the catalog is behind an entry.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Sync {
    /// The catalog has it as it is.
    Clean,
    /// Only the output moved: goes with the next write, never on its own (Consul's
    /// `check_update_interval`).
    Deferred,
    /// Must be written now.
    Dirty,
}

/// A service the agent owns (its checks live in the check table).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentService {
    /// The definition, with `checks` empty.
    pub def: ServiceDefinition,
    /// Where it came from.
    pub source: Source,
    pub(crate) sync: Sync,
}

/// What a check is: a probe the scheduler runs, or a fixed row (maintenance).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum CheckBody {
    Probe(CheckDefinition),
    Fixed(Check),
}

/// A check the agent owns, as `/v1/agent/checks` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentCheck {
    /// The catalog row as the agent would write it (status and output current; service name
    /// and tags filled from the local service).
    pub row: Check,
    /// The definition of a probe check; `None` for a maintenance check.
    pub def: Option<CheckDefinition>,
    /// Where it came from.
    pub source: Source,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CheckEntry {
    pub(crate) body: CheckBody,
    pub(crate) source: Source,
    pub(crate) sync: Sync,
}

impl CheckEntry {
    pub(crate) fn service_id(&self) -> &str {
        match &self.body {
            CheckBody::Probe(def) => &def.service_id,
            CheckBody::Fixed(row) => &row.service_id,
        }
    }

    /// The catalog row on `node`, with the scheduler's `status` for a probe.
    pub(crate) fn row(&self, node: &str, probe_status: Option<(HealthStatus, &str)>) -> Check {
        match &self.body {
            CheckBody::Probe(def) => {
                let (status, output) = probe_status.unwrap_or((def.initial_status, ""));
                def.catalog_check(node, status, output)
            }
            CheckBody::Fixed(row) => Check {
                node: node.to_owned(),
                ..row.clone()
            },
        }
    }
}
