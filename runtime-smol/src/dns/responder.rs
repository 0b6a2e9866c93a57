//! Answers one query from the latest published state: what every serving thread runs.

use std::net::IpAddr;
use std::sync::Arc;

use synod_core::api::dns::{self, DnsConfig, LocalNode, Outcome, StateView, Transport};
use synod_core::rand::Rng;
use synod_core::state::State;

use crate::shell::NodeHandle;

/// Where the state DNS answers from comes from.
pub trait StateSource: Send + Sync + 'static {
    /// The state to answer the next query from (the latest the node published).
    fn state(&self) -> Arc<State>;
}

impl StateSource for NodeHandle {
    fn state(&self) -> Arc<State> {
        self.view()
    }
}

/// A fixed state (tests and tools).
impl StateSource for Arc<State> {
    fn state(&self) -> Arc<State> {
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

    /// What to do with `query`, answered from the state as last published.
    pub(crate) fn answer(&mut self, query: &[u8], transport: Transport) -> Outcome {
        let zone = &*self.zone;
        let state = zone.source.state();
        let local = LocalNode {
            name: &zone.node_name,
            addr: zone.node_addr,
        };
        let view = StateView::new(&state, &zone.datacenter, local);
        dns::answer(query, &view, &zone.config, transport, &mut self.rng)
    }
}
