//! A disk held in memory: for `-dev` agents and for simulations.
//!
//! The durable image is shared (`Arc<Mutex<_>>`), so a simulated host that is crashed and
//! restarted can recover from the image its previous incarnation wrote. Every write is
//! "durable" as soon as it is applied to the image.

use std::sync::{Arc, Mutex, MutexGuard};

use async_channel::{Receiver, Sender};
use synod_core::ids::IoToken;
use synod_core::raft::{LogWrite, LogWriteError, Recovered};

use super::env::Disk;

/// What survives a restart: hard state, latest snapshot and the log after it.
#[derive(Clone, Debug, Default)]
pub struct MemoryImage {
    state: Arc<Mutex<Recovered>>,
}

impl MemoryImage {
    /// An empty image (a brand-new server).
    pub fn new() -> Self {
        MemoryImage::default()
    }

    /// What a restarting node loads.
    pub fn recovered(&self) -> Recovered {
        self.lock().clone()
    }

    /// Applies `write` as `LogWrite` prescribes (snapshot, truncation, entries, hard state,
    /// compaction), refusing a write that breaks its contract.
    pub fn apply(&self, write: &LogWrite) -> Result<(), LogWriteError> {
        self.lock().apply(write)
    }

    fn lock(&self) -> MutexGuard<'_, Recovered> {
        // The image stays consistent between statements, so a panic elsewhere cannot have left
        // it half-written: recover the guard instead of propagating the poison.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A [`Disk`] over a [`MemoryImage`].
#[derive(Debug)]
pub struct MemoryDisk {
    image: MemoryImage,
    durable: Sender<IoToken>,
}

impl MemoryDisk {
    /// A disk writing to `image`, and the channel its completions arrive on.
    pub fn new(image: MemoryImage) -> (Self, Receiver<IoToken>) {
        let (durable, completions) = async_channel::unbounded();
        (MemoryDisk { image, durable }, completions)
    }
}

impl Disk for MemoryDisk {
    fn submit(&mut self, token: IoToken, write: LogWrite) {
        if self.image.apply(&write).is_err() {
            // A write that breaks the contract is a bug upstream: stop the disk, as a failed
            // real disk does, so the loop stops with `DiskFailed` instead of carrying on.
            self.durable.close();
            return;
        }
        // The loop holds the receiver for as long as it submits; a closed channel means the
        // loop is gone and nobody waits for the token.
        let _ = self.durable.try_send(token);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use synod_core::ids::{LogIndex, NodeId, Term};
    use synod_core::raft::{Entry, EntryPayload, HardState, Snapshot, SnapshotMeta};

    fn entry(index: u64, term: u64) -> Entry {
        Entry {
            index: LogIndex(index),
            term: Term(term),
            payload: EntryPayload::Blank,
        }
    }

    fn append(entries: Vec<Entry>) -> LogWrite {
        LogWrite {
            entries,
            ..LogWrite::default()
        }
    }

    #[test]
    fn truncation_then_append_replaces_the_conflicting_suffix() {
        let image = MemoryImage::new();
        image
            .apply(&append(vec![entry(1, 1), entry(2, 1), entry(3, 1)]))
            .expect("a write that keeps the contract");
        image
            .apply(&LogWrite {
                truncate_from: Some(LogIndex(2)),
                entries: vec![entry(2, 2)],
                hard_state: Some(HardState {
                    term: Term(2),
                    vote: Some(NodeId(7)),
                    commit: LogIndex(1),
                }),
                ..LogWrite::default()
            })
            .expect("a write that keeps the contract");
        let recovered = image.recovered();
        assert_eq!(recovered.entries, vec![entry(1, 1), entry(2, 2)]);
        assert_eq!(recovered.hard_state.vote, Some(NodeId(7)));
    }

    #[test]
    fn snapshot_and_compaction_leave_only_entries_after_the_snapshot() {
        let image = MemoryImage::new();
        image
            .apply(&append((1..=5).map(|i| entry(i, 1)).collect()))
            .expect("a write that keeps the contract");
        image
            .apply(&LogWrite {
                snapshot: Some(Snapshot {
                    meta: SnapshotMeta {
                        last_index: LogIndex(3),
                        last_term: Term(1),
                        membership: Default::default(),
                    },
                    data: bytes::Bytes::from_static(b"state"),
                }),
                compact_through: Some(LogIndex(3)),
                ..LogWrite::default()
            })
            .expect("a write that keeps the contract");
        let recovered = image.recovered();
        assert_eq!(recovered.entries, vec![entry(4, 1), entry(5, 1)]);
        assert_eq!(
            recovered.snapshot.map(|s| s.meta.last_index),
            Some(LogIndex(3))
        );
    }

    #[test]
    fn completions_are_posted_in_submission_order() {
        let (mut disk, completions) = MemoryDisk::new(MemoryImage::new());
        disk.submit(IoToken(1), append(vec![entry(1, 1)]));
        disk.submit(IoToken(2), LogWrite::default());
        assert_eq!(completions.try_recv(), Ok(IoToken(1)));
        assert_eq!(completions.try_recv(), Ok(IoToken(2)));
    }
}
