//! Full anti-entropy: compare the catalog's view of this node with what the agent knows, mark
//! what differs, and queue deregistrations for what the agent does not know. Also the interval
//! between full syncs (Consul's: a minute, stretched for clusters over 128 nodes).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::agent::entries::Sync;
use crate::agent::local_state::LocalState;
use crate::health::serf::SERF_CHECK_ID;
use crate::state::catalog::types::{CatalogCommand, Check, Node, Service};
use crate::time::Instant;

/// Base interval between full syncs.
pub const FULL_SYNC_INTERVAL: Duration = Duration::from_secs(60);
/// Clusters up to this size sync at the base interval.
const SCALE_THRESHOLD: usize = 128;
/// The service the servers' leader registers for every server; not the agent's to remove.
pub const CONSUL_SERVICE_ID: &str = "consul";

/// The catalog's view of this agent's node.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeView {
    /// The node row (`None` when the catalog does not have the node).
    pub node: Option<Node>,
    /// Its services.
    pub services: Vec<Service>,
    /// Its checks.
    pub checks: Vec<Check>,
}

/// The base interval times Consul's scale factor `ceil(log2(nodes) - log2(128)) + 1` for
/// clusters larger than 128 nodes (the stagger on top is drawn by the caller).
pub fn full_sync_interval(nodes: usize) -> Duration {
    scaled_interval(FULL_SYNC_INTERVAL, nodes)
}

/// `base` times the scale factor for `nodes`.
pub fn scaled_interval(base: Duration, nodes: usize) -> Duration {
    let mut factor: u32 = 1;
    let mut covered = SCALE_THRESHOLD;
    while covered < nodes {
        covered = covered.saturating_mul(2);
        factor += 1;
    }
    base.saturating_mul(factor)
}

impl LocalState {
    /// Runs a full sync against `view`: the writes that make the catalog's view of this node
    /// equal to the agent's (registering what is missing or different, deregistering what the
    /// agent does not know except `serfHealth` and the `consul` service, which the leader
    /// owns), and schedules the next full sync.
    pub fn full_sync(&mut self, now: Instant, view: &NodeView) -> Vec<CatalogCommand> {
        self.compare(view);
        self.schedule_full_sync(now);
        self.take_changes()
    }

    fn compare(&mut self, view: &NodeView) {
        let node_same = view.node.as_ref().is_some_and(|n| *n == self.node);
        self.node_sync = if node_same { Sync::Clean } else { Sync::Dirty };
        // Entries the catalog lacks or has differently get written; the rest are in sync.
        let have_services: BTreeMap<&str, &Service> =
            view.services.iter().map(|s| (s.id.as_str(), s)).collect();
        let have_checks: BTreeMap<&str, &Check> = view
            .checks
            .iter()
            .map(|c| (c.check_id.as_str(), c))
            .collect();
        for service in self.services.values_mut() {
            let want = service.def.catalog_service();
            let same = have_services.get(want.id.as_str()).is_some_and(|have| {
                if want.enable_tag_override {
                    Service {
                        tags: have.tags.clone(),
                        ..want.clone()
                    } == **have
                } else {
                    **have == want
                }
            });
            service.sync = if same { Sync::Clean } else { Sync::Dirty };
        }
        let node_name = self.node.node.clone();
        for (id, entry) in self.checks.iter_mut() {
            let want = entry.row(&node_name, self.scheduler.status(id));
            let same = have_checks
                .get(id.as_str())
                .is_some_and(|have| same_check(have, &want));
            entry.sync = if same { Sync::Clean } else { Sync::Dirty };
        }
        // What the catalog has and the agent does not: remove it. A removed service takes its
        // checks along, so those need no check deregistration of their own.
        self.removed_services = view
            .services
            .iter()
            .map(|s| s.id.clone())
            .filter(|id| id != CONSUL_SERVICE_ID && !self.services.contains_key(id))
            .collect();
        let gone_services: BTreeSet<&String> = self.removed_services.iter().collect();
        self.removed_checks = view
            .checks
            .iter()
            .filter(|c| c.check_id != SERF_CHECK_ID && !self.checks.contains_key(&c.check_id))
            .filter(|c| !gone_services.contains(&c.service_id))
            .filter(|c| c.service_id != CONSUL_SERVICE_ID)
            .map(|c| c.check_id.clone())
            .collect();
    }
}

/// Whether the catalog's row matches the agent's, ignoring what the catalog fills in itself
/// (the service's name and tags).
fn same_check(have: &Check, want: &Check) -> bool {
    let Check {
        node,
        check_id,
        name,
        status,
        notes,
        output,
        service_id,
        service_name: _,
        service_tags: _,
        check_type,
        interval_us,
        timeout_us,
    } = want;
    have.node == *node
        && have.check_id == *check_id
        && have.name == *name
        && have.status == *status
        && have.notes == *notes
        && have.output == *output
        && have.service_id == *service_id
        && have.check_type == *check_type
        && have.interval_us == *interval_us
        && have.timeout_us == *timeout_us
}
