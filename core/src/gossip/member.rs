//! Members and how news about them is merged: incarnation first, then state precedence
//! (alive < suspect < failed/left at the same incarnation), refutation of news about ourselves.
//!
//! Name conflicts (same name, different address): while the known member is live (alive or
//! suspect) it wins and a [`Event::NameConflict`] is reported; once it has failed or left, the
//! new address takes the name over, whatever its incarnation (a restarted node starts again at 0).

use super::broadcast::BroadcastKey;
use super::codec::{AliveMessage, Message, encode_message};
use super::suspicion::Suspicion;
use super::{Event, Gossip};
use crate::time::Instant;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A member's unique name in the pool (Consul's node name).
pub type NodeName = String;
/// A gossip address: plain data, no socket.
pub type Addr = core::net::SocketAddr;
/// A member's own counter: bumping it refutes older news about the member.
pub type Incarnation = u32;
/// Member tags (role, dc, port, build, raft id, ...), ordered.
pub type Tags = BTreeMap<String, String>;

/// Where a member stands, as this node sees it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum MemberStatus {
    /// Answering probes.
    Alive,
    /// Missed a probe; will be declared failed unless it refutes in time.
    Suspect,
    /// Declared failed (Consul's `failed`).
    Failed,
    /// Left gracefully (Consul's `left`).
    Left,
}

impl MemberStatus {
    /// Alive or suspect: still a probe and gossip target.
    pub fn is_live(self) -> bool {
        matches!(self, MemberStatus::Alive | MemberStatus::Suspect)
    }

    /// Consul's word for it in `consul members` (a suspect still shows as alive).
    pub fn as_consul_str(self) -> &'static str {
        match self {
            MemberStatus::Alive | MemberStatus::Suspect => "alive",
            MemberStatus::Failed => "failed",
            MemberStatus::Left => "left",
        }
    }
}

/// One member of the pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// Unique name.
    pub name: NodeName,
    /// Gossip address.
    pub addr: Addr,
    /// Tags as of `incarnation`.
    pub tags: Tags,
    /// Latest incarnation heard of.
    pub incarnation: Incarnation,
    /// Current state.
    pub status: MemberStatus,
    /// When `status` last changed (drives reaping).
    pub status_since: Instant,
}

/// A reaped member's name, remembered briefly so stale news cannot bring it back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Tombstone {
    pub(super) addr: Addr,
    pub(super) incarnation: Incarnation,
    pub(super) until: Instant,
}

impl Gossip {
    /// Merges an alive claim (from a broadcast, a push-pull or a join).
    pub(super) fn on_alive(&mut self, now: Instant, alive: AliveMessage) {
        if alive.name == self.name {
            self.on_alive_about_self(now, &alive);
            return;
        }
        if let Some(t) = self.tombstones.get(&alive.name)
            && alive.incarnation <= t.incarnation
            && now < t.until
        {
            return;
        }
        let Some(existing) = self.members.get(&alive.name) else {
            self.tombstones.remove(&alive.name);
            self.insert_member(now, alive);
            return;
        };
        let addr_changed = existing.addr != alive.addr;
        if addr_changed && existing.status.is_live() {
            let existing = existing.clone();
            self.emit(Event::NameConflict {
                existing,
                other_addr: alive.addr,
            });
            return;
        }
        let was_down = !existing.status.is_live();
        if !addr_changed && alive.incarnation <= existing.incarnation {
            return;
        }
        let tags_changed = existing.tags != alive.tags;
        self.suspicions.remove(&alive.name);
        let Some(member) = self.members.get_mut(&alive.name) else {
            return;
        };
        member.addr = alive.addr;
        member.incarnation = alive.incarnation;
        member.tags = alive.tags.clone();
        if member.status != MemberStatus::Alive {
            member.status = MemberStatus::Alive;
            member.status_since = now;
        }
        let snapshot = member.clone();
        let name = alive.name.clone();
        self.queue_member_broadcast(&name, Message::Alive(alive));
        if was_down {
            self.emit(Event::MemberUp(snapshot));
        } else if tags_changed || addr_changed {
            self.emit(Event::MemberUpdated(snapshot));
        }
    }

