//! [`Storage`]: applies batches of Raft [`LogWrite`]s with one fdatasync per batch.

use std::path::{Path, PathBuf};

use synod_core::ids::LogIndex;
use synod_core::raft::{HardState, LogWrite, Recovered};

use super::recovery::{self, TornTail};
use super::segment::{ActiveSegment, SegmentInfo};
use super::snapshot_file::{self, SnapshotId};
use super::wal_record::{self, WalRecordRef};
use super::{StorageError, fsutil};

/// Tuning for [`Storage`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageOptions {
    /// A new segment is started by the first batch after the active one reaches this size.
    pub segment_bytes: u64,
}

impl Default for StorageOptions {
    fn default() -> Self {
        StorageOptions {
            segment_bytes: 64 << 20,
        }
    }
}

/// Counters of the work done, for benchmarks and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchStats {
    /// Calls to [`Storage::write`] that did something.
    pub batches: u64,
    /// `LogWrite`s applied.
    pub writes: u64,
    /// fsync/fdatasync calls, including those of snapshot files and directories.
    pub fsyncs: u64,
    /// Bytes appended to the WAL.
    pub bytes: u64,
}

/// The directory holding Raft's files under a data dir.
pub fn raft_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("raft")
}

/// Durable Raft state in `<data-dir>/raft/`. Synchronous; see [`super::GroupCommitter`] for the
/// threaded, batching front.
#[derive(Debug)]
pub struct Storage {
    dir: PathBuf,
    opts: StorageOptions,
    /// Oldest first; the last one is `active`.
    segments: Vec<SegmentInfo>,
    active: ActiveSegment,
    hard_state: HardState,
    /// Upper bound of the highest entry index in the WAL.
    last_index: LogIndex,
    snapshot: Option<SnapshotId>,
    /// Records of the batch being written, reused across batches.
    buf: Vec<u8>,
    /// Offset in the active segment where the batch in `buf` begins.
    batch_start: u64,
    stats: BatchStats,
    torn_tail: Option<TornTail>,
    poisoned: bool,
    /// Held for the storage's lifetime; see [`fsutil::lock_dir`].
    _lock: std::fs::File,
}

impl Storage {
    /// Opens (creating if needed) the raft directory under `data_dir` and recovers its state.
    pub fn open(
        data_dir: &Path,
        opts: StorageOptions,
    ) -> Result<(Storage, Recovered), StorageError> {
        let dir = raft_dir(data_dir);
        if !dir.is_dir() {
            std::fs::create_dir_all(&dir).map_err(|e| StorageError::io("create", &dir, e))?;
            fsutil::sync_dir(data_dir)?;
        }
        let lock = fsutil::lock_dir(&dir)?;
        let disk = recovery::recover(&dir)?;
        let snapshot_index = disk.snapshot.map_or(LogIndex(0), |s| s.index);
        let last_index = disk.wal_last_index.max(snapshot_index);
        let reusable = disk
            .segments
            .last()
            .filter(|s| s.has_hard_state && disk.last_segment_len < opts.segment_bytes);
        let (active, fresh) = match reusable {
            Some(last) => (
                ActiveSegment::reopen(&last.path, disk.last_segment_len, opts.segment_bytes)?,
                None,
            ),
            None => {
                let info = SegmentInfo::new(&dir, next_segment_name(last_index, &disk.segments));
                (
                    ActiveSegment::create(&dir, &info, opts.segment_bytes)?,
                    Some(info),
                )
            }
        };
        let batch_start = active.len();
        let mut storage = Storage {
            dir,
            opts,
            segments: disk.segments,
            active,
            hard_state: disk.recovered.hard_state,
            last_index,
            snapshot: disk.snapshot,
            buf: Vec::new(),
            batch_start,
            stats: BatchStats::default(),
            torn_tail: disk.torn_tail,
            poisoned: false,
            _lock: lock,
        };
        if let Some(info) = fresh {
            storage.segments.push(info);
            storage.push_hard_state()?;
        }
        storage.flush()?;
        Ok((storage, disk.recovered))
    }

    /// Applies `writes` in order (each: snapshot, truncation, entries, hard state, compaction)
    /// and returns once all of it is durable, after a single fdatasync of the WAL.
    ///
    /// After an error nothing more is accepted: the process must restart and recover.
    pub fn write(&mut self, writes: &[LogWrite]) -> Result<(), StorageError> {
        if self.poisoned {
            return Err(StorageError::Poisoned);
        }
        let result = self.write_batch(writes);
        self.poisoned = result.is_err();
        result
    }

