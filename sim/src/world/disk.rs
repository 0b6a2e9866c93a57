//! The simulated disk of one node: writes complete in order after a latency; a crash loses the
//! writes not yet complete and may tear the one in progress.

use std::collections::VecDeque;

use synod_core::ids::IoToken;
use synod_core::raft::{LogWrite, Recovered};

/// A write the driver was asked for that breaks the `LogWrite` contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiskError(pub String);

/// What survives a crash: the writes that completed (core's checked in-memory image).
pub type DurableImage = Recovered;

/// Whether nothing was ever made durable (a node that must bootstrap again).
pub fn is_blank(image: &DurableImage) -> bool {
    *image == DurableImage::default()
}

/// A one-line summary of a write, for failure reports.
pub fn describe(write: &LogWrite) -> String {
    let entries = match (write.entries.first(), write.entries.last()) {
        (Some(a), Some(b)) => format!("{}..={}", a.index, b.index),
        _ => "none".to_string(),
    };
    format!(
        "{{snapshot: {:?}, truncate_from: {:?}, entries: {entries}, hard_state: {:?}, \
         compact_through: {:?}}}",
        write.snapshot.as_ref().map(|s| s.meta.last_index),
        write.truncate_from,
        write.hard_state,
        write.compact_through
    )
}

/// One node's disk.
#[derive(Clone, Debug, Default)]
pub struct Disk {
    image: DurableImage,
    /// Writes submitted and not yet complete, oldest (in progress) first, with completion times.
    queue: VecDeque<(IoToken, LogWrite, u64)>,
}

impl Disk {
    /// The durable image.
    pub fn image(&self) -> &DurableImage {
        &self.image
    }

    /// Queues a write submitted at `now` taking `latency` µs once the previous one is done;
    /// returns its completion time.
    pub fn submit(&mut self, token: IoToken, write: LogWrite, now: u64, latency: u64) -> u64 {
        let start = self
            .queue
            .back()
            .map_or(now, |(_, _, done)| (*done).max(now));
        let done = start + latency;
        self.queue.push_back((token, write, done));
        done
    }

    /// The oldest write completes; it must be `token`.
    pub fn complete(&mut self, token: IoToken) -> Result<(), DiskError> {
        match self.queue.pop_front() {
            Some((t, write, _)) if t == token => self
                .image
                .apply(&write)
                .map_err(|e| DiskError(format!("{e} in write {}", describe(&write)))),
            other => Err(DiskError(format!(
                "completion of {token:?} out of order (oldest pending: {:?})",
                other.map(|(t, _, _)| t)
            ))),
        }
    }

    /// Power loss: pending writes vanish; if `torn_entries` is given, the write in progress had
    /// that many of its entries (and its snapshot and truncation) reach the disk, its hard state
    /// not.
    pub fn crash(&mut self, torn_entries: Option<usize>) -> Result<(), DiskError> {
        let in_progress = self.queue.pop_front();
        self.queue.clear();
        match (in_progress, torn_entries) {
            (Some((_, write, _)), Some(keep)) => self
                .image
                .apply_torn(&write, keep)
                .map_err(|e| DiskError(e.to_string())),
            _ => Ok(()),
        }
    }