    fn insert_member(&mut self, now: Instant, alive: AliveMessage) {
        let member = member_from_alive(&alive, now);
        let name = alive.name.clone();
        // A random slot keeps the probe order a shuffle (memberlist does the same).
        let slot = self.rng.below(self.probe_order.len() as u64 + 1) as usize;
        self.probe_order.insert(slot, name.clone());
        if slot <= self.probe_index && !self.probe_order.is_empty() {
            self.probe_index += 1;
        }
        self.members.insert(name.clone(), member.clone());
        self.queue_member_broadcast(&name, Message::Alive(alive));
        self.emit(Event::MemberUp(member));
    }

    fn on_alive_about_self(&mut self, now: Instant, alive: &AliveMessage) {
        let me = self.local();
        let stale = alive.incarnation < me.incarnation
            || (alive.incarnation == me.incarnation
                && alive.addr == me.addr
                && alive.tags == me.tags);
        if !stale && !self.leaving {
            // Someone is spreading a different (or newer) version of us: assert ours above it.
            self.refute(now, alive.incarnation);
        }
    }

    /// Merges a suspicion raised by `from` (first-hand: it counts as a confirmation).
    pub(super) fn on_suspect(
        &mut self,
        now: Instant,
        name: &str,
        incarnation: Incarnation,
        from: &str,
    ) {
        self.suspect(now, name, incarnation, Some(from));
    }

    /// Merges a suspicion seen in someone's full state. That is hearsay: the state may just
    /// echo a suspicion we (or a slow node) raised, so it starts a local timer in our own name but
    /// neither confirms a running suspicion nor is gossiped on (which would launder it into
    /// "independent" confirmations elsewhere).
    pub(super) fn on_suspect_hearsay(
        &mut self,
        now: Instant,
        name: &str,
        incarnation: Incarnation,
    ) {
        self.suspect(now, name, incarnation, None);
    }

    fn suspect(&mut self, now: Instant, name: &str, incarnation: Incarnation, from: Option<&str>) {
        if name == self.name {
            self.on_accusation(now, incarnation);
            return;
        }
        let n = self.members.len();
        let Some(member) = self.members.get_mut(name) else {
            return;
        };
        if incarnation < member.incarnation || !member.status.is_live() {
            return;
        }
        let msg = from.map(|from| Message::Suspect {
            name: name.to_owned(),
            incarnation,
            from: from.to_owned(),
        });
        // At a newer incarnation the member refuted the old suspicion: start a fresh one below.
        if member.status == MemberStatus::Suspect && incarnation == member.incarnation {
            let confirmed = from.is_some_and(|from| {
                self.suspicions
                    .get_mut(name)
                    .is_some_and(|s| s.confirm(from))
            });
            if let Some(msg) = msg.filter(|_| confirmed) {
                self.queue_member_broadcast(name, msg);
            }
            return;
        }
        member.incarnation = incarnation;
        member.status = MemberStatus::Suspect;
        member.status_since = now;
        let origin = from.unwrap_or(&self.name).to_owned();
        let suspicion = self.new_suspicion(now, &origin, n);
        self.suspicions.insert(name.to_owned(), suspicion);
        if let Some(msg) = msg {
            self.queue_member_broadcast(name, msg);
        }
    }

    fn new_suspicion(&self, now: Instant, from: &str, n: usize) -> Suspicion {
        let min = self.config.suspicion_min(n);
        if !self.config.lifeguard {
            return Suspicion::new(from.to_owned(), now, min, min, 0);
        }
        let max = min * self.config.suspicion_max_timeout_mult;
        let k = self.config.suspicion_mult.saturating_sub(2);
        let k = if n.saturating_sub(2) < k as usize {
            0
        } else {
            k
        };
        Suspicion::new(from.to_owned(), now, min, max, k)
    }

    /// Merges a failure (or, with `from == name`, a graceful leave).
    pub(super) fn on_dead(
        &mut self,
        now: Instant,
        name: &str,
        incarnation: Incarnation,
        from: &str,
    ) {
        if name == self.name {
            self.on_accusation(now, incarnation);
            return;
        }
        let Some(member) = self.members.get_mut(name) else {
            return;
        };
        // A leave about a failed member still counts (Serf's leave intent): it is how a late
        // graceful leave and `force_leave` turn `failed` into `left`.
        let leave_of_failed = from == name && member.status == MemberStatus::Failed;
        if incarnation < member.incarnation || !(member.status.is_live() || leave_of_failed) {
            return;
        }
        member.incarnation = incarnation;
        member.status = if from == name {
            MemberStatus::Left
        } else {
            MemberStatus::Failed
        };
        member.status_since = now;
        let snapshot = member.clone();
        self.suspicions.remove(name);
        self.queue_member_broadcast(
            name,
            Message::Dead {
                name: name.to_owned(),
                incarnation,
                from: from.to_owned(),
            },
        );
        self.emit(match snapshot.status {
            MemberStatus::Left => Event::MemberLeft(snapshot),
            _ => Event::MemberFailed(snapshot),
        });
    }

