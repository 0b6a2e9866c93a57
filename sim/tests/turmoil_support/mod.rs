//! Driving turmoil scenarios step by step and checking what every server reports.

#![allow(dead_code)] // each scenario file uses its own subset

use std::collections::BTreeMap;
use std::time::Duration;

use futures_lite::future;
use synod_core::ids::{NodeId, Term};
use synod_core::node::{ClientRequest, ClientResponse};
use synod_core::raft::Role;
use synod_runtime_smol::shell::Status;
use synod_sim::turmoil_env::{ClusterSpec, Registry, builder};

/// Base election timeout of the servers (Consul's default at raft_multiplier 1).
pub(crate) const ELECTION_TIMEOUT: Duration = Duration::from_millis(1000);

/// A running scenario: the simulation, its servers' handles, and an election-safety record.
pub(crate) struct Scenario<'a> {
    pub(crate) sim: turmoil::Sim<'a>,
    pub(crate) registry: Registry,
    pub(crate) spec: ClusterSpec,
    /// The one leader seen in each term (a second one fails the scenario).
    leaders: BTreeMap<Term, NodeId>,
}

impl Scenario<'_> {
    /// A 3-server cluster `n1..n3` with a fixed seed.
    pub(crate) fn three_servers(seed: u64) -> Self {
        let spec = ClusterSpec::new(&["n1", "n2", "n3"], seed);
        let mut sim = builder(seed, Duration::from_secs(600)).build();
        let registry = Registry::default();
        spec.add_hosts(&mut sim, &registry);
        Scenario {
            sim,
            registry,
            spec,
            leaders: BTreeMap::new(),
        }
    }

    /// Running servers' statuses by host name.
    pub(crate) fn statuses(&self) -> BTreeMap<String, Status> {
        self.registry.statuses()
    }

    /// One simulation tick, then the election-safety check.
    pub(crate) fn step(&mut self) {
        if let Err(e) = self.sim.step() {
            panic!("simulation failed: {e}");
        }
        for (name, status) in self.statuses() {
            if status.role == Role::Leader {
                let first = *self.leaders.entry(status.term).or_insert(status.id);
                assert_eq!(
                    first, status.id,
                    "two leaders in term {}: {first} and {} ({name})",
                    status.term, status.id
                );
            }
        }
    }

    /// Steps until `done` holds or `limit` of simulated time passes; the time it took.
    pub(crate) fn run_until(
        &mut self,
        limit: Duration,
        what: &str,
        mut done: impl FnMut(&BTreeMap<String, Status>) -> bool,
    ) -> Duration {
        let start = self.sim.elapsed();
        loop {
            self.step();
            let waited = self.sim.elapsed() - start;
            if done(&self.statuses()) {
                return waited;
            }
            assert!(
                waited < limit,
                "{what}: not reached within {limit:?}; statuses: {:#?}",
                summary(&self.statuses())
            );
        }
    }

    /// Steps for `span` of simulated time.
    pub(crate) fn run_for(&mut self, span: Duration) {
        let start = self.sim.elapsed();
        while self.sim.elapsed() - start < span {
            self.step();
        }
    }

    /// The leader that every running server in `among` agrees on, if any.
    pub(crate) fn agreed_leader(&self, among: &[&str]) -> Option<(String, Term)> {
        agreed_leader(&self.statuses(), among)
    }

    /// Sends `request` to `host` and steps until it is answered (or `limit` passes).
    pub(crate) fn request(
        &mut self,
        host: &str,
        request: ClientRequest,
        limit: Duration,
    ) -> ClientResponse {
        let handle = self
            .registry
            .handle(host)
            .unwrap_or_else(|| panic!("{host} never started"));
        let mut answer = Box::pin(async move { handle.request(request).await });
        let start = self.sim.elapsed();
        loop {
            // The request only waits on channels, so it can be polled between ticks.
            if let Some(response) = future::block_on(future::poll_once(&mut answer)) {
                return response;
            }
            assert!(
                self.sim.elapsed() - start < limit,
                "request to {host} unanswered after {limit:?}"
            );
            self.step();
        }
    }
}

/// The leader that all of `among` (that are running) report, with its term.
pub(crate) fn agreed_leader(
    statuses: &BTreeMap<String, Status>,
    among: &[&str],
) -> Option<(String, Term)> {
    let mut seen = among.iter().filter_map(|name| statuses.get(*name));
    let first = seen.next()?;
    let leader = first.leader?;
    let term = first.term;
    if !seen.all(|s| s.leader == Some(leader) && s.term == term) {
        return None;
    }
    let leader_status = statuses.values().find(|s| s.id == leader)?;
    (leader_status.role == Role::Leader && leader_status.term == term)
        .then(|| (leader_name(statuses, leader), term))
}

fn leader_name(statuses: &BTreeMap<String, Status>, id: NodeId) -> String {
    statuses
        .iter()
        .find(|(_, s)| s.id == id)
        .map(|(name, _)| name.clone())
        .unwrap_or_default()
}

/// One line per server: role, term, leader, commit, applied.
pub(crate) fn summary(statuses: &BTreeMap<String, Status>) -> Vec<String> {
    statuses
        .iter()
        .map(|(name, s)| {
            format!(
                "{name}: {:?} term={} leader={:?} commit={} applied={}",
                s.role, s.term, s.leader, s.commit, s.applied
            )
        })
        .collect()
}
