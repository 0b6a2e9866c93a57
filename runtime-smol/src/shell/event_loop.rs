//! The one event loop: feeds a `Node` its inputs, drains its actions after every input and
//! sleeps until its next deadline. Written once, generic over [`Env`] and [`Disk`].

use std::collections::BTreeMap;

use async_channel::{Receiver, Sender, TryRecvError};
use bytes::Bytes;
use futures_lite::future;
use synod_core::ids::{IoToken, RequestId};
use synod_core::node::{Action, ClientResponse, Input, Node, NodeEvent};
use synod_core::raft::Event;
use synod_core::state::watch::WatchId;
use synod_core::time::Instant;

use super::config::ShellConfig;
use super::env::{Disk, Env};
use super::events::log_node_event;
use super::handle::{Command, NodeHandle, SharedStatus, Status};
use super::inbound::{ClientConnHandler, accept_peers};
use super::log::Log;
use super::peers::Peers;
use super::timing::sleep_until_opt;
use super::watches::Watchers;

/// Client requests waiting for the loop, at most.
const COMMAND_QUEUE: usize = 4096;
/// Frames read from peers waiting for the loop, at most (readers then stop reading).
const FRAME_QUEUE: usize = 4096;
/// Inputs taken from one source per pass before the others get their turn.
const FAIR_SHARE: usize = 64;

/// Why [`Shell::run`] returned.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// Every handle was dropped or [`NodeHandle::shutdown`] was called.
    Shutdown,
    /// The disk stopped reporting completions: continuing would break durability.
    DiskFailed,
}

/// What woke the loop.
enum Wake {
    Durable(Option<IoToken>),
    Command(Option<Command>),
    Cancel(WatchId),
    Frame(Bytes),
    Deadline,
}

/// A node, its disk and its connections, ready to run.
pub struct Shell<E: Env, D: Disk> {
    env: E,
    node: Node,
    disk: D,
    durable: Receiver<IoToken>,
    commands: Receiver<Command>,
    frames: Receiver<Bytes>,
    frames_in: Sender<Bytes>,
    cancels: Receiver<WatchId>,
    watchers: Watchers,
    peers: Peers<E>,
    pending: BTreeMap<RequestId, Sender<ClientResponse>>,
    /// Answers held until the status and view they follow from are published (reused buffer).
    replies: Vec<(Sender<ClientResponse>, ClientResponse)>,
    next_request: u64,
    status: SharedStatus,
    config: ShellConfig,
    log: Log,
    /// Where connections opening with a client hello go; `None`: they are dropped like any
    /// undecodable peer traffic.
    clients: Option<ClientConnHandler<E>>,
}

impl<E: Env, D: Disk> Shell<E, D> {
    /// Wraps `node` (already created or bootstrapped at `env.now()`); `durable` is the channel
    /// `disk` reports completed writes on.
    pub fn new(
        env: E,
        node: Node,
        disk: D,
        durable: Receiver<IoToken>,
        config: ShellConfig,
        log: Log,
    ) -> (Self, NodeHandle) {
        let (commands_in, commands) = async_channel::bounded(COMMAND_QUEUE);
        let (frames_in, frames) = async_channel::bounded(FRAME_QUEUE);
        let (cancels_in, cancels) = async_channel::unbounded();
        let status = SharedStatus::new(Status::of(&node, env.now()), node.state());
        let handle = NodeHandle {
            commands: commands_in,
            cancels: cancels_in,
            status: status.clone(),
        };
        let shell = Shell {
            peers: Peers::new(env.clone(), config.clone(), log.clone()),
            env,
            node,
            disk,
            durable,
            commands,
            frames,
            frames_in,
            cancels,
            watchers: Watchers::default(),
            pending: BTreeMap::new(),
            replies: Vec::new(),
            next_request: 0,
            status,
            config,
            log,
            clients: None,
        };
        (shell, handle)
    }

    /// Hands client RPC connections (those opening with a client hello) on the peer listener
    /// to `handler`.
    pub fn serve_clients(&mut self, handler: ClientConnHandler<E>) {
        self.clients = Some(handler);
    }

    /// Serves peers on `listener` and runs the node until it is shut down or its disk fails.
    pub async fn run(mut self, listener: E::Listener) -> StopReason {
        let accept = accept_peers(
            self.env.clone(),
            listener,
            self.frames_in.clone(),
            self.config.clone(),
            self.log.clone(),
            self.clients.clone(),
        );
        self.env.spawn(accept);
        // Creating or bootstrapping the node may already have queued actions.
        self.drain_actions(self.env.now());
        loop {
            let deadline = self.node.poll_timeout();
            // Checked before every pass so a steady stream of inputs cannot starve the timers.
            if deadline.is_some_and(|at| at <= self.env.now()) {
                self.timeout();
                continue;
            }
            let stop = match self.take_ready() {
                Ok(0) => {
                    let wake = self.next_wake(deadline).await;
                    self.on_wake(wake)
                }
                Ok(_) => {
                    // Let the connection tasks write what this pass produced.
                    future::yield_now().await;
                    None
                }
                Err(reason) => Some(reason),
            };
            if let Some(reason) = stop {
                if reason == StopReason::DiskFailed {
                    self.log.error(
                        "agent.server.raft",
                        format_args!("disk failed: stopping the server"),
                    );
                }
                return reason;
            }
        }
    }

