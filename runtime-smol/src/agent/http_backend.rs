//! The HTTP API's [`Backend`] over a running node's [`NodeHandle`].

use std::time::{Duration, Instant};

use futures_lite::future;
use smol::Timer;
use synod_core::ids::LogIndex;
use synod_core::node::{ClientRequest, ClientResponse, Consistency};
use synod_core::raft::Suffrage;
use synod_core::state::kv_types::KvQuery;

use crate::http::backend::{Backend, Status};
use crate::shell::NodeHandle;

/// Serves HTTP requests by sending them into the node's event loop.
#[derive(Clone, Debug)]
pub(super) struct NodeBackend {
    handle: NodeHandle,
}

impl NodeBackend {
    pub(super) fn new(handle: NodeHandle) -> Self {
        NodeBackend { handle }
    }
}

impl Backend for NodeBackend {
    fn request(&self, request: ClientRequest) -> impl Future<Output = ClientResponse> + Send {
        let handle = self.handle.clone();
        async move { handle.request(request).await }
    }

    fn status(&self) -> impl Future<Output = Status> + Send {
        let status = self.handle.status();
        let peers = status
            .membership
            .servers
            .values()
            .filter(|server| server.suffrage == Suffrage::Voter)
            .map(|server| server.addr.clone())
            .collect();
        future::ready(Status {
            known_leader: status.leader.is_some(),
            leader: status.leader_addr,
            peers,
            last_contact: status.last_contact.unwrap_or(Duration::ZERO),
        })
    }

    fn wait_kv(
        &self,
        query: &KvQuery,
        min_index: u64,
        deadline: Instant,
    ) -> impl Future<Output = ()> + Send {
        let handle = self.handle.clone();
        let query = query.clone();
        let changed = async move {
            // Note the applied index *before* re-reading: any apply after it wakes us, so a
            // change landing between the caller's read and this wait is never missed.
            let applied = handle.status().applied;
            let read = ClientRequest::Read {
                query,
                consistency: Consistency::Stale,
            };
            if let ClientResponse::Read { index, .. } = handle.request(read).await
                && index > min_index
            {
                return;
            }
            handle.applied_past(LogIndex(applied.0)).await;
        };
        let timeout = async move {
            Timer::at(deadline).await;
        };
        future::or(changed, timeout)
    }
}