    /// Entries in the write in progress (to pick a torn prefix).
    pub fn in_progress_entries(&self) -> Option<usize> {
        self.queue.front().map(|(_, w, _)| w.entries.len())
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

    fn append(entries: Vec<Entry>, term: u64) -> LogWrite {
        LogWrite {
            entries,
            hard_state: Some(HardState {
                term: Term(term),
                vote: Some(NodeId(1)),
                commit: LogIndex(0),
            }),
            ..LogWrite::default()
        }
    }

    fn indexes(image: &DurableImage) -> Vec<(u64, u64)> {
        image
            .entries
            .iter()
            .map(|e| (e.index.0, e.term.0))
            .collect()
    }

    #[test]
    fn writes_complete_in_submission_order_after_their_latency() {
        let mut disk = Disk::default();
        assert_eq!(
            disk.submit(IoToken(1), append(vec![entry(1, 1)], 1), 100, 50),
            150
        );
        assert_eq!(
            disk.submit(IoToken(2), append(vec![entry(2, 1)], 1), 120, 10),
            160
        );
        assert!(disk.complete(IoToken(2)).is_err());
        let mut disk2 = Disk::default();
        disk2.submit(IoToken(1), append(vec![entry(1, 1)], 1), 0, 1);
        disk2.submit(IoToken(2), append(vec![entry(2, 1)], 1), 0, 1);
        disk2.complete(IoToken(1)).unwrap();
        disk2.complete(IoToken(2)).unwrap();
        assert_eq!(indexes(disk2.image()), vec![(1, 1), (2, 1)]);
    }

    #[test]
    fn crash_loses_incomplete_writes_and_may_tear_the_one_in_progress() {
        let mut disk = Disk::default();
        disk.submit(IoToken(1), append(vec![entry(1, 1)], 1), 0, 1);
        disk.complete(IoToken(1)).unwrap();
        disk.submit(
            IoToken(2),
            append(vec![entry(2, 2), entry(3, 2), entry(4, 2)], 2),
            0,
            1,
        );
        disk.submit(IoToken(3), append(vec![entry(5, 2)], 2), 0, 1);
        disk.crash(Some(2)).unwrap();
        assert_eq!(indexes(disk.image()), vec![(1, 1), (2, 2), (3, 2)]);
        assert_eq!(
            disk.image().hard_state.term,
            Term(1),
            "torn write's hard state is lost"
        );
        assert_eq!(disk.in_progress_entries(), None);
    }

    #[test]
    fn truncation_then_append_replaces_a_conflicting_suffix() {
        let mut image = DurableImage::default();
        image
            .apply(&append(vec![entry(1, 1), entry(2, 1), entry(3, 1)], 1))
            .unwrap();
        let write = LogWrite {
            truncate_from: Some(LogIndex(2)),
            ..append(vec![entry(2, 2)], 2)
        };
        image.apply(&write).unwrap();
        assert_eq!(indexes(&image), vec![(1, 1), (2, 2)]);
    }

    #[test]
    fn non_contiguous_append_is_an_error() {
        let mut image = DurableImage::default();
        image.apply(&append(vec![entry(1, 1)], 1)).unwrap();
        assert!(image.apply(&append(vec![entry(3, 1)], 1)).is_err());
        assert!(image.apply(&append(vec![entry(1, 1)], 1)).is_err());
    }

    #[test]
    fn snapshot_keeps_the_agreeing_suffix_and_compaction_needs_a_durable_snapshot() {
        let mut image = DurableImage::default();
        image
            .apply(&append((1..=5).map(|i| entry(i, 1)).collect(), 1))
            .unwrap();
        assert!(
            image
                .clone()
                .apply(&LogWrite {
                    compact_through: Some(LogIndex(3)),
                    ..LogWrite::default()
                })
                .is_err()
        );
        let snapshot = Snapshot {
            meta: SnapshotMeta {
                last_index: LogIndex(3),
                last_term: Term(1),
                membership: Default::default(),
            },
            data: bytes::Bytes::from_static(b"state"),
        };
        image
            .apply(&LogWrite {
                snapshot: Some(snapshot.clone()),
                compact_through: Some(LogIndex(3)),
                ..LogWrite::default()
            })
            .unwrap();
        assert_eq!(indexes(&image), vec![(4, 1), (5, 1)]);
        let recovered = image.clone();
        assert_eq!(recovered.snapshot, Some(snapshot));
        assert_eq!(recovered.entries.len(), 2);
    }

    #[test]
    fn reinstalling_the_durable_snapshot_keeps_the_log_after_it() {
        let mut image = DurableImage::default();
        image
            .apply(&append((1..=4).map(|i| entry(i, 1)).collect(), 1))
            .unwrap();
        let write = LogWrite {
            snapshot: Some(Snapshot {
                meta: SnapshotMeta {
                    last_index: LogIndex(3),
                    last_term: Term(1),
                    membership: Default::default(),
                },
                data: bytes::Bytes::new(),
            }),
            compact_through: Some(LogIndex(3)),
            ..LogWrite::default()
        };
        image.apply(&write).unwrap();
        image.apply(&write).unwrap();
        assert_eq!(indexes(&image), vec![(4, 1)]);
    }

    #[test]
    fn older_snapshot_over_a_newer_durable_one_is_an_error() {
        let snapshot = |last_index| LogWrite {
            snapshot: Some(Snapshot {
                meta: SnapshotMeta {
                    last_index: LogIndex(last_index),
                    last_term: Term(1),
                    membership: Default::default(),
                },
                data: bytes::Bytes::new(),
            }),
            ..LogWrite::default()
        };
        let mut image = DurableImage::default();
        image.apply(&snapshot(5)).unwrap();
        assert!(image.apply(&snapshot(4)).is_err());
    }

    #[test]
    fn snapshot_disagreeing_with_the_log_replaces_it() {
        let mut image = DurableImage::default();
        image
            .apply(&append(vec![entry(1, 1), entry(2, 1)], 1))
            .unwrap();
        let snapshot = Snapshot {
            meta: SnapshotMeta {
                last_index: LogIndex(2),
                last_term: Term(2),
                membership: Default::default(),
            },
            data: bytes::Bytes::new(),
        };
        image
            .apply(&LogWrite {
                snapshot: Some(snapshot),
                ..LogWrite::default()
            })
            .unwrap();
        assert!(image.entries.is_empty());
        image.apply(&append(vec![entry(3, 2)], 2)).unwrap();
        assert_eq!(indexes(&image), vec![(3, 2)]);
    }
}
