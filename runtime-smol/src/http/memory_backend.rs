//! A single-process [`Backend`] over [`synod_core::state::State`] with no Raft in front: writes
//! are applied at once at consecutive indexes. For tests of the HTTP layer and for running the
//! API without a cluster. Not replicated, not durable.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use futures_lite::future;
use smol::Timer;
use synod_core::ids::LogIndex;
use synod_core::node::{ClientRequest, ClientResponse};
use synod_core::state::watch::WatchId;
use synod_core::state::{Query, State, WatchStatus};

use super::agent_self::{AgentSelf, SelfConfig};
use super::backend::{Backend, Status};
use super::operator::{PeerSelector, RAFT_PROTOCOL, RaftConfiguration, RaftServer};

#[derive(Debug)]
struct Inner {
    state: State,
    /// Index of the last applied write (1 is the bootstrap configuration, never a command).
    last_index: u64,
    next_watch: u64,
    /// Parked blocking queries, signalled when the state reports their watch woken.
    waiters: BTreeMap<WatchId, async_channel::Sender<()>>,
}

impl Inner {
    fn wake(&mut self) {
        for id in self.state.take_woken() {
            if let Some(waiter) = self.waiters.remove(&id) {
                let _ = waiter.try_send(());
            }
        }
    }
}

/// An in-memory KV backend answering every read as if it were the leader.
#[derive(Debug)]
pub struct MemoryBackend {
    inner: Mutex<Inner>,
    status: Mutex<Status>,
}

impl MemoryBackend {
    /// An empty store reporting `status`.
    pub fn new(status: Status) -> Self {
        MemoryBackend {
            inner: Mutex::new(Inner {
                state: State::new(),
                last_index: 1,
                next_watch: 0,
                waiters: BTreeMap::new(),
            }),
            status: Mutex::new(status),
        }
    }

    /// Replaces the reported status (e.g. to simulate a lost leader).
    pub fn set_status(&self, status: Status) {
        *self.status.lock().unwrap_or_else(PoisonError::into_inner) = status;
    }

    /// Blocking queries currently parked (abandoned ones are removed when their future drops).
    pub fn parked_queries(&self) -> usize {
        self.inner().state.parked_watches()
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Unparks a watch when its wait ends for any reason, including the client going away.
struct ParkedWatch<'a> {
    backend: &'a MemoryBackend,
    id: WatchId,
}

impl Drop for ParkedWatch<'_> {
    fn drop(&mut self) {
        let mut inner = self.backend.inner();
        inner.state.cancel_watch(self.id);
        inner.waiters.remove(&self.id);
    }
}

impl Backend for MemoryBackend {
    async fn request(&self, request: ClientRequest) -> ClientResponse {
        let mut inner = self.inner();
        match request {
            ClientRequest::Write(command) => {
                inner.last_index += 1;
                let index = inner.last_index;
                let result = inner.state.apply(index, &command);
                inner.wake();
                ClientResponse::Written {
                    index: LogIndex(index),
                    result,
                }
            }
            ClientRequest::Read { query, .. } => {
                let (result, index) = inner.state.query(&query);
                ClientResponse::Read { index, result }
            }
        }
    }

    async fn status(&self) -> Status {
        self.status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    async fn wait(&self, query: &Query, min_index: u64, deadline: Instant) {
        let (receiver, _parked) = {
            let mut inner = self.inner();
            let id = WatchId(inner.next_watch);
            inner.next_watch += 1;
            match inner.state.watch(id, query.watch_target(), min_index) {
                WatchStatus::AlreadyChanged => return,
                WatchStatus::Parked => {}
            }
            let (sender, receiver) = async_channel::bounded(1);
            inner.waiters.insert(id, sender);
            (receiver, ParkedWatch { backend: self, id })
        };
        future::or(
            async {
                let _ = receiver.recv().await;
            },
            async {
                Timer::at(deadline).await;
            },
        )
        .await;
    }

    async fn agent_self(&self) -> AgentSelf {
        AgentSelf {
            config: SelfConfig {
                datacenter: "dc1".to_owned(),
                primary_datacenter: "dc1".to_owned(),
                node_name: "memory".to_owned(),
                server: true,
                version: crate::cli::version::VERSION.to_owned(),
                ..SelfConfig::default()
            },
            ..AgentSelf::default()
        }
    }

    /// The reported peers, identified by address (Raft protocol 2 style: no server ids here).
    async fn raft_configuration(&self) -> RaftConfiguration {
        let status = self.status().await;
        let servers = status
            .peers
            .iter()
            .map(|addr| RaftServer {
                id: addr.clone(),
                node: "(unknown)".to_owned(),
                address: addr.clone(),
                leader: status.leader.as_ref() == Some(addr),
                protocol_version: RAFT_PROTOCOL.to_owned(),
                voter: true,
            })
            .collect();
        RaftConfiguration {
            servers,
            index: self.inner().last_index,
            known_leader: status.known_leader,
        }
    }

    async fn remove_raft_peer(&self, peer: PeerSelector) -> Result<(), String> {
        let mut status = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        let (kind, wanted) = match &peer {
            PeerSelector::Id(id) => ("id", id),
            PeerSelector::Address(address) => ("address", address),
        };
        let before = status.peers.len();
        status.peers.retain(|addr| addr != wanted);
        if status.peers.len() == before {
            return Err(format!(
                "{kind} {wanted:?} was not found in the Raft configuration"
            ));
        }
        Ok(())
    }
}
