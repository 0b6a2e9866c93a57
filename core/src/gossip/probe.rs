//! SWIM failure detection: one probe per (awareness-scaled) interval to the next member of a
//! shuffled round-robin, indirect probes through `indirect_checks` members when the direct ack is
//! late (plus memberlist's fallback ping over a stream, so that datagram loss alone cannot make
//! a live member suspect), Lifeguard nacks from the relays, and suspicion when the probe deadline
//! passes.
//!
//! Awareness scales the probe interval, the direct-ack wait and the overall probe deadline: a node
//! that is itself slow waits longer before accusing anyone.

use super::Gossip;
use super::codec::{Message, StreamMessage, encode_stream};
use super::member::{Addr, MemberStatus, NodeName};
use crate::time::Instant;

/// The probe currently in flight.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Probe {
    pub(super) target: NodeName,
    pub(super) target_addr: Addr,
    pub(super) seq: u32,
    /// When indirect probes are sent if no ack came.
    pub(super) indirect_at: Instant,
    /// When the probe counts as failed.
    pub(super) deadline: Instant,
    pub(super) indirect_sent: bool,
    pub(super) expected_nacks: u32,
    pub(super) nacks: u32,
}

/// An indirect probe we relay for someone else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Forward {
    pub(super) origin: Addr,
    pub(super) origin_seq: u32,
    pub(super) nack: bool,
    pub(super) deadline: Instant,
}

impl Gossip {
    /// Starts the next probe (the previous one has already been settled by `probe_timers`).
    pub(super) fn probe_tick(&mut self, now: Instant) {
        self.next_probe = now + self.awareness.scale(self.config.probe_interval);
        if self.leaving {
            return;
        }
        let Some(target) = self.next_probe_target() else {
            return;
        };
        let Some(member) = self.members.get(&target) else {
            return;
        };
        let (addr, status, incarnation) = (member.addr, member.status, member.incarnation);
        let seq = self.next_seq();
        let mut msgs = Vec::with_capacity(2);
        if status == MemberStatus::Suspect {
            // Buddy system: tell the suspect first so it can refute at once. Placed before the
            // ping, so the refutation is already queued when the ack is built and rides on it.
            msgs.push(Message::Suspect {
                name: target.clone(),
                incarnation,
                from: self.name.clone(),
            });
        }
        msgs.push(Message::Ping {
            seq,
            target: target.clone(),
        });
        self.send_packet(addr, &msgs);
        self.probe = Some(Probe {
            target,
            target_addr: addr,
            seq,
            indirect_at: now + self.awareness.scale(self.config.probe_timeout),
            deadline: now + self.awareness.scale(self.config.probe_interval),
            indirect_sent: false,
            expected_nacks: 0,
            nacks: 0,
        });
    }

    fn next_probe_target(&mut self) -> Option<NodeName> {
        for _ in 0..=self.probe_order.len() {
            if self.probe_index >= self.probe_order.len() {
                self.rng.shuffle(&mut self.probe_order);
                self.probe_index = 0;
            }
            let name = self.probe_order.get(self.probe_index)?.clone();
            self.probe_index += 1;
            if self.members.get(&name).is_some_and(|m| m.status.is_live()) {
                return Some(name);
            }
        }
        None
    }

    /// Runs the in-flight probe's and the relayed probes' deadlines.
    pub(super) fn probe_timers(&mut self, now: Instant) {
        if self
            .probe
            .as_ref()
            .is_some_and(|p| !p.indirect_sent && now >= p.indirect_at)
        {
            self.send_indirect_probes();
        }
        if self.probe.as_ref().is_some_and(|p| now >= p.deadline) {
            self.fail_probe(now);
        }
        let due: Vec<u32> = self
            .forwards
            .iter()
            .filter(|(_, f)| f.deadline <= now)
            .map(|(seq, _)| *seq)
            .collect();
        for seq in due {
            if let Some(f) = self.forwards.remove(&seq)
                && f.nack
            {
                self.send_packet(f.origin, &[Message::Nack { seq: f.origin_seq }]);
            }
        }
    }

