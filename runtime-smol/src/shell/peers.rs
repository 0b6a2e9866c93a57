//! Outbound connections: one per peer, reconnected with backoff, fed through a bounded queue.

use std::collections::BTreeMap;

use async_channel::{Receiver, Sender, TrySendError};
use bytes::Bytes;
use synod_core::ids::NodeId;
use synod_core::raft::Membership;

use super::config::ShellConfig;
use super::env::{Conn, Env};
use super::log::Log;
use super::timing::with_deadline;

/// Bytes written per syscall at most when coalescing queued frames.
const MAX_BATCH_BYTES: usize = 1 << 20;

struct Link {
    addr: String,
    queue: Sender<Bytes>,
}

/// Routes frames to per-peer connection tasks.
pub(crate) struct Peers<E: Env> {
    env: E,
    config: ShellConfig,
    log: Log,
    links: BTreeMap<NodeId, Link>,
    /// Addresses learned outside Raft (from gossip), for servers not in our membership yet:
    /// a new learner must answer the leader before it has received any configuration.
    hints: BTreeMap<NodeId, String>,
}

impl<E: Env> Peers<E> {
    pub(crate) fn new(env: E, config: ShellConfig, log: Log) -> Self {
        Peers {
            env,
            config,
            log,
            links: BTreeMap::new(),
            hints: BTreeMap::new(),
        }
    }

    /// Queues `frame` for `to`, whose address is looked up in `membership`. Dropped when the
    /// peer is unknown or its queue is full.
    pub(crate) fn send(&mut self, membership: &Membership, to: NodeId, frame: Bytes) {
        let addr = membership
            .servers
            .get(&to)
            .map(|server| &server.addr)
            .or_else(|| self.hints.get(&to));
        let Some(addr) = addr.cloned() else {
            self.log.debug(
                "agent.server.rpc",
                format_args!("dropping frame for unknown server: id={to}"),
            );
            return;
        };
        let link = match self.links.get(&to) {
            Some(link) if link.addr == addr => link,
            _ => {
                // New peer or moved peer: the old task ends once its queue's sender is dropped.
                let link = self.open(to, addr);
                self.links.entry(to).insert_entry(link).into_mut()
            }
        };
        match link.queue.try_send(frame) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => self.log.debug(
                "agent.server.rpc",
                format_args!("queue full, dropping frame: peer={to}"),
            ),
            Err(TrySendError::Closed(_)) => {
                self.links.remove(&to);
            }
        }
    }

    /// Stops the connections to servers no longer in `membership` nor hinted.
    pub(crate) fn retain(&mut self, membership: &Membership) {
        let hints = &self.hints;
        self.links
            .retain(|id, _| membership.servers.contains_key(id) || hints.contains_key(id));
    }

    /// Replaces the address hints used for servers missing from the membership.
    pub(crate) fn set_hints(&mut self, hints: BTreeMap<NodeId, String>) {
        self.hints = hints;
    }

    /// Peers with a connection task.
    #[cfg(test)]
    pub(crate) fn link_count(&self) -> usize {
        self.links.len()
    }

    fn open(&self, peer: NodeId, addr: String) -> Link {
        let (queue, frames) = async_channel::bounded(self.config.peer_queue);
        let task = run_link(
            self.env.clone(),
            peer,
            addr.clone(),
            frames,
            self.config.clone(),
            self.log.clone(),
        );
        self.env.spawn(task);
        Link { addr, queue }
    }
}

/// Keeps one connection to `addr` alive and writes queued frames to it, until the queue's
/// sender is dropped.
async fn run_link<E: Env>(
    env: E,
    peer: NodeId,
    addr: String,
    frames: Receiver<Bytes>,
    config: ShellConfig,
    log: Log,
) {
    let mut backoff = config.min_backoff;
    let mut batch = Vec::new();
    // A closed queue means the peer left the configuration: its pending frames are moot.
    while !frames.is_closed() {
        let deadline = env.now() + config.connect_timeout;
        let mut conn = match with_deadline(&env, deadline, env.connect(&addr)).await {
            Some(Ok(conn)) => conn,
            failure => {
                let why = failure_text(failure);
                log.debug(
                    "agent.server.rpc",
                    format_args!("failed to connect: peer={peer} addr={addr} error={why}"),
                );
                env.sleep_until(env.now() + backoff).await;
                backoff = (backoff * 2).min(config.max_backoff);
                continue;
            }
        };
        backoff = config.min_backoff;
        // Write until the queue closes or the connection fails. The peer never writes on this
        // connection, so anything readable is its close (e.g. its idle timeout, or it
        // restarted): reconnect now, or the next frame — often a vote request after a quiet
        // spell between followers — would vanish into the dead socket and cost an election.
        while let Some(Ok(first)) = next_frame(&frames, &mut conn).await {
            batch.clear();
            batch.extend_from_slice(&first);
            while batch.len() < MAX_BATCH_BYTES {
                let Ok(more) = frames.try_recv() else { break };
                batch.extend_from_slice(&more);
            }
            let deadline = env.now() + config.write_timeout;
            match with_deadline(&env, deadline, conn.write_all(&batch)).await {
                Some(Ok(())) => {}
                failure => {
                    let why = failure_text(failure);
                    log.debug(
                        "agent.server.rpc",
                        format_args!("connection lost: peer={peer} addr={addr} error={why}"),
                    );
                    break;
                }
            }
        }
    }
}

/// The next queued frame, or `None` once the peer closed `conn` (the frame stays queued).
async fn next_frame<C: Conn>(
    frames: &Receiver<Bytes>,
    conn: &mut C,
) -> Option<Result<Bytes, async_channel::RecvError>> {
    let frame = async { Some(frames.recv().await) };
    let closed = async {
        let mut byte = [0u8; 1];
        // Dropping this read loses nothing: the peer sends nothing we would want.
        let _ = conn.read(&mut byte).await;
        None
    };
    // The close is checked first: a frame taken while the connection is dead would be lost.
    futures_lite::future::or(closed, frame).await
}

/// Why a deadline-bounded operation did not succeed (`None`: the deadline passed).
fn failure_text<T>(outcome: Option<std::io::Result<T>>) -> String {
    match outcome {
        None => "timed out".to_string(),
        Some(Err(e)) => e.to_string(),
        Some(Ok(_)) => "succeeded".to_string(),
    }
}