    /// Handles what is already queued without waiting, at most [`FAIR_SHARE`] inputs per
    /// source, so a busy source (clients, say) cannot starve another (the acks that let their
    /// writes commit). Returns how many inputs it handled.
    fn take_ready(&mut self) -> Result<usize, StopReason> {
        let mut taken = 0;
        for _ in 0..FAIR_SHARE {
            match self.durable.try_recv() {
                Ok(token) => self.feed(Input::Persisted(token)),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Closed) => return Err(StopReason::DiskFailed),
            };
            taken += 1;
        }
        for _ in 0..FAIR_SHARE {
            match self.commands.try_recv() {
                Ok(command) => self.request(command),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Closed) => return Err(StopReason::Shutdown),
            };
            taken += 1;
        }
        // Cancels are cheap and only shrink the registry: take them all.
        while let Ok(id) = self.cancels.try_recv() {
            self.cancel_watch(id);
            taken += 1;
        }
        for _ in 0..FAIR_SHARE {
            let Ok(frame) = self.frames.try_recv() else {
                break;
            };
            self.feed(Input::Frame(frame));
            taken += 1;
        }
        Ok(taken)
    }

    /// Acts on what woke the loop; `Some` when the loop must stop instead.
    fn on_wake(&mut self, wake: Wake) -> Option<StopReason> {
        match wake {
            Wake::Durable(Some(token)) => self.feed(Input::Persisted(token)),
            Wake::Durable(None) => return Some(StopReason::DiskFailed),
            Wake::Command(Some(command)) => self.request(command),
            Wake::Command(None) => return Some(StopReason::Shutdown),
            Wake::Cancel(id) => self.cancel_watch(id),
            Wake::Frame(frame) => self.feed(Input::Frame(frame)),
            Wake::Deadline => self.timeout(),
        }
        None
    }

    /// Client requests: remembers where to answer, then feeds the request. Membership
    /// changes: asks the node and answers at once with whether it accepted.
    fn request(&mut self, command: Command) {
        match command {
            Command::Client { request, reply } => {
                let id = RequestId(self.next_request);
                self.next_request += 1;
                self.pending.insert(id, reply);
                self.feed(Input::Request { id, request });
            }
            Command::RemoveServer { id, reply } => {
                let now = self.env.now();
                let result = self.node.remove_server(now, id);
                self.drain_actions(now);
                let _ = reply.try_send(result);
            }
            Command::AddServer { id, addr, reply } => {
                let now = self.env.now();
                let result = self.node.add_server(now, id, addr);
                self.drain_actions(now);
                let _ = reply.try_send(result);
            }
            Command::PeerHints(hints) => self.peers.set_hints(hints),
            Command::Watch {
                id,
                target,
                min_index,
                wake,
            } => {
                self.watchers
                    .register(&mut self.node, id, target, min_index, wake);
                let parked = self.node.state().parked_watches();
                self.status.set_parked_watches(parked);
            }
            Command::Bootstrap { membership, reply } => {
                let now = self.env.now();
                let result = self.node.bootstrap(now, membership);
                self.drain_actions(now);
                let _ = reply.try_send(result);
            }
        }
    }

    /// A watch's client went away: unpark it.
    fn cancel_watch(&mut self, id: WatchId) {
        self.watchers.cancel(&mut self.node, id);
        let parked = self.node.state().parked_watches();
        self.status.set_parked_watches(parked);
    }

    /// One input, then every action it caused.
    fn feed(&mut self, input: Input) {
        let now = self.env.now();
        self.node.handle_input(now, input);
        self.drain_actions(now);
    }

    /// The node's deadline passed.
    fn timeout(&mut self) {
        let now = self.env.now();
        self.node.handle_timeout(now);
        self.drain_actions(now);
    }

    /// Waits for the first of: a durable write, a client request, a peer frame, the deadline
    /// (in that priority order: `or` polls its left side first).
    async fn next_wake(&self, deadline: Option<Instant>) -> Wake {
        let durable = async { Wake::Durable(self.durable.recv().await.ok()) };
        let command = async { Wake::Command(self.commands.recv().await.ok()) };
        // The loop's handles hold senders, but so may nothing else: a closed channel only
        // means no watch can be cancelled any more.
        let cancel = async {
            match self.cancels.recv().await {
                Ok(id) => Wake::Cancel(id),
                Err(_) => future::pending().await,
            }
        };
        // The loop holds a sender itself, so this channel never closes while it runs.
        let frame = async {
            match self.frames.recv().await {
                Ok(frame) => Wake::Frame(frame),
                Err(_) => future::pending().await,
            }
        };
        let timer = async {
            sleep_until_opt(&self.env, deadline).await;
            Wake::Deadline
        };
        future::or(
            durable,
            future::or(command, future::or(frame, future::or(cancel, timer))),
        )
        .await
    }

    /// Carries out every queued action, publishes the new status and view, and only then
    /// answers clients, logs events and signals woken watches: whoever hears of an answer or an
    /// event (on another thread, now that HTTP runs off the loop) then sees the state that
    /// produced it — a stale read after an acknowledged write on this server sees the write.
    fn drain_actions(&mut self, now: Instant) {
        let mut replies = std::mem::take(&mut self.replies);
        let mut events = Vec::new();
        while let Some(action) = self.node.poll_action() {
            match action {
                Action::Send { to, frame } => {
                    self.peers.send(self.node.raft().membership(), to, frame);
                }
                Action::Persist { token, write } => self.disk.submit(token, write),
                Action::Respond { id, response } => {
                    if let Some(reply) = self.pending.remove(&id) {
                        replies.push((reply, response));
                    }
                }
                Action::Event(event) => {
                    if let NodeEvent::Raft(Event::MembershipChanged(next)) = &event {
                        self.peers.retain(next);
                    }
                    events.push(event);
                }
            }
        }
        self.status.refresh(&self.node, now);
        for (reply, response) in replies.drain(..) {
            // The client may have given up waiting; nothing to do then.
            let _ = reply.try_send(response);
        }
        self.replies = replies;
        for event in &events {
            log_node_event(&self.log, self.node.raft().membership(), event);
        }
        self.watchers.wake_changed(&mut self.node);
    }
}
