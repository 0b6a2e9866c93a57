//! The one task that owns a [`Gossip`] state machine: it feeds it datagrams, streams, commands
//! and timeouts, drains its actions after every input and sleeps until its next deadline.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use async_channel::{Receiver, Sender};
use async_io::Async;
use futures_lite::future;
use synod_core::gossip::{Action, Event, Gossip, GossipError};
use synod_core::time::Instant;

use super::handle::{Command, SerfError, SharedMembers};
use super::stats::{Counters, add, bump};
use super::transport::{Inbound, send_stream};
use crate::shell::Env;
use crate::shell::smol_env::SmolEnv;
use crate::shell::timing::with_deadline;

/// Largest datagram we can receive (UDP's limit).
const MAX_DATAGRAM: usize = 65_536;
/// Even without membership events the shared member list is refreshed this often, so
/// incarnations and `status_since` stay current.
const MEMBERS_REFRESH: Duration = Duration::from_secs(1);

/// What woke the loop.
enum Wake {
    Datagram(std::io::Result<(usize, SocketAddr)>),
    Stream(Option<Inbound>),
    Command(Option<Command>),
    Deadline,
}

/// A `leave` waiting for its news to spread.
struct LeaveWaiter {
    reply: Sender<()>,
    give_up_at: Instant,
}

/// Streams sent for a `join`, whose delivery decides what `join` returns.
struct JoinWatch<'a> {
    addrs: &'a [SocketAddr],
    delivered: &'a Sender<bool>,
    sends: usize,
}

/// Everything the driver task owns.
pub(crate) struct Driver {
    pub(crate) gossip: Gossip,
    pub(crate) env: SmolEnv,
    pub(crate) udp: Async<UdpSocket>,
    pub(crate) streams: Receiver<Inbound>,
    pub(crate) commands: Receiver<Command>,
    pub(crate) events: Sender<Event>,
    pub(crate) members: SharedMembers,
    pub(crate) counters: Arc<Counters>,
    pub(crate) stream_timeout: Duration,
    pub(crate) join_timeout: Duration,
    /// Joins in progress, told the name of every agent that answers a join.
    pub(crate) join_waiters: Vec<Sender<String>>,
    pub(crate) leave_timeout: Duration,
}

impl Driver {
    /// Runs until every handle is dropped (or the task is dropped).
    pub(crate) async fn run(mut self) {
        let mut buf = vec![0u8; MAX_DATAGRAM];
        let mut leaving: Vec<LeaveWaiter> = Vec::new();
        let mut members_dirty = true;
        let mut members_published = self.env.now();
        self.drain(None);
        loop {
            let now = self.env.now();
            self.answer_leaves(&mut leaving, now);
            if members_dirty || now.saturating_since(members_published) >= MEMBERS_REFRESH {
                self.publish_members();
                members_dirty = false;
                members_published = now;
            }
            let mut deadline = self.gossip.poll_timeout();
            if let Some(w) = leaving.iter().map(|w| w.give_up_at).min() {
                deadline = Some(deadline.map_or(w, |d| d.min(w)));
            }
            if deadline.is_some_and(|at| at <= now) {
                self.gossip.handle_timeout(now);
                members_dirty |= self.drain(None);
                continue;
            }
            let wake = self.next_wake(&mut buf, deadline).await;
            let now = self.env.now();
            match wake {
                Wake::Datagram(Ok((len, from))) => {
                    bump(&self.counters.packets_received);
                    add(&self.counters.bytes_received, len as u64);
                    let result = self.gossip.handle_datagram(now, from, &buf[..len]);
                    self.count_error(result);
                }
                // Unconnected UDP sockets report little; nothing to do but go on.
                Wake::Datagram(Err(_)) => {}
                Wake::Stream(Some(Inbound { from, bytes })) => {
                    let result = self.gossip.handle_stream(now, from, &bytes);
                    self.count_error(result);
                }
                // The accept loop runs as long as the driver: its channel cannot close first.
                Wake::Stream(None) => return,
                Wake::Command(Some(command)) => {
                    if let Some(waiter) = self.command(now, command) {
                        leaving.push(waiter);
                    }
                    members_dirty = true;
                    continue;
                }
                Wake::Command(None) => return,
                Wake::Deadline => self.gossip.handle_timeout(now),
            }
            members_dirty |= self.drain(None);
        }
    }

    /// Waits for the next input or the deadline, whichever comes first.
    async fn next_wake(&self, buf: &mut [u8], deadline: Option<Instant>) -> Wake {
        let datagram = async { Wake::Datagram(self.udp.recv_from(buf).await) };
        let stream = async { Wake::Stream(self.streams.recv().await.ok()) };
        let command = async { Wake::Command(self.commands.recv().await.ok()) };
        let timer = async {
            match deadline {
                Some(at) => self.env.sleep_until(at).await,
                None => future::pending().await,
            }
            Wake::Deadline
        };
        future::or(future::or(timer, command), future::or(stream, datagram)).await
    }