    fn send_indirect_probes(&mut self) {
        let Some(p) = self.probe.as_mut() else {
            return;
        };
        p.indirect_sent = true;
        let (target, target_addr, seq) = (p.target.clone(), p.target_addr, p.seq);
        let relays = self.random_members(self.config.indirect_checks, |m| {
            m.status == MemberStatus::Alive && m.name != target
        });
        let nack = self.config.lifeguard;
        for relay in &relays {
            let Some(addr) = self.members.get(relay).map(|m| m.addr) else {
                continue;
            };
            let msg = Message::IndirectPing {
                seq,
                target: target.clone(),
                target_addr,
                nack,
            };
            self.send_packet(addr, &[msg]);
        }
        if let Some(p) = self.probe.as_mut()
            && nack
        {
            p.expected_nacks = relays.len() as u32;
        }
        let ping = StreamMessage::Ping {
            seq,
            target,
            from_addr: self.addr,
        };
        let bytes = self.seal(encode_stream(&ping));
        self.push_action(super::Action::SendStream {
            to: target_addr,
            bytes,
        });
    }

    fn fail_probe(&mut self, now: Instant) {
        let Some(p) = self.probe.take() else {
            return;
        };
        // Lifeguard: relays that did not even nack suggest we are the slow one.
        let delta = if p.expected_nacks > 0 {
            i64::from(p.expected_nacks.saturating_sub(p.nacks))
        } else {
            1
        };
        self.awareness.apply_delta(delta);
        let Some(incarnation) = self.members.get(&p.target).map(|m| m.incarnation) else {
            return;
        };
        let me = self.name.clone();
        self.on_suspect(now, &p.target, incarnation, &me);
    }

    pub(super) fn on_ping(&mut self, from: Addr, seq: u32, target: &str) {
        if target != self.name {
            return;
        }
        self.send_packet(from, &[Message::Ack { seq }]);
    }

    pub(super) fn on_indirect_ping(
        &mut self,
        now: Instant,
        from: Addr,
        origin_seq: u32,
        target: NodeName,
        target_addr: Addr,
        nack: bool,
    ) {
        let seq = self.next_seq();
        self.send_packet(target_addr, &[Message::Ping { seq, target }]);
        self.forwards.insert(
            seq,
            Forward {
                origin: from,
                origin_seq,
                nack,
                deadline: now + self.config.probe_timeout,
            },
        );
    }

    pub(super) fn on_ack(&mut self, seq: u32) {
        if let Some(f) = self.forwards.remove(&seq) {
            self.send_packet(f.origin, &[Message::Ack { seq: f.origin_seq }]);
            return;
        }
        if self.probe.as_ref().is_some_and(|p| p.seq == seq) {
            self.probe = None;
            self.awareness.apply_delta(-1);
        }
    }

    /// A fallback ping over a stream: answered the same way, so the ack cannot be lost.
    pub(super) fn on_stream_ping(&mut self, from: Addr, seq: u32, target: &str) {
        if target != self.name {
            return;
        }
        let bytes = self.seal(encode_stream(&StreamMessage::Ack { seq }));
        self.push_action(super::Action::SendStream { to: from, bytes });
    }

    /// The fallback ping got through: the member is alive, though datagrams to or from it
    /// were lost. Like memberlist, no awareness change either way: this says nothing about
    /// our own health.
    pub(super) fn on_stream_ack(&mut self, seq: u32) {
        if self.probe.as_ref().is_some_and(|p| p.seq == seq) {
            self.probe = None;
        }
    }

    pub(super) fn on_nack(&mut self, seq: u32) {
        if let Some(p) = self.probe.as_mut()
            && p.seq == seq
        {
            p.nacks += 1;
        }
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }
}
