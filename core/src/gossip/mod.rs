//! Gossip membership (Consul's serf/memberlist layer) as a sans-IO state machine: SWIM failure
//! detection with Lifeguard, piggybacked broadcasts, push-pull anti-entropy, user events and
//! optional AES-256-GCM encryption.
//!
//! Drive it like quinn or str0m: feed inputs (`handle_datagram`, `handle_stream`,
//! `handle_timeout`, `join`, `leave`, `user_event`), then drain [`Gossip::poll_action`] to `None`
//! and sleep until [`Gossip::poll_timeout`]. Time only comes in as `now`; randomness only from the
//! injected [`Rng`].

mod awareness;
mod broadcast;
mod codec;
mod config;
mod event;
mod keyring;
mod member;
mod probe;
mod push_pull;
mod suspicion;

#[cfg(test)]
mod tests;

pub use awareness::Awareness;
pub use broadcast::{BroadcastKey, BroadcastQueue};
pub use codec::{
    AliveMessage, DecodeError, Message, PushNodeState, StreamMessage, UserEvent, WIRE_VERSION,
    compound_len, decode_packet, decode_stream, encode_compound, encode_message, encode_stream,
    fuzz_packet,
};
pub use config::Config;
pub use event::UserEventError;
pub use keyring::{
    ENCRYPTION_OVERHEAD, ENCRYPTION_VERSION, KEY_LEN, Keyring, KeyringError, fuzz_encrypted_packet,
};
pub use member::{Addr, Incarnation, Member, MemberStatus, NodeName, Tags};
pub use suspicion::Suspicion;

use crate::rand::Rng;
use crate::time::{Duration, Instant};
use event::EventLog;
use member::Tombstone;
use probe::{Forward, Probe};
use push_pull::PushPullHeader;
use std::collections::{BTreeMap, VecDeque};

/// How often failed/left members are checked for reaping.
const MAINTENANCE_INTERVAL: Duration = Duration::from_secs(1);

/// Something the driver must do or be told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Send one UDP datagram.
    SendDatagram {
        /// Destination gossip address.
        to: Addr,
        /// Packet bytes (encrypted when a keyring is set).
        bytes: Vec<u8>,
    },
    /// Send one message over a reliable stream (TCP): push-pull and join.
    SendStream {
        /// Destination gossip address.
        to: Addr,
        /// Message bytes (encrypted when a keyring is set).
        bytes: Vec<u8>,
    },
    /// Report a membership change or a user event.
    Event(Event),
}

/// Membership changes and user events, as Serf reports them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A member joined, or came back after failing or leaving.
    MemberUp(Member),
    /// A member was declared failed.
    MemberFailed(Member),
    /// A member left gracefully.
    MemberLeft(Member),
    /// A live member changed its tags or address.
    MemberUpdated(Member),
    /// A failed or left member was removed after `reconnect_timeout`.
    MemberReaped(Member),
    /// Another address claims a live member's name; the live member is kept.
    NameConflict {
        /// The member we keep.
        existing: Member,
        /// The address that tried to take its name.
        other_addr: Addr,
    },
    /// A user event arrived (or was sent locally).
    UserEvent(UserEvent),
    /// Member `name` answered our join's push-pull: the join reached it. Only an answer that
    /// decrypted and decoded counts, so a pool whose key we lack never answers.
    JoinAnswered {
        /// Who answered.
        name: NodeName,
        /// Its advertised gossip address.
        addr: Addr,
    },
}

/// Why an incoming packet was dropped (count it; it never affects state).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GossipError {
    /// Decryption failed.
    Keyring(KeyringError),
    /// Decoding failed.
    Decode(DecodeError),
}

/// Who this node is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalNode {
    /// Unique name in the pool.
    pub name: NodeName,
    /// Address others reach our gossip socket at.
    pub addr: Addr,
    /// Tags advertised in our alive messages.
    pub tags: Tags,
}

