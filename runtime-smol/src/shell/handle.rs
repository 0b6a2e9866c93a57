//! The cloneable handle other components (HTTP, DNS, CLI) use to reach a running node.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use async_channel::Sender;
use event_listener::Event;
use synod_core::ids::{LogIndex, NodeId, Term};
use synod_core::node::{ClientError, ClientRequest, ClientResponse, Consistency, Node};
use synod_core::raft::{Membership, ProposeError, Role};
use synod_core::state::watch::{WatchId, WatchTarget};
use synod_core::state::{State, StateView};
use synod_core::time::{Duration, Instant};

/// What handles ask of the loop, each with where to answer it.
#[derive(Debug)]
pub(crate) enum Command {
    /// A client request.
    Client {
        request: ClientRequest,
        reply: Sender<ClientResponse>,
    },
    /// Take a server out of the configuration (the operator's `remove-peer`).
    RemoveServer {
        id: NodeId,
        reply: Sender<Result<LogIndex, ProposeError>>,
    },
    /// Add a server as a learner (cluster formation: a new server joined gossip).
    AddServer {
        id: NodeId,
        addr: String,
        reply: Sender<Result<LogIndex, ProposeError>>,
    },
    /// Where servers outside our membership can be reached (learned from gossip).
    PeerHints(std::collections::BTreeMap<NodeId, String>),
    /// Start a brand-new cluster with this membership (`-bootstrap-expect`).
    Bootstrap {
        membership: Membership,
        reply: Sender<Result<(), ProposeError>>,
    },
    /// Park a blocking query on `target`; `wake` is signalled once it changed past
    /// `min_index`.
    Watch {
        id: WatchId,
        target: WatchTarget,
        min_index: u64,
        wake: Sender<()>,
    },
}

/// A snapshot of the node's Raft view, refreshed after every input the loop handles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// This server.
    pub id: NodeId,
    /// Its role.
    pub role: Role,
    /// Current term.
    pub term: Term,
    /// Known leader in this term.
    pub leader: Option<NodeId>,
    /// The leader's RPC address, from the membership.
    pub leader_addr: Option<String>,
    /// Highest committed index.
    pub commit: LogIndex,
    /// Highest applied index.
    pub applied: LogIndex,
    /// Last index in the log.
    pub last_index: LogIndex,
    /// The configuration in effect.
    pub membership: Membership,
    /// Time since the leader was last heard from, as of `taken_at` (zero on the leader).
    pub last_contact: Option<Duration>,
    /// When the snapshot was taken (the node's clock).
    pub taken_at: Instant,
    /// Blocking queries parked in the node's watch registry.
    pub parked_watches: usize,
}

impl Status {
    /// Reads the node's current view.
    pub fn of(node: &Node, now: Instant) -> Self {
        let raft = node.raft();
        let leader = raft.leader();
        let membership = raft.membership();
        Status {
            id: raft.id(),
            role: raft.role(),
            term: raft.term(),
            leader,
            leader_addr: leader_addr(membership, leader),
            commit: raft.commit_index(),
            applied: raft.applied_index(),
            last_index: raft.last_index(),
            membership: membership.clone(),
            last_contact: raft.last_contact(now),
            taken_at: now,
            parked_watches: node.state().parked_watches(),
        }
    }
}

/// Shared between the loop (writer) and handles (readers).
#[derive(Clone, Debug)]
pub(crate) struct SharedStatus(Arc<StatusCell>);

#[derive(Debug)]
pub(crate) struct StatusCell {
    status: Mutex<Status>,
    /// Notified whenever the applied index moves.
    applied: Event,
    /// The tables as last applied, published for reads that need no consensus (stale reads,
    /// DNS) so they run on any thread without entering the loop. Publishing is O(1): the
    /// tables are persistent maps shared with the node's state.
    view: Mutex<Arc<StateView>>,
    /// Ids for watches, drawn by handles so a dropped watch can be cancelled by id before the
    /// loop has even seen it.
    next_watch: AtomicU64,
}

impl SharedStatus {
    pub(crate) fn new(status: Status, state: &State) -> Self {
        SharedStatus(Arc::new(StatusCell {
            status: Mutex::new(status),
            applied: Event::new(),
            view: Mutex::new(Arc::new(state.view())),
            next_watch: AtomicU64::new(0),
        }))
    }

