//! Answers one query from the latest published state: what every serving thread runs.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_lite::future;
use synod_core::api::dns::{self, DnsConfig, LocalNode, Outcome, StateView, Transport, Written};
use synod_core::raft::Role;
use synod_core::rand::Rng;
use synod_core::state;

use super::staleness::{CATCH_UP, Freshness, Staleness, Verdict};
use crate::shell::NodeHandle;

/// Where the state DNS answers from comes from.
pub trait StateSource: Send + Sync + 'static {
    /// The state to answer the next query from (the latest the node published).
    fn state(&self) -> Arc<state::StateView>;

    /// How fresh that state is. A fixed state is as fresh as a leader's.
    fn freshness(&self) -> Freshness {
        Freshness {
            leader: true,
            last_contact: Some(Duration::ZERO),
            behind: false,
        }
    }

    /// Waits up to `limit` until everything this node knows to be committed is applied;
    /// false when it is still behind.
    fn catch_up(&self, _limit: Duration) -> bool {
        true
    }
}

impl StateSource for NodeHandle {
    fn state(&self) -> Arc<state::StateView> {
        self.view()
    }

    fn freshness(&self) -> Freshness {
        let status = self.status();
        Freshness {
            leader: status.role == Role::Leader,
            last_contact: status.leader.and(status.last_contact),
            behind: status.applied < status.commit,
        }
    }

    fn catch_up(&self, limit: Duration) -> bool {
        let commit = self.status().commit;
        smol::block_on(future::or(
            async {
                self.applied_past(commit.prev()).await;
                true
            },
            async {
                smol::Timer::after(limit).await;
                false
            },
        ))
    }
}

/// A fixed state (tests and tools).
impl StateSource for Arc<state::StateView> {
    fn state(&self) -> Arc<state::StateView> {
        self.clone()
    }
}

/// What every responder shares.
pub(crate) struct Zone {
    pub(crate) source: Arc<dyn StateSource>,
    pub(crate) config: DnsConfig,
    pub(crate) datacenter: String,
    pub(crate) node_name: String,
    pub(crate) node_addr: IpAddr,
    pub(crate) staleness: Staleness,
}

/// One thread's answerer, with its own generator for shuffling answers.
pub(crate) struct Responder {
    zone: Arc<Zone>,
    rng: Rng,
}

impl Responder {
    pub(crate) fn new(zone: Arc<Zone>, seed: u64) -> Self {
        Responder {
            zone,
            rng: Rng::new(seed),
        }
    }

    /// Answers `query` from the state as last published, writing the reply (or, for a name
    /// to forward, the SERVFAIL to fall back on) over `out`.
    pub(crate) fn answer(
        &mut self,
        query: &[u8],
        transport: Transport,
        out: &mut Vec<u8>,
    ) -> Written {
        let zone = &*self.zone;
        if !zone.staleness.unbounded() {
            let fresh = match zone.staleness.verdict(zone.source.freshness()) {
                Verdict::Answer => true,
                Verdict::CatchUp => zone.source.catch_up(CATCH_UP),
                Verdict::Refuse => false,
            };
            if !fresh {
                return match dns::server_failure(query, &zone.config, transport) {
                    Outcome::Reply(reply) => {
                        *out = reply;
                        Written::Reply
                    }
                    Outcome::Forward(_) | Outcome::Drop => Written::Drop,
                };
            }
        }
        let state = zone.source.state();
        let local = LocalNode {
            name: &zone.node_name,
            addr: zone.node_addr,
        };
        let view = StateView::new(state.catalog(), &zone.datacenter, local);
        dns::answer_into(query, &view, &zone.config, transport, &mut self.rng, out)
    }
}