    /// Work done so far.
    pub fn stats(&self) -> BatchStats {
        self.stats
    }

    /// The torn tail recovery cut off at open, if there was one.
    pub fn torn_tail(&self) -> Option<&TornTail> {
        self.torn_tail.as_ref()
    }

    /// The raft directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn write_batch(&mut self, writes: &[LogWrite]) -> Result<(), StorageError> {
        if writes.iter().all(LogWrite::is_empty) {
            return Ok(());
        }
        self.buf.clear();
        if self.active.len() >= self.opts.segment_bytes {
            self.roll()?;
        }
        self.batch_start = self.active.len();
        let mut new_snapshot = None;
        let mut compact_through = None;
        for write in writes {
            if let Some(snapshot) = &write.snapshot {
                self.stats.fsyncs += snapshot_file::write(&self.dir, snapshot)?;
                new_snapshot = Some(SnapshotId::of(snapshot));
            }
            if let Some(from) = write.truncate_from
                && from <= self.last_index
            {
                self.push(&WalRecordRef::TruncateFrom(from))?;
                self.last_index = from.prev();
            }
            for entry in &write.entries {
                self.push(&WalRecordRef::Entry(entry))?;
                self.active_info().note_entry(entry.index);
                self.last_index = entry.index;
            }
            if let Some(hs) = write.hard_state {
                self.hard_state = hs;
                self.push_hard_state()?;
            }
            compact_through = compact_through.max(write.compact_through);
        }
        self.flush()?;
        if let Some(id) = new_snapshot {
            self.snapshot = Some(id);
            snapshot_file::remove_all_but(&self.dir, id)?;
        }
        if let Some(through) = compact_through {
            self.compact(through)?;
        }
        self.stats.batches += 1;
        self.stats.writes += writes.len() as u64;
        Ok(())
    }

    /// Starts a new segment, opening it with the current hard state so that deleting older
    /// segments never loses it. Only at batch boundaries, so one fdatasync covers the batch.
    fn roll(&mut self) -> Result<(), StorageError> {
        let info = SegmentInfo::new(
            &self.dir,
            next_segment_name(self.last_index, &self.segments),
        );
        self.active.seal()?;
        self.active = ActiveSegment::create(&self.dir, &info, self.opts.segment_bytes)?;
        self.batch_start = 0;
        self.stats.fsyncs += 2;
        self.segments.push(info);
        self.push_hard_state()
    }

    /// Deletes the oldest segments whose entries are all ≤ `through` and covered by the
    /// durable snapshot. Never the active one, which holds the latest hard state.
    fn compact(&mut self, through: LogIndex) -> Result<(), StorageError> {
        let covered = self.snapshot.map_or(LogIndex(0), |s| s.index);
        let through = through.min(covered);
        let inactive = &self.segments[..self.segments.len() - 1];
        let removable = inactive
            .iter()
            .take_while(|s| s.max_entry.is_none_or(|m| m <= through))
            .count();
        // Deleting a prefix in order: if a crash undoes some deletions, the files that come
        // back only hold entries the snapshot covers, which replay discards.
        for info in &self.segments[..removable] {
            fsutil::remove(&info.path)?;
        }
        self.segments.drain(..removable);
        Ok(())
    }

    fn push_hard_state(&mut self) -> Result<(), StorageError> {
        let hs = self.hard_state;
        self.push(&WalRecordRef::HardState(&hs))?;
        self.active_info().note_hard_state();
        Ok(())
    }

    fn push(&mut self, rec: &WalRecordRef<'_>) -> Result<(), StorageError> {
        wal_record::encode(self.batch_start, rec, &mut self.buf)
    }

    fn flush(&mut self) -> Result<(), StorageError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        self.active.append_durably(&self.buf)?;
        self.stats.fsyncs += 1;
        self.stats.bytes += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    fn active_info(&mut self) -> &mut SegmentInfo {
        let last = self.segments.len() - 1;
        &mut self.segments[last]
    }
}

/// The name of the next segment: the index it starts at, kept strictly above every existing
/// segment's name so that name order stays write order.
fn next_segment_name(last_index: LogIndex, segments: &[SegmentInfo]) -> u64 {
    let after_existing = segments
        .last()
        .map_or(0, |s| s.name_index.saturating_add(1));
    last_index.0.saturating_add(1).max(after_existing)
}