    /// The last published tables.
    pub(crate) fn view(&self) -> Arc<StateView> {
        self.0
            .view
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Status> {
        // Status is replaced field by field from plain values; a poisoned lock still holds a
        // usable snapshot.
        self.0
            .status
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records how many blocking queries are parked (after a watch was registered or
    /// cancelled, which is not an input to the node).
    pub(crate) fn set_parked_watches(&self, parked: usize) {
        self.lock().parked_watches = parked;
    }

    /// Refreshes the snapshot, cloning the membership and leader address only when they changed.
    pub(crate) fn refresh(&self, node: &Node, now: Instant) {
        let raft = node.raft();
        let mut status = self.lock();
        let membership_changed = status.membership != *raft.membership();
        if membership_changed {
            status.membership = raft.membership().clone();
        }
        let leader = raft.leader();
        if membership_changed || leader != status.leader {
            status.leader_addr = leader_addr(&status.membership, leader);
        }
        status.leader = leader;
        status.role = raft.role();
        status.term = raft.term();
        status.commit = raft.commit_index();
        let applied_moved = status.applied != raft.applied_index();
        status.applied = raft.applied_index();
        status.last_index = raft.last_index();
        status.last_contact = raft.last_contact(now);
        status.taken_at = now;
        status.parked_watches = node.state().parked_watches();
        drop(status);
        if applied_moved {
            let view = Arc::new(node.state().view());
            *self
                .0
                .view
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = view;
            self.0.applied.notify(usize::MAX);
        }
    }
}

fn leader_addr(membership: &Membership, leader: Option<NodeId>) -> Option<String> {
    leader
        .and_then(|id| membership.servers.get(&id))
        .map(|s| s.addr.clone())
}

/// A cloneable, thread-safe way to talk to a running node.
#[derive(Clone, Debug)]
pub struct NodeHandle {
    pub(crate) commands: Sender<Command>,
    /// Watches whose futures were dropped, for the loop to unpark (unbounded: sent from `Drop`).
    pub(crate) cancels: Sender<WatchId>,
    pub(crate) status: SharedStatus,
}

impl NodeHandle {
    /// Sends `request` to the node and waits for its answer. Stale reads need no consensus
    /// and are answered from the published view on the caller's thread, without entering the
    /// loop (what the node itself would answer: its applied state, as of its last batch).
    ///
    /// If the loop has stopped before taking the request, the answer is `NotLeader` (no effect);
    /// if it stopped after, `LeadershipLost` (the outcome is unknown).
    pub async fn request(&self, request: ClientRequest) -> ClientResponse {
        if let ClientRequest::Read {
            query,
            consistency: Consistency::Stale,
        } = &request
        {
            let (result, index) = self.view().query(query);
            return ClientResponse::Read { index, result };
        }
        let (reply, answer) = async_channel::bounded(1);
        if self
            .commands
            .send(Command::Client { request, reply })
            .await
            .is_err()
        {
            return ClientResponse::Failed(ClientError::NotLeader { leader: None });
        }
        answer
            .recv()
            .await
            .unwrap_or(ClientResponse::Failed(ClientError::LeadershipLost))
    }

    /// Asks the leader to remove server `id` from the configuration; `Ok` carries the index of
    /// the configuration entry, which takes effect once committed (see [`Self::applied_past`]).
    pub async fn remove_server(&self, id: NodeId) -> Result<LogIndex, ProposeError> {
        let (reply, answer) = async_channel::bounded(1);
        let stopped = Err(ProposeError::NotLeader { leader: None });
        if self
            .commands
            .send(Command::RemoveServer { id, reply })
            .await
            .is_err()
        {
            return stopped;
        }
        answer.recv().await.unwrap_or(stopped)
    }

    /// Asks the leader to add server `id` at `addr` as a learner (promoted once caught up);
    /// `Ok` carries the index of the configuration entry.
    pub async fn add_server(&self, id: NodeId, addr: String) -> Result<LogIndex, ProposeError> {
        let (reply, answer) = async_channel::bounded(1);
        let stopped = Err(ProposeError::NotLeader { leader: None });
        if self
            .commands
            .send(Command::AddServer { id, addr, reply })
            .await
            .is_err()
        {
            return stopped;
        }
        answer.recv().await.unwrap_or(stopped)
    }

    /// Tells the loop where servers missing from its membership listen (server id → RPC
    /// address), so a server added as a learner can answer the leader before it has received
    /// any configuration. Replaces earlier hints.
    pub async fn set_peer_hints(&self, hints: std::collections::BTreeMap<NodeId, String>) {
        // A stopped loop needs no hints.
        let _ = self.commands.send(Command::PeerHints(hints)).await;
    }

    /// Bootstraps a brand-new cluster with `membership`; refused once the node has any Raft
    /// state.
    pub async fn bootstrap(&self, membership: Membership) -> Result<(), ProposeError> {
        let (reply, answer) = async_channel::bounded(1);
        let stopped = Err(ProposeError::NotLeader { leader: None });
        if self
            .commands
            .send(Command::Bootstrap { membership, reply })
            .await
            .is_err()
        {
            return stopped;
        }
        answer.recv().await.unwrap_or(stopped)
    }

    /// The latest status snapshot.
    pub fn status(&self) -> Status {
        self.status.lock().clone()
    }

    /// The replicated tables as this node last applied them: what a stale read may answer
    /// from (`.index()`, `.kv()`, `.catalog()`, `.query(..)`).
    pub fn view(&self) -> Arc<StateView> {
        self.status.view()
    }

    /// Completes once an entry this node applies changes `target` (a KV key or prefix, a
    /// catalog table, node or service; see `Query::watch_target`) at an index above
    /// `min_index`, at once if it already has: `true`. Writes to anything else do not complete
    /// it. `false` when the loop stopped. Dropping the future unparks the watch.
    pub fn watch(
        &self,
        target: WatchTarget,
        min_index: u64,
    ) -> impl Future<Output = bool> + Send + 'static {
        let id = WatchId(self.status.0.next_watch.fetch_add(1, Ordering::Relaxed));
        super::watches::watch(
            self.commands.clone(),
            self.cancels.clone(),
            id,
            target,
            min_index,
        )
    }

    /// Completes once this node has applied past `index` (at once if it already has); it fires
    /// on any apply (blocking queries use [`Self::watch`]).
    pub async fn applied_past(&self, index: LogIndex) {
        loop {
            // Listen before checking, so an apply between the check and the wait is not missed.
            let listener = self.status.0.applied.listen();
            if self.status.lock().applied > index {
                return;
            }
            listener.await;
        }
    }

    /// Asks the loop to stop once it has handled the requests already queued; later requests
    /// are answered `NotLeader` (no effect). Dropping every handle has the same effect.
    pub fn shutdown(&self) {
        self.commands.close();
    }

    /// Whether the loop has stopped.
    pub fn is_stopped(&self) -> bool {
        self.commands.is_closed()
    }
}