/// One node's gossip membership state machine.
#[derive(Debug)]
pub struct Gossip {
    config: Config,
    name: NodeName,
    addr: Addr,
    rng: Rng,
    keyring: Option<Keyring>,
    now: Instant,
    /// Every known member, ourselves included, by name.
    members: BTreeMap<NodeName, Member>,
    tombstones: BTreeMap<NodeName, Tombstone>,
    /// Every other member's name in shuffled probe order.
    probe_order: Vec<NodeName>,
    probe_index: usize,
    probe: Option<Probe>,
    forwards: BTreeMap<u32, Forward>,
    seq: u32,
    suspicions: BTreeMap<NodeName, Suspicion>,
    awareness: Awareness,
    broadcasts: BroadcastQueue,
    events: EventLog,
    leaving: bool,
    next_probe: Instant,
    next_gossip: Instant,
    next_push_pull: Instant,
    next_reconnect: Instant,
    next_maintenance: Instant,
    actions: VecDeque<Action>,
}

impl Gossip {
    /// A node alone in its pool, alive at incarnation 0. Periodic timers start at random offsets
    /// so a cluster booted at once does not tick in lockstep.
    pub fn new(now: Instant, local: LocalNode, config: Config, mut rng: Rng) -> Gossip {
        let stagger = |rng: &mut Rng, d: Duration| now + rng.duration(Duration::ZERO, d);
        let next_probe = stagger(&mut rng, config.probe_interval);
        let next_gossip = stagger(&mut rng, config.gossip_interval);
        let next_push_pull = stagger(&mut rng, config.push_pull_interval);
        let next_reconnect = stagger(&mut rng, config.reconnect_interval);
        let me = Member {
            name: local.name.clone(),
            addr: local.addr,
            tags: local.tags,
            incarnation: 0,
            status: MemberStatus::Alive,
            status_since: now,
        };
        let mut g = Gossip {
            awareness: Awareness::new(config.awareness_max_multiplier, config.lifeguard),
            events: EventLog::new(config.user_event_window),
            config,
            name: local.name.clone(),
            addr: local.addr,
            rng,
            keyring: None,
            now,
            members: BTreeMap::from([(local.name, me)]),
            tombstones: BTreeMap::new(),
            probe_order: Vec::new(),
            probe_index: 0,
            probe: None,
            forwards: BTreeMap::new(),
            seq: 0,
            suspicions: BTreeMap::new(),
            broadcasts: BroadcastQueue::default(),
            leaving: false,
            next_probe,
            next_gossip,
            next_push_pull,
            next_reconnect,
            next_maintenance: now + MAINTENANCE_INTERVAL,
            actions: VecDeque::new(),
        };
        let alive = g.local_alive();
        g.queue_member_broadcast(&g.name.clone(), Message::Alive(alive));
        g
    }

    /// Encrypts everything sent and requires everything received to be encrypted.
    pub fn with_keyring(mut self, keyring: Keyring) -> Gossip {
        self.keyring = Some(keyring);
        self
    }

    /// The keyring, for rotation (`add_key`, `use_key`).
    pub fn keyring_mut(&mut self) -> Option<&mut Keyring> {
        self.keyring.as_mut()
    }

    /// Contacts `addrs` with a push-pull; members arrive through the replies.
    pub fn join(&mut self, now: Instant, addrs: &[Addr]) {
        let _ = self.observe_time(now);
        for addr in addrs {
            if *addr != self.addr {
                self.send_push_pull(*addr, false, true);
            }
        }
    }

    /// Leaves gracefully: broadcasts `Left` at our incarnation and stops probing. Keep driving
    /// the node for a few gossip intervals so the news spreads.
    pub fn leave(&mut self, now: Instant) {
        let now = self.observe_time(now);
        if self.leaving {
            return;
        }
        self.leaving = true;
        self.probe = None;
        let name = self.name.clone();
        let incarnation = self.local().incarnation;
        if let Some(me) = self.members.get_mut(&name) {
            me.status = MemberStatus::Left;
            me.status_since = now;
        }
        self.queue_member_broadcast(
            &name,
            Message::Dead {
                name: name.clone(),
                incarnation,
                from: name.clone(),
            },
        );
    }

