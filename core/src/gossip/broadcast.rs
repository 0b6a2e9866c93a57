//! memberlist's transmit-limited queue: broadcasts piggyback on outgoing datagrams, the
//! least-transmitted first, each sent at most `retransmit_mult × ceil(log10(N+1))` times; a newer
//! broadcast about the same subject replaces the queued one. Also the packing of outgoing
//! datagrams: primary messages first, then as many broadcasts as the budget allows.

use super::codec::{Message, compound_len, encode_compound, encode_message};
use super::keyring::ENCRYPTION_OVERHEAD;
use super::member::Addr;
use super::{Action, Gossip};
use crate::time::Instant;
use std::cmp::Reverse;
use std::collections::BTreeMap;

/// What a broadcast is about: a newer broadcast with the same key invalidates the older one.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum BroadcastKey {
    /// Membership news (alive/suspect/dead) about one member.
    Member(String),
    /// A coalescing user event: only the newest of a name keeps spreading.
    EventName(String),
    /// A non-coalescing user event, unique by (ltime, name, payload hash).
    Event(u64, String, u64),
}

/// Below this many free bytes no broadcast can fit, so the scan stops.
const SMALLEST_USEFUL: usize = 8;

/// Queue order: fewest transmits first, then newest first.
type Slot = (u32, Reverse<u64>);

#[derive(Clone, Debug)]
struct Queued {
    key: BroadcastKey,
    bytes: Vec<u8>,
}

/// The transmit-limited broadcast queue.
#[derive(Clone, Debug, Default)]
pub struct BroadcastQueue {
    queue: BTreeMap<Slot, Queued>,
    by_key: BTreeMap<BroadcastKey, Slot>,
    next_id: u64,
}

impl BroadcastQueue {
    /// Queues an encoded message, replacing any queued broadcast with the same key.
    pub fn push(&mut self, key: BroadcastKey, bytes: Vec<u8>) {
        if let Some(old) = self.by_key.remove(&key) {
            self.queue.remove(&old);
        }
        self.next_id += 1;
        let slot = (0, Reverse(self.next_id));
        self.by_key.insert(key.clone(), slot);
        self.queue.insert(slot, Queued { key, bytes });
    }

    /// Number of queued broadcasts.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Takes broadcasts fitting in `budget` bytes, counting `overhead` extra bytes per message,
    /// least-transmitted first. Each one taken counts one transmit and is dropped at `limit`.
    pub fn take(&mut self, budget: usize, overhead: usize, limit: u32) -> Vec<Vec<u8>> {
        let mut used = 0;
        let mut picked = Vec::new();
        for (slot, q) in &self.queue {
            let cost = q.bytes.len() + overhead;
            if used + cost > budget {
                // Smaller ones further back may still fit, unless almost nothing is left.
                if budget.saturating_sub(used) < overhead + SMALLEST_USEFUL {
                    break;
                }
                continue;
            }
            used += cost;
            picked.push(*slot);
        }
        let mut out = Vec::with_capacity(picked.len());
        for slot in picked {
            let Some(q) = self.queue.remove(&slot) else {
                continue;
            };
            out.push(q.bytes.clone());
            let transmits = slot.0 + 1;
            if transmits >= limit {
                self.by_key.remove(&q.key);
            } else {
                let next = (transmits, slot.1);
                self.by_key.insert(q.key.clone(), next);
                self.queue.insert(next, q);
            }
        }
        out
    }

    /// Drops broadcasts about a member (e.g. once it is reaped).
    pub fn forget(&mut self, key: &BroadcastKey) {
        if let Some(slot) = self.by_key.remove(key) {
            self.queue.remove(&slot);
        }
    }
}