    /// Carries out one handle request; a leave comes back to wait for its news to spread.
    fn command(&mut self, now: Instant, command: Command) -> Option<LeaveWaiter> {
        match command {
            Command::Join { addrs, reply } => {
                self.gossip.join(now, &addrs);
                let (delivered, results) = async_channel::unbounded();
                let (answered, answers) = async_channel::unbounded();
                self.join_waiters.push(answered);
                let mut watch = JoinWatch {
                    addrs: &addrs,
                    delivered: &delivered,
                    sends: 0,
                };
                self.drain(Some(&mut watch));
                let sends = watch.sends;
                let env = self.env.clone();
                let limit = self.join_timeout;
                self.env.spawn(async move {
                    let mut reached = 0;
                    for _ in 0..sends {
                        reached += usize::from(results.recv().await.unwrap_or(false));
                    }
                    let result = match reached {
                        0 => Err(SerfError::JoinFailed),
                        _ => match count_answers(&env, answers, reached, limit).await {
                            0 => Err(SerfError::JoinUnanswered { contacted: reached }),
                            answered => Ok(answered),
                        },
                    };
                    // The caller may have given up waiting; that is fine.
                    let _ = reply.send(result).await;
                });
                None
            }
            Command::Leave { reply } => {
                self.gossip.leave(now);
                self.drain(None);
                Some(LeaveWaiter {
                    reply,
                    give_up_at: now.saturating_add(self.leave_timeout),
                })
            }
            Command::UserEvent {
                name,
                payload,
                coalesce,
                reply,
            } => {
                let result = self.gossip.user_event(now, &name, &payload, coalesce);
                self.drain(None);
                // A full or closed reply channel means the caller stopped waiting.
                let _ = reply.try_send(result);
                None
            }
            Command::SetTags(tags) => {
                self.gossip.set_tags(now, tags);
                self.drain(None);
                None
            }
            Command::ForceLeave { name, prune, reply } => {
                let forced = self.gossip.force_leave(now, &name, prune);
                self.drain(None);
                let _ = reply.try_send(forced);
                None
            }
        }
    }

    /// Answers the leaves whose news has been gossiped out, or that waited long enough. With
    /// nobody live to tell, there is nothing to wait for.
    fn answer_leaves(&self, leaving: &mut Vec<LeaveWaiter>, now: Instant) {
        if leaving.is_empty() {
            return;
        }
        let local = &self.gossip.local().name;
        let alone = !self
            .gossip
            .members()
            .any(|m| &m.name != local && m.status.is_live());
        let spread = self.gossip.pending_broadcasts() == 0;
        leaving.retain(|w| {
            let done = alone || spread || now >= w.give_up_at;
            if done {
                let _ = w.reply.try_send(());
            }
            !done
        });
    }

    /// Performs every queued action; streams to an address `watch` covers report whether they
    /// were delivered. True when a membership event was emitted.
    fn drain(&mut self, mut watch: Option<&mut JoinWatch<'_>>) -> bool {
        let mut membership_changed = false;
        while let Some(action) = self.gossip.poll_action() {
            match action {
                Action::SendDatagram { to, bytes } => self.send_datagram(to, &bytes),
                Action::SendStream { to, bytes } => {
                    let send = send_stream(
                        self.env.clone(),
                        to,
                        bytes,
                        self.stream_timeout,
                        self.counters.clone(),
                    );
                    match watch.as_deref_mut().filter(|w| w.addrs.contains(&to)) {
                        Some(w) => {
                            w.sends += 1;
                            let delivered = w.delivered.clone();
                            self.env.spawn(async move {
                                let _ = delivered.send(send.await).await;
                            });
                        }
                        None => self.env.spawn(async move {
                            send.await;
                        }),
                    }
                }
                Action::Event(Event::JoinAnswered { name, .. }) => {
                    // A finished join dropped its receiver: forget it.
                    self.join_waiters
                        .retain(|waiter| waiter.try_send(name.clone()).is_ok());
                }
                Action::Event(event) => {
                    membership_changed |= !matches!(event, Event::UserEvent(_));
                    if self.events.try_send(event).is_err() {
                        bump(&self.counters.events_dropped);
                    }
                }
            }
        }
        membership_changed
    }

    /// Sends without waiting: a full socket buffer drops the packet, as the network may.
    fn send_datagram(&self, to: SocketAddr, bytes: &[u8]) {
        // The socket is non-blocking: a full buffer is a WouldBlock error, not a stall.
        match self.udp.get_ref().send_to(bytes, to) {
            Ok(_) => {
                bump(&self.counters.packets_sent);
                add(&self.counters.bytes_sent, bytes.len() as u64);
            }
            Err(_) => bump(&self.counters.send_failures),
        }
    }

    fn count_error(&self, result: Result<(), GossipError>) {
        match result {
            Ok(()) => {}
            Err(GossipError::Keyring(_)) => bump(&self.counters.decrypt_failures),
            Err(GossipError::Decode(_)) => bump(&self.counters.decode_errors),
        }
    }

    fn publish_members(&self) {
        let snapshot: Vec<_> = self.gossip.members().cloned().collect();
        *self
            .members
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = snapshot;
    }
}

/// How many distinct agents answer on `answers` before `expected` did or `limit` passed.
async fn count_answers(
    env: &SmolEnv,
    answers: Receiver<String>,
    expected: usize,
    limit: Duration,
) -> usize {
    let mut names = std::collections::BTreeSet::new();
    let collect = async {
        while names.len() < expected {
            match answers.recv().await {
                Ok(name) => {
                    names.insert(name);
                }
                Err(_) => break,
            }
        }
    };
    with_deadline(env, env.now() + limit, collect).await;
    names.len()
}