    /// Consul's `force-leave`: a failed member is marked left here and, through gossip,
    /// everywhere (so nobody keeps trying to reconnect to it). With `prune` (serf's prune), a
    /// failed or left member is also removed from every member list at once instead of after
    /// `reconnect_timeout`. Besides being gossiped, the news goes straight to every live
    /// member: an operator's command should not depend on random gossip targets, which in a
    /// small pool are often the dead themselves. False unless `name` is another member that is
    /// failed (or, with `prune`, failed or left).
    pub fn force_leave(&mut self, now: Instant, name: &str, prune: bool) -> bool {
        let now = self.observe_time(now);
        let Some(member) = self.members.get(name).filter(|m| m.name != self.name) else {
            return false;
        };
        let (status, incarnation) = (member.status, member.incarnation);
        let mut news = Vec::with_capacity(2);
        match status {
            MemberStatus::Failed => {
                self.on_dead(now, name, incarnation, name);
                news.push(Message::Dead {
                    name: name.to_owned(),
                    incarnation,
                    from: name.to_owned(),
                });
            }
            MemberStatus::Left if prune => {}
            _ => return false,
        }
        if prune {
            self.on_prune(now, name, incarnation);
            news.push(Message::Prune {
                name: name.to_owned(),
                incarnation,
            });
        }
        self.tell_every_live_member(&news);
        true
    }

    /// Replaces our tags and announces them at a new incarnation.
    pub fn set_tags(&mut self, now: Instant, tags: Tags) {
        let now = self.observe_time(now);
        let name = self.name.clone();
        if let Some(me) = self.members.get_mut(&name) {
            me.tags = tags;
        }
        let incarnation = self.local().incarnation;
        self.refute(now, incarnation);
    }