impl Gossip {
    /// Sends piggybacked broadcasts to a few random members.
    pub(super) fn gossip_tick(&mut self, now: Instant) {
        self.next_gossip = now + self.config.gossip_interval;
        let dead_grace = self.config.gossip_to_the_dead_time;
        let me = self.name.clone();
        let targets = self.random_members(self.config.gossip_nodes, |m| {
            m.name != me && (m.status.is_live() || now < m.status_since + dead_grace)
        });
        for name in targets {
            let Some(addr) = self.members.get(&name).map(|m| m.addr) else {
                continue;
            };
            if !self.send_packet(addr, &[]) {
                return;
            }
        }
    }

    /// Sends `primary` plus as many broadcasts as fit. With nothing to send, sends nothing and
    /// returns false.
    pub(super) fn send_packet(&mut self, to: Addr, primary: &[Message]) -> bool {
        let mut encoded: Vec<Vec<u8>> = primary.iter().map(encode_message).collect();
        let used: usize = encoded.iter().map(Vec::len).sum();
        // Reserve the largest count prefix a datagram can need.
        let room = self
            .datagram_budget()
            .saturating_sub(compound_len(usize::from(u16::MAX), used));
        let limit = self.config.retransmit_limit(self.members.len());
        encoded.extend(self.broadcasts.take(room, 0, limit));
        if encoded.is_empty() {
            return false;
        }
        let bytes = self.seal(encode_compound(&encoded));
        self.push_action(Action::SendDatagram { to, bytes });
        true
    }

    /// Sends `msgs` alone (no piggybacked broadcasts) to every other live member.
    pub(super) fn tell_every_live_member(&mut self, msgs: &[Message]) {
        let to: Vec<Addr> = self
            .members
            .values()
            .filter(|m| m.name != self.name && m.status.is_live())
            .map(|m| m.addr)
            .collect();
        let encoded: Vec<Vec<u8>> = msgs.iter().map(encode_message).collect();
        let plain = encode_compound(&encoded);
        for addr in to {
            let bytes = self.seal(plain.clone());
            self.push_action(Action::SendDatagram { to: addr, bytes });
        }
    }

    /// Bytes a plaintext datagram may use once encryption overhead is accounted for.
    pub(super) fn datagram_budget(&self) -> usize {
        let overhead = if self.keyring.is_some() {
            ENCRYPTION_OVERHEAD
        } else {
            0
        };
        self.config.packet_budget.saturating_sub(overhead)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> BroadcastKey {
        BroadcastKey::Member(s.into())
    }

    #[test]
    fn newer_broadcast_about_same_member_replaces_older() {
        let mut q = BroadcastQueue::default();
        q.push(key("a"), vec![1]);
        q.push(key("a"), vec![2]);
        assert_eq!(q.len(), 1);
        assert_eq!(q.take(100, 0, 10), vec![vec![2]]);
    }

    #[test]
    fn fewest_transmitted_first_then_newest() {
        let mut q = BroadcastQueue::default();
        q.push(key("a"), vec![1]);
        assert_eq!(q.take(100, 0, 10), vec![vec![1]]);
        q.push(key("b"), vec![2]);
        q.push(key("c"), vec![3]);
        assert_eq!(q.take(100, 0, 10), vec![vec![3], vec![2], vec![1]]);
    }

    #[test]
    fn broadcast_is_dropped_after_retransmit_limit() {
        let mut q = BroadcastQueue::default();
        q.push(key("a"), vec![1]);
        for _ in 0..3 {
            assert_eq!(q.take(100, 0, 3), vec![vec![1]]);
        }
        assert!(q.is_empty());
        assert!(q.take(100, 0, 3).is_empty());
    }

    #[test]
    fn take_respects_byte_budget_with_overhead() {
        let mut q = BroadcastQueue::default();
        q.push(key("a"), vec![0; 10]);
        q.push(key("b"), vec![0; 10]);
        q.push(key("c"), vec![0; 3]);
        // Newest first: c (3+1) fits, b (10+1) fits, a would exceed 16.
        let got = q.take(16, 1, 10);
        assert_eq!(got, vec![vec![0; 3], vec![0; 10]]);
        assert_eq!(q.len(), 3);
    }
}
