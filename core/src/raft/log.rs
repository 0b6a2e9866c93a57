//! The in-memory log: entries after a snapshot base, plus how far it is locally durable.

use std::collections::VecDeque;

use crate::ids::{LogIndex, Term};
use crate::raft::types::{Entry, EntryPayload};

/// Entries `base + 1 ..= last`, where `base` is the last index covered by the snapshot.
#[derive(Debug, Default)]
pub(crate) struct RaftLog {
    base_index: LogIndex,
    base_term: Term,
    entries: VecDeque<Entry>,
    /// Highest index whose entry (and every one before it) is on disk as it is in memory.
    durable: LogIndex,
}

impl RaftLog {
    /// A log recovered from disk: everything given is durable.
    pub(crate) fn recovered(base_index: LogIndex, base_term: Term, entries: Vec<Entry>) -> Self {
        let mut log = RaftLog {
            base_index,
            base_term,
            entries: VecDeque::with_capacity(entries.len()),
            durable: base_index,
        };
        // Entries the snapshot covers (a trailing stretch kept on disk) are not needed.
        for entry in entries.into_iter().skip_while(|e| e.index <= base_index) {
            // Recovered entries must be contiguous; stop at the first gap rather than trust it.
            if entry.index != log.last_index().next() {
                break;
            }
            log.entries.push_back(entry);
        }
        log.durable = log.last_index();
        log
    }

    pub(crate) fn base_index(&self) -> LogIndex {
        self.base_index
    }

    pub(crate) fn last_index(&self) -> LogIndex {
        LogIndex(self.base_index.0 + self.entries.len() as u64)
    }

    pub(crate) fn last_term(&self) -> Term {
        self.entries.back().map_or(self.base_term, |e| e.term)
    }

    pub(crate) fn durable(&self) -> LogIndex {
        self.durable
    }

    /// Everything through `index` reached the disk (capped at what the log still holds).
    pub(crate) fn mark_durable(&mut self, index: LogIndex) {
        self.durable = self.durable.max(index.min(self.last_index()));
    }

    /// The term at `index`, if it is the base or in the log.
    pub(crate) fn term_at(&self, index: LogIndex) -> Option<Term> {
        if index == self.base_index {
            return Some(self.base_term);
        }
        self.get(index).map(|e| e.term)
    }

    pub(crate) fn get(&self, index: LogIndex) -> Option<&Entry> {
        let offset = index.0.checked_sub(self.base_index.0 + 1)?;
        self.entries.get(usize::try_from(offset).ok()?)
    }

    /// Entries `from ..` (from must be > base), at most `max_entries` and about `max_bytes`
    /// of payload (always at least one entry if any exists).
    pub(crate) fn slice(&self, from: LogIndex, max_entries: usize, max_bytes: usize) -> Vec<Entry> {
        let Some(offset) = from.0.checked_sub(self.base_index.0 + 1) else {
            return Vec::new();
        };
        let Ok(offset) = usize::try_from(offset) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut bytes = 0usize;
        for entry in self.entries.iter().skip(offset).take(max_entries.max(1)) {
            let size = payload_size(&entry.payload);
            if !out.is_empty() && bytes + size > max_bytes {
                break;
            }
            bytes += size;
            out.push(entry.clone());
        }
        out
    }

    /// Entries `from ..= through`, clamped to what the log holds.
    pub(crate) fn range(&self, from: LogIndex, through: LogIndex) -> Vec<Entry> {
        let count = through.0.saturating_sub(from.0) + 1;
        let count = usize::try_from(count).unwrap_or(usize::MAX);
        self.slice(from, count, usize::MAX)
    }

    /// Append one entry right after the last one.
    pub(crate) fn push(&mut self, entry: Entry) {
        debug_assert_eq!(entry.index, self.last_index().next());
        self.entries.push_back(entry);
    }

    /// Drop every entry with index ≥ `from` (never the base).
    pub(crate) fn truncate_from(&mut self, from: LogIndex) {
        let keep = from.0.saturating_sub(self.base_index.0 + 1);
        self.entries
            .truncate(usize::try_from(keep).unwrap_or(usize::MAX));
        self.durable = self.durable.min(self.last_index());
    }

    /// Forget entries through `index`, which a durable snapshot now covers.
    pub(crate) fn compact_through(&mut self, index: LogIndex, term: Term) {
        if index <= self.base_index {
            return;
        }
        let drop = (index.0 - self.base_index.0).min(self.entries.len() as u64);
        self.entries
            .drain(..usize::try_from(drop).unwrap_or(usize::MAX));
        self.base_index = index;
        self.base_term = term;
        // The snapshot itself is durable, so the log is durable at least through its base.
        self.durable = self.durable.max(index);
    }

    /// Replace everything with an empty log based at a snapshot; nothing of it is durable yet.
    pub(crate) fn reset_to(&mut self, index: LogIndex, term: Term, durable_floor: LogIndex) {
        self.entries.clear();
        self.base_index = index;
        self.base_term = term;
        self.durable = durable_floor.min(index);
    }

    /// Whether a log ending at (`last_index`, `last_term`) is at least as up to date as ours.
    pub(crate) fn is_up_to_date(&self, last_index: LogIndex, last_term: Term) -> bool {
        (last_term, last_index) >= (self.last_term(), self.last_index())
    }

    /// First index holding `term`, scanning back from `index` (not below base + 1).
    pub(crate) fn first_index_of_term_at(&self, index: LogIndex, term: Term) -> LogIndex {
        let mut first = index;
        while first.0 > self.base_index.0 + 1 && self.term_at(first.prev()) == Some(term) {
            first = first.prev();
        }
        first
    }

    /// Last index holding `term`, if the log has any entry of it.
    pub(crate) fn last_index_of_term(&self, term: Term) -> Option<LogIndex> {
        self.entries
            .iter()
            .rev()
            .skip_while(|e| e.term > term)
            .find(|e| e.term == term)
            .map(|e| e.index)
    }
}

/// Bytes an entry adds to an AppendEntries (for batching).
fn payload_size(payload: &EntryPayload) -> usize {
    match payload {
        EntryPayload::Blank => 0,
        EntryPayload::Command(bytes) => bytes.len(),
        EntryPayload::Membership(m) => m.servers.values().map(|s| s.addr.len() + 16).sum(),
    }
}