    /// Handles one received datagram. Errors mean the packet was dropped; count them.
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        from: Addr,
        bytes: &[u8],
    ) -> Result<(), GossipError> {
        let now = self.observe_time(now);
        let plain = self.open(bytes)?;
        let msgs = decode_packet(&plain).map_err(GossipError::Decode)?;
        for msg in msgs {
            self.on_message(now, from, msg);
        }
        Ok(())
    }

    /// Handles one message received over a stream.
    pub fn handle_stream(
        &mut self,
        now: Instant,
        _from: Addr,
        bytes: &[u8],
    ) -> Result<(), GossipError> {
        let now = self.observe_time(now);
        let plain = self.open(bytes)?;
        match decode_stream(&plain).map_err(GossipError::Decode)? {
            StreamMessage::PushPull {
                from,
                from_addr,
                reply,
                join,
                event_ltime,
                states,
            } => {
                let header = PushPullHeader {
                    from,
                    from_addr,
                    reply,
                    join,
                    event_ltime,
                };
                self.on_push_pull(now, header, states);
            }
            StreamMessage::Ping {
                seq,
                target,
                from_addr,
            } => self.on_stream_ping(from_addr, seq, &target),
            StreamMessage::Ack { seq } => self.on_stream_ack(seq),
        }
        Ok(())
    }

    /// Runs every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let now = self.observe_time(now);
        self.probe_timers(now);
        self.expire_suspicions(now);
        if now >= self.next_probe {
            self.probe_tick(now);
        }
        if now >= self.next_gossip {
            self.gossip_tick(now);
        }
        if now >= self.next_push_pull {
            self.push_pull_tick(now);
        }
        if now >= self.next_reconnect {
            self.reconnect_tick(now);
        }
        if now >= self.next_maintenance {
            self.next_maintenance = now + MAINTENANCE_INTERVAL;
            self.reap(now);
        }
    }

    /// The next thing the driver must do, if any.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When [`Gossip::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut t = self
            .next_probe
            .min(self.next_gossip)
            .min(self.next_push_pull)
            .min(self.next_reconnect)
            .min(self.next_maintenance);
        if let Some(p) = &self.probe {
            if !p.indirect_sent {
                t = t.min(p.indirect_at);
            }
            t = t.min(p.deadline);
        }
        for s in self.suspicions.values() {
            t = t.min(s.deadline());
        }
        for f in self.forwards.values() {
            t = t.min(f.deadline);
        }
        Some(t)
    }

    /// Every known member, ourselves included, ordered by name.
    pub fn members(&self) -> impl Iterator<Item = &Member> {
        self.members.values()
    }

    /// One member by name.
    pub fn member(&self, name: &str) -> Option<&Member> {
        self.members.get(name)
    }

    /// Our own member entry.
    pub fn local(&self) -> &Member {
        // The local entry is inserted at construction and never reaped (it is never Failed).
        &self.members[&self.name]
    }

    /// The local health score (0 = healthy).
    pub fn awareness_score(&self) -> u32 {
        self.awareness.score()
    }

    /// The running suspicion about `name`, if any.
    pub fn suspicion(&self, name: &str) -> Option<&Suspicion> {
        self.suspicions.get(name)
    }

    /// The user-event Lamport clock.
    pub fn event_clock(&self) -> u64 {
        self.events.clock()
    }

    /// Broadcasts waiting to be piggybacked.
    pub fn pending_broadcasts(&self) -> usize {
        self.broadcasts.len()
    }

    fn on_message(&mut self, now: Instant, from: Addr, msg: Message) {
        match msg {
            Message::Ping { seq, target } => self.on_ping(from, seq, &target),
            Message::IndirectPing {
                seq,
                target,
                target_addr,
                nack,
            } => self.on_indirect_ping(now, from, seq, target, target_addr, nack),
            Message::Ack { seq } => self.on_ack(seq),
            Message::Nack { seq } => self.on_nack(seq),
            Message::Alive(alive) => self.on_alive(now, alive),
            Message::Suspect {
                name,
                incarnation,
                from,
            } => self.on_suspect(now, &name, incarnation, &from),
            Message::Dead {
                name,
                incarnation,
                from,
            } => self.on_dead(now, &name, incarnation, &from),
            Message::UserEvent(event) => self.on_user_event(event),
            Message::Prune { name, incarnation } => self.on_prune(now, &name, incarnation),
        }
    }

    fn seal(&mut self, plain: Vec<u8>) -> Vec<u8> {
        match &self.keyring {
            Some(k) => k.encrypt(&plain, &mut self.rng),
            None => plain,
        }
    }

    fn open(&self, bytes: &[u8]) -> Result<Vec<u8>, GossipError> {
        match &self.keyring {
            Some(k) => k.decrypt(bytes).map_err(GossipError::Keyring),
            None => Ok(bytes.to_vec()),
        }
    }

    /// Up to `count` distinct random members (never ourselves) passing `keep`, memberlist-style:
    /// at most `3 × members` random draws.
    fn random_members(&mut self, count: usize, keep: impl Fn(&Member) -> bool) -> Vec<NodeName> {
        let mut picked: Vec<NodeName> = Vec::with_capacity(count);
        let n = self.probe_order.len();
        for _ in 0..3 * n {
            if picked.len() >= count {
                break;
            }
            let name = &self.probe_order[self.rng.below(n as u64) as usize];
            if picked.contains(name) {
                continue;
            }
            if self.members.get(name).is_some_and(&keep) {
                picked.push(name.clone());
            }
        }
        picked
    }

    fn local_alive(&self) -> AliveMessage {
        let me = self.local();
        AliveMessage {
            name: me.name.clone(),
            addr: me.addr,
            incarnation: me.incarnation,
            tags: me.tags.clone(),
        }
    }

    /// Clamps a driver's `now` so time never runs backwards inside the machine.
    fn observe_time(&mut self, now: Instant) -> Instant {
        self.now = self.now.max(now);
        self.now
    }

    fn emit(&mut self, event: Event) {
        self.actions.push_back(Action::Event(event));
    }

    fn push_action(&mut self, action: Action) {
        self.actions.push_back(action);
    }
}