    /// Suspicion timers that ran out: the member is declared failed.
    pub(super) fn expire_suspicions(&mut self, now: Instant) {
        let due: Vec<(NodeName, Incarnation)> = self
            .suspicions
            .iter()
            .filter(|(_, s)| s.deadline() <= now)
            .filter_map(|(name, _)| Some((name.clone(), self.members.get(name)?.incarnation)))
            .collect();
        for (name, incarnation) in due {
            self.suspicions.remove(&name);
            let me = self.name.clone();
            self.on_dead(now, &name, incarnation, &me);
        }
    }

    /// Someone suspects us or declared us dead at `incarnation`.
    fn on_accusation(&mut self, now: Instant, incarnation: Incarnation) {
        if self.leaving {
            return;
        }
        if incarnation >= self.local().incarnation {
            // Lifeguard: being accused hints that we are the slow one.
            self.awareness.apply_delta(1);
            self.refute(now, incarnation);
        } else {
            // The accuser missed our last refutation: spread it again, no new incarnation.
            let name = self.name.clone();
            let alive = self.local_alive();
            self.queue_member_broadcast(&name, Message::Alive(alive));
        }
    }

    /// Asserts we are alive at an incarnation above `accused`.
    pub(super) fn refute(&mut self, now: Instant, accused: Incarnation) {
        let name = self.name.clone();
        let Some(me) = self.members.get_mut(&name) else {
            return;
        };
        me.incarnation = me.incarnation.max(accused).saturating_add(1);
        me.status_since = now;
        let alive = self.local_alive();
        self.queue_member_broadcast(&name, Message::Alive(alive));
    }

    /// Removes members failed or left for longer than `reconnect_timeout`, and old tombstones.
    pub(super) fn reap(&mut self, now: Instant) {
        let timeout = self.config.reconnect_timeout;
        let due: Vec<NodeName> = self
            .members
            .values()
            .filter(|m| m.name != self.name)
            .filter(|m| !m.status.is_live() && m.status_since + timeout <= now)
            .map(|m| m.name.clone())
            .collect();
        for name in due {
            self.remove_member(now, name);
        }
        self.tombstones.retain(|_, t| now < t.until);
    }

    /// Merges a prune (`force-leave -prune`): the member is forgotten at once unless it has
    /// since claimed a newer incarnation, and the news is gossiped on. A prune of ourselves
    /// is refuted like an accusation.
    pub(super) fn on_prune(&mut self, now: Instant, name: &str, incarnation: Incarnation) {
        if name == self.name {
            self.on_accusation(now, incarnation);
            return;
        }
        if self
            .members
            .get(name)
            .is_none_or(|m| incarnation < m.incarnation)
        {
            return;
        }
        self.remove_member(now, name.to_owned());
        self.queue_member_broadcast(
            name,
            Message::Prune {
                name: name.to_owned(),
                incarnation,
            },
        );
    }

    /// Drops `name` from the member list, remembering it as a tombstone so stale news cannot
    /// bring it back.
    fn remove_member(&mut self, now: Instant, name: NodeName) {
        let Some(member) = self.members.remove(&name) else {
            return;
        };
        self.probe_order.retain(|n| *n != name);
        self.probe_index = self.probe_index.min(self.probe_order.len());
        self.suspicions.remove(&name);
        self.broadcasts.forget(&BroadcastKey::Member(name.clone()));
        self.tombstones.insert(
            name,
            Tombstone {
                addr: member.addr,
                incarnation: member.incarnation,
                until: now + self.config.tombstone_timeout,
            },
        );
        self.emit(Event::MemberReaped(member));
    }

    pub(super) fn queue_member_broadcast(&mut self, name: &str, msg: Message) {
        self.broadcasts
            .push(BroadcastKey::Member(name.to_owned()), encode_message(&msg));
    }
}

fn member_from_alive(alive: &AliveMessage, now: Instant) -> Member {
    Member {
        name: alive.name.clone(),
        addr: alive.addr,
        tags: alive.tags.clone(),
        incarnation: alive.incarnation,
        status: MemberStatus::Alive,
        status_since: now,
    }
}
