//! Service and check definitions as an agent holds them (from config files or its HTTP API).

use std::collections::BTreeMap;
use std::time::Duration;

use crate::state::catalog::types::{Check, HealthStatus, Service, ServiceAddress, Weights};

/// Consul's default cap on stored check output (`output_max_size`).
pub const DEFAULT_OUTPUT_MAX_SIZE: usize = 4096;
/// Shortest run interval; shorter ones are raised to it (Consul's `MinInterval`).
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);
/// Default probe timeout of HTTP and TCP checks.
pub const DEFAULT_NETWORK_TIMEOUT: Duration = Duration::from_secs(10);
/// Default timeout of script checks.
pub const DEFAULT_SCRIPT_TIMEOUT: Duration = Duration::from_secs(30);

/// An HTTP probe: 2xx passing, 429 warning, anything else critical.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpProbe {
    /// URL to request.
    pub url: String,
    /// Method (default GET).
    pub method: String,
    /// Request headers, each with its values.
    pub header: BTreeMap<String, Vec<String>>,
    /// Request body.
    pub body: String,
    /// Skip TLS certificate verification.
    pub tls_skip_verify: bool,
    /// SNI / verification name.
    pub tls_server_name: String,
    /// Do not follow redirects.
    pub disable_redirects: bool,
}

/// What a check does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckKind {
    /// HTTP request.
    Http(HttpProbe),
    /// TCP connect to `host:port`.
    Tcp {
        /// `host:port` (host defaults to localhost in the runtime).
        address: String,
    },
    /// Passive: the application reports through pass/warn/fail/update within `ttl`.
    Ttl {
        /// Time after the last report at which the check turns critical.
        ttl: Duration,
    },
    /// Run a program: exit 0 passing, 1 warning, anything else critical.
    Script {
        /// Program and arguments (a legacy `script` string becomes `["/bin/sh", "-c", script]`).
        args: Vec<String>,
    },
}

impl CheckKind {
    /// The catalog's `Type` for the check.
    pub fn type_name(&self) -> &'static str {
        match self {
            CheckKind::Http(_) => "http",
            CheckKind::Tcp { .. } => "tcp",
            CheckKind::Ttl { .. } => "ttl",
            CheckKind::Script { .. } => "script",
        }
    }
}

/// A check definition with every default filled in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckDefinition {
    /// Check ID (defaults to the name; `service:<id>[:n]` inside a service).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Human notes.
    pub notes: String,
    /// Service instance the check belongs to ("" for a node check).
    pub service_id: String,
    /// Status before the first result (default critical).
    pub initial_status: HealthStatus,
    /// What the check does.
    pub kind: CheckKind,
    /// Run interval (zero for TTL checks).
    pub interval: Duration,
    /// Probe timeout (zero for TTL checks).
    pub timeout: Duration,
    /// Consecutive successes needed before a non-passing check turns passing.
    pub success_before_passing: u32,
    /// Consecutive failures after which the check turns warning.
    pub failures_before_warning: u32,
    /// Consecutive failures after which the check turns critical.
    pub failures_before_critical: u32,
    /// Deregister the service after the check has been critical this long.
    pub deregister_critical_service_after: Option<Duration>,
    /// Cap on stored output, in bytes.
    pub output_max_size: usize,
}

/// A service definition with its checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceDefinition {
    /// Instance ID (defaults to the name).
    pub id: String,
    /// Service name.
    pub name: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Address ("" means the node's).
    pub address: String,
    /// Port.
    pub port: u16,
    /// Metadata.
    pub meta: BTreeMap<String, String>,
    /// DNS weights (default 1/1).
    pub weights: Weights,
    /// Let catalog-side tag edits stand.
    pub enable_tag_override: bool,
    /// Tagged addresses.
    pub tagged_addresses: BTreeMap<String, ServiceAddress>,
    /// The service's checks (their `service_id` is this service's ID).
    pub checks: Vec<CheckDefinition>,
}

impl CheckDefinition {
    /// The catalog row for this check on `node` in `status` with `output` (the service name and
    /// tags are filled in by the catalog from the service table).
    pub fn catalog_check(&self, node: &str, status: HealthStatus, output: &str) -> Check {
        Check {
            node: node.to_owned(),
            check_id: self.id.clone(),
            name: self.name.clone(),
            status,
            notes: self.notes.clone(),
            output: output.to_owned(),
            service_id: self.service_id.clone(),
            service_name: String::new(),
            service_tags: Vec::new(),
            check_type: self.kind.type_name().to_owned(),
            interval_us: u64::try_from(self.interval.as_micros()).unwrap_or(u64::MAX),
            timeout_us: u64::try_from(self.timeout.as_micros()).unwrap_or(u64::MAX),
        }
    }
}

impl ServiceDefinition {
    /// The catalog row for this service.
    pub fn catalog_service(&self) -> Service {
        Service {
            id: self.id.clone(),
            service: self.name.clone(),
            tags: self.tags.clone(),
            address: self.address.clone(),
            port: self.port,
            meta: self.meta.clone(),
            weights: self.weights,
            enable_tag_override: self.enable_tag_override,
            tagged_addresses: self.tagged_addresses.clone(),
        }
    }
}
