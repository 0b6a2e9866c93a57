//! Periodic full-state exchange over a stream (and the join handshake): each side sends every
//! member it knows and merges the other's list by incarnation and state precedence.
//!
//! Tombstones travel as `Failed` entries, so a node that rejoins under a reaped name hears about
//! its old self and refutes with a higher incarnation.

use super::Event;
use super::Gossip;
use super::codec::{AliveMessage, PushNodeState, StreamMessage, encode_stream};
use super::member::{Addr, MemberStatus, NodeName};
use crate::time::Instant;

/// What a push-pull carries besides the member states.
pub(super) struct PushPullHeader {
    pub(super) from: NodeName,
    pub(super) from_addr: Addr,
    pub(super) reply: bool,
    /// On a request: the sender is joining. On a reply: it answers a join (echoed back).
    pub(super) join: bool,
    pub(super) event_ltime: u64,
}

impl Gossip {
    /// Starts a periodic push-pull with one random live member.
    pub(super) fn push_pull_tick(&mut self, now: Instant) {
        self.next_push_pull = now + self.config.push_pull_period(self.members.len());
        if self.leaving {
            return;
        }
        let peer = self.random_members(1, |m| m.status == MemberStatus::Alive);
        if let Some(addr) = peer
            .first()
            .and_then(|n| self.members.get(n))
            .map(|m| m.addr)
        {
            self.send_push_pull(addr, false, false);
        }
    }

    /// Sends our full state to `to`.
    pub(super) fn send_push_pull(&mut self, to: Addr, reply: bool, join: bool) {
        let mut states: Vec<PushNodeState> = self
            .members
            .values()
            .map(|m| PushNodeState {
                name: m.name.clone(),
                addr: m.addr,
                incarnation: m.incarnation,
                status: m.status,
                tags: m.tags.clone(),
            })
            .collect();
        states.extend(self.tombstones.iter().map(|(name, t)| PushNodeState {
            name: name.clone(),
            addr: t.addr,
            incarnation: t.incarnation,
            status: MemberStatus::Failed,
            tags: Default::default(),
        }));
        let msg = StreamMessage::PushPull {
            from: self.name.clone(),
            from_addr: self.addr,
            reply,
            join,
            event_ltime: self.events.clock(),
            states,
        };
        let bytes = self.seal(encode_stream(&msg));
        self.push_action(super::Action::SendStream { to, bytes });
    }

    /// Merges a received push-pull, then answers it (unless it is itself an answer) so the
    /// answer already carries any refutation the merge caused.
    pub(super) fn on_push_pull(
        &mut self,
        now: Instant,
        header: PushPullHeader,
        states: Vec<PushNodeState>,
    ) {
        self.events.witness(header.event_ltime);
        for s in states {
            match s.status {
                MemberStatus::Alive => self.on_alive(
                    now,
                    AliveMessage {
                        name: s.name,
                        addr: s.addr,
                        incarnation: s.incarnation,
                        tags: s.tags,
                    },
                ),
                MemberStatus::Left => self.on_dead(now, &s.name, s.incarnation, &s.name),
                // Someone else's verdict is only a suspicion here: we check for ourselves.
                MemberStatus::Suspect | MemberStatus::Failed => {
                    self.on_suspect_hearsay(now, &s.name, s.incarnation)
                }
            }
        }
        if !header.reply {
            self.send_push_pull(header.from_addr, true, header.join);
        } else if header.join {
            self.emit(Event::JoinAnswered {
                name: header.from,
                addr: header.from_addr,
            });
        }
    }

    /// Serf's reconnect: now and then push-pull with a failed member, so pools split by a
    /// partition find each other again once it heals. The chance is failed/alive members.
    pub(super) fn reconnect_tick(&mut self, now: Instant) {
        self.next_reconnect = now + self.config.reconnect_interval;
        if self.leaving {
            return;
        }
        let failed: Vec<Addr> = self
            .members
            .values()
            .filter(|m| m.status == MemberStatus::Failed)
            .map(|m| m.addr)
            .collect();
        let alive = self.members.values().filter(|m| m.status.is_live()).count();
        if failed.is_empty() || self.rng.unit() > failed.len() as f64 / alive.max(1) as f64 {
            return;
        }
        let to = failed[self.rng.below(failed.len() as u64) as usize];
        self.send_push_pull(to, false, false);
    }
}
