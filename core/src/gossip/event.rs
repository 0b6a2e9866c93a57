//! User events: Lamport-clocked, de-duplicated by (ltime, name, payload hash) within a window of
//! recent Lamport times, spread as piggybacked broadcasts.

use super::broadcast::BroadcastKey;
use super::codec::{Message, UserEvent, compound_len, encode_message};
use super::{Event, Gossip};
use crate::time::Instant;
use std::collections::{BTreeMap, BTreeSet};

/// Why a user event was refused. Refusal has no effect on state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserEventError {
    /// The encoded event is larger than `user_event_size_limit` or one datagram.
    TooLarge {
        /// Encoded size.
        size: usize,
        /// Largest allowed.
        limit: usize,
    },
}

/// The Lamport clock and the recently seen events.
#[derive(Clone, Debug, Default)]
pub(super) struct EventLog {
    clock: u64,
    window: u64,
    seen: BTreeMap<u64, BTreeSet<(String, u64)>>,
}

impl EventLog {
    pub(super) fn new(window: u64) -> Self {
        EventLog {
            window,
            ..EventLog::default()
        }
    }

    /// The current Lamport time.
    pub(super) fn clock(&self) -> u64 {
        self.clock
    }

    /// Moves the clock past a time seen elsewhere.
    pub(super) fn witness(&mut self, ltime: u64) {
        self.clock = self.clock.max(ltime.saturating_add(1));
    }

    /// Takes the next Lamport time for a local event.
    fn next(&mut self) -> u64 {
        let t = self.clock;
        self.clock += 1;
        t
    }

    /// True if the event is new and inside the window (and records it).
    fn accept(&mut self, ltime: u64, name: &str, hash: u64) -> bool {
        let floor = self.clock.saturating_sub(self.window);
        if ltime < floor {
            return false;
        }
        let fresh = self
            .seen
            .entry(ltime)
            .or_default()
            .insert((name.to_owned(), hash));
        self.seen = self.seen.split_off(&floor);
        fresh
    }
}

/// FNV-1a: a stable payload hash (no per-process random state).
fn payload_hash(payload: &[u8]) -> u64 {
    payload.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

impl Gossip {
    /// Sends a user event to the whole pool; it is also delivered locally as an event.
    pub fn user_event(
        &mut self,
        now: Instant,
        name: &str,
        payload: &[u8],
        coalesce: bool,
    ) -> Result<(), UserEventError> {
        let _ = self.observe_time(now);
        let probe = UserEvent {
            ltime: self.events.clock(),
            name: name.to_owned(),
            payload: payload.to_vec(),
            coalesce,
        };
        let size = encode_message(&Message::UserEvent(probe)).len();
        let limit = self
            .config
            .user_event_size_limit
            .min(self.datagram_budget().saturating_sub(compound_len(1, 0)));
        if size > limit {
            return Err(UserEventError::TooLarge { size, limit });
        }
        let event = UserEvent {
            ltime: self.events.next(),
            name: name.to_owned(),
            payload: payload.to_vec(),
            coalesce,
        };
        self.on_user_event(event);
        Ok(())
    }

    /// Delivers and re-broadcasts an event the first time it is seen.
    pub(super) fn on_user_event(&mut self, event: UserEvent) {
        self.events.witness(event.ltime);
        let hash = payload_hash(&event.payload);
        if !self.events.accept(event.ltime, &event.name, hash) {
            return;
        }
        let key = if event.coalesce {
            BroadcastKey::EventName(event.name.clone())
        } else {
            BroadcastKey::Event(event.ltime, event.name.clone(), hash)
        };
        self.broadcasts
            .push(key, encode_message(&Message::UserEvent(event.clone())));
        self.emit(Event::UserEvent(event));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_events_are_accepted_once() {
        let mut log = EventLog::new(16);
        assert!(log.accept(3, "deploy", 1));
        assert!(!log.accept(3, "deploy", 1));
        assert!(log.accept(3, "deploy", 2));
    }

    #[test]
    fn events_older_than_the_window_are_dropped() {
        let mut log = EventLog::new(16);
        log.witness(100);
        assert!(!log.accept(50, "old", 1));
        assert!(log.accept(90, "recent", 1));
    }

    #[test]
    fn clock_moves_past_witnessed_times() {
        let mut log = EventLog::new(16);
        log.witness(9);
        assert_eq!(log.next(), 10);
        assert_eq!(log.clock(), 11);
    }
}
