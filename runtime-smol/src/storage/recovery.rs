//! Start-up: rebuild the durable Raft state from the snapshot files and WAL segments.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use synod_core::ids::LogIndex;
use synod_core::raft::{Entry, HardState, Recovered, Snapshot};

use super::segment::{self, SegmentInfo};
use super::snapshot_file::{self, SnapshotId};
use super::wal_record::WalRecord;
use super::{StorageError, fsutil};

/// A torn tail that recovery cut off the last segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// The segment.
    pub path: PathBuf,
    /// Where the valid records ended (the file's new length).
    pub offset: u64,
    /// How many bytes were dropped.
    pub dropped_bytes: u64,
}

/// Everything the writer needs to continue where the files left off.
#[derive(Debug)]
pub(super) struct DiskState {
    pub(super) recovered: Recovered,
    /// Segments in replay order, with what each holds.
    pub(super) segments: Vec<SegmentInfo>,
    /// Bytes of valid records in the last segment.
    pub(super) last_segment_len: u64,
    pub(super) torn_tail: Option<TornTail>,
    pub(super) snapshot: Option<SnapshotId>,
    /// Highest entry index the WAL holds, including entries the snapshot covers.
    pub(super) wal_last_index: LogIndex,
}

/// The log as the WAL's records describe it, before the snapshot is taken into account.
#[derive(Debug, Default)]
struct LogModel {
    hard_state: HardState,
    entries: BTreeMap<LogIndex, Entry>,
}

impl LogModel {
    fn apply(&mut self, rec: WalRecord) {
        match rec {
            WalRecord::Entry(e) => {
                // An entry replaces whatever followed its index, as in a Raft log.
                self.entries.split_off(&e.index);
                self.entries.insert(e.index, e);
            }
            WalRecord::TruncateFrom(index) => {
                self.entries.split_off(&index);
            }
            WalRecord::HardState(hs) => self.hard_state = hs,
        }
    }
}

/// A snapshot file that exists but cannot be used.
struct UnusableSnapshot {
    id: SnapshotId,
    path: PathBuf,
    reason: String,
}

/// Reads `dir` (the raft directory), repairing only a torn tail, and refusing anything that
/// would lose durable data.
pub(super) fn recover(dir: &Path) -> Result<DiskState, StorageError> {
    let mut segments = list_segments_and_remove_temp_files(dir)?;
    let mut model = LogModel::default();
    let mut last_segment_len = 0;
    let mut torn_tail = None;
    let count = segments.len();
    for (i, info) in segments.iter_mut().enumerate() {
        let bytes = fsutil::read(&info.path)?;
        let path = info.path.clone();
        let end = segment::replay(&path, &bytes, i + 1 == count, |rec| {
            match &rec {
                WalRecord::Entry(e) => info.note_entry(e.index),
                WalRecord::HardState(_) => info.note_hard_state(),
                WalRecord::TruncateFrom(_) => {}
            }
            model.apply(rec);
        })?;
        if end.torn {
            segment::truncate_to(&info.path, end.valid_len)?;
            let tail = TornTail {
                path: info.path.clone(),
                offset: end.valid_len,
                dropped_bytes: bytes.len() as u64 - end.valid_len,
            };
            eprintln!(
                "synod: truncated a torn WAL tail in {} at offset {} ({} bytes dropped)",
                tail.path.display(),
                tail.offset,
                tail.dropped_bytes
            );
            torn_tail = Some(tail);
        }
        last_segment_len = end.valid_len;
    }
    let wal_last_index = model
        .entries
        .last_key_value()
        .map_or(LogIndex(0), |(i, _)| *i);
    let (snapshot, unusable) = newest_valid_snapshot(dir)?;
    let snapshot_id = snapshot.as_ref().map(SnapshotId::of);
    let recovered = assemble(model, snapshot, unusable)?;
    Ok(DiskState {
        recovered,
        segments,
        last_segment_len,
        torn_tail,
        snapshot: snapshot_id,
        wal_last_index,
    })
}

fn list_segments_and_remove_temp_files(dir: &Path) -> Result<Vec<SegmentInfo>, StorageError> {
    let mut segments = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| StorageError::io("list", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| StorageError::io("list", dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if snapshot_file::is_temp(name) {
            // Left by a snapshot write that never reached its rename: never part of the state.
            fsutil::remove(&entry.path())?;
        } else if let Some(index) = segment::parse_name(name) {
            segments.push(SegmentInfo::new(dir, index));
        }
    }
    segments.sort_by_key(|s| s.name_index);
    Ok(segments)
}

/// The newest snapshot that loads, and the newest one that exists but does not.
fn newest_valid_snapshot(
    dir: &Path,
) -> Result<(Option<Snapshot>, Option<UnusableSnapshot>), StorageError> {
    let mut unusable: Option<UnusableSnapshot> = None;
    for (id, path) in snapshot_file::list(dir)? {
        match snapshot_file::load(&path, id) {
            Ok(snapshot) => return Ok((Some(snapshot), unusable)),
            Err(reason) => {
                eprintln!(
                    "synod: snapshot {} is unusable: {reason}; trying an older one",
                    path.display()
                );
                unusable.get_or_insert(UnusableSnapshot { id, path, reason });
            }
        }
    }
    Ok((None, unusable))
}

/// Combines the snapshot and the replayed log into what Raft restarts from, checking that no
/// durable entry is missing.
///
/// Entries are returned exactly as written: whether a suffix that disagrees with the snapshot
/// must be dropped (Raft §7) is Raft's decision, made with `truncate_from`.
fn assemble(
    mut model: LogModel,
    snapshot: Option<Snapshot>,
    unusable: Option<UnusableSnapshot>,
) -> Result<Recovered, StorageError> {
    let base = snapshot.as_ref().map_or(LogIndex(0), |s| s.meta.last_index);
    let after: Vec<Entry> = model
        .entries
        .split_off(&base.next())
        .into_values()
        .collect();
    // How far the entries run on from the snapshot without a hole.
    let contiguous = after
        .iter()
        .zip(base.0 + 1..)
        .take_while(|(e, expected)| e.index.0 == *expected)
        .count();
    let last = LogIndex(base.0 + contiguous as u64);
    if let Some(u) = unusable.filter(|u| u.id.index > base) {
        if last < u.id.index {
            return Err(StorageError::Unrecoverable(format!(
                "snapshot {} is unusable ({}) and the WAL does not cover entries {}..={} \
                 that it held",
                u.path.display(),
                u.reason,
                base.next(),
                u.id.index
            )));
        }
        eprintln!(
            "synod: recovered from an older snapshot at {base} and the WAL instead of {}",
            u.path.display()
        );
    }
    if let Some(after_gap) = after.get(contiguous) {
        return Err(StorageError::Unrecoverable(format!(
            "the WAL is missing entry {} (the snapshot ends at {base}, the next entry found \
             is {})",
            last.next(),
            after_gap.index
        )));
    }
    if model.hard_state.commit > last {
        return Err(StorageError::Unrecoverable(format!(
            "the hard state says entries up to {} are committed but the log ends at {last}",
            model.hard_state.commit
        )));
    }
    Ok(Recovered {
        hard_state: model.hard_state,
        snapshot,
        entries: after,
    })
}
