//! WAL segment files: naming, replaying one file's records, appending to the active one.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use synod_core::ids::LogIndex;
use synod_core::wire::record::{self, RecordError};

use super::error::CorruptionKind;
use super::wal_record::{self, WalRecord};
use super::{StorageError, fsutil};

/// `wal-<first index, 20 digits>.log`. The number is the index the segment was opened for,
/// raised when needed so that names increase strictly in write order (a truncation can make the
/// next first index smaller than an earlier segment's); replay order is name order.
pub(super) fn file_name(first_index: u64) -> String {
    format!("wal-{first_index:020}.log")
}

/// The number in a segment's file name, if `name` is one.
pub(super) fn parse_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("wal-")?.strip_suffix(".log")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// What the log holds in one segment, learned by replaying it or by writing to it.
#[derive(Debug, Clone)]
pub(super) struct SegmentInfo {
    pub(super) path: PathBuf,
    pub(super) name_index: u64,
    /// Highest entry index ever written to it (including entries truncated later).
    pub(super) max_entry: Option<LogIndex>,
    /// Whether it holds a hard-state record.
    pub(super) has_hard_state: bool,
}

impl SegmentInfo {
    pub(super) fn new(dir: &Path, name_index: u64) -> Self {
        SegmentInfo {
            path: dir.join(file_name(name_index)),
            name_index,
            max_entry: None,
            has_hard_state: false,
        }
    }

    /// Notes an entry written to or replayed from this segment.
    pub(super) fn note_entry(&mut self, index: LogIndex) {
        self.max_entry = self.max_entry.max(Some(index));
    }

    /// Notes a hard state written to or replayed from this segment.
    pub(super) fn note_hard_state(&mut self) {
        self.has_hard_state = true;
    }
}

/// Where a segment's valid records end, and whether damaged bytes followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ScanEnd {
    /// Bytes of valid records.
    pub(super) valid_len: u64,
    /// Whether a torn tail starts at `valid_len`.
    pub(super) torn: bool,
}

/// Decodes every record of one segment's bytes, in order, handing each to `visit`.
///
/// Damage is a torn tail only in the last segment, and only if no record of a later batch
/// follows it (see `wal_record`): earlier segments were synced before the next was created.
pub(super) fn replay(
    path: &Path,
    bytes: &[u8],
    is_last: bool,
    mut visit: impl FnMut(WalRecord),
) -> Result<ScanEnd, StorageError> {
    let mut offset = 0;
    let corrupt = |offset: usize, kind| StorageError::CorruptRecord {
        path: path.to_path_buf(),
        offset: offset as u64,
        kind,
    };
    let torn_at = |offset: usize| ScanEnd {
        valid_len: offset as u64,
        torn: true,
    };
    loop {
        // Checked before decoding: on a bad header the decoder searches every later offset for
        // a valid record, which over a whole preallocated tail would take seconds.
        if is_last && offset < bytes.len() && is_zeroed(&bytes[offset..]) {
            return Ok(ScanEnd {
                valid_len: offset as u64,
                torn: false,
            });
        }
        match record::decode_next(&bytes[offset..]) {
            Ok(None) => {
                return Ok(ScanEnd {
                    valid_len: offset as u64,
                    torn: false,
                });
            }
            Ok(Some((payload, consumed))) => {
                let (_, rec) = wal_record::decode(payload).map_err(|e| {
                    corrupt(offset, CorruptionKind::UndecodablePayload(e.to_string()))
                })?;
                visit(rec);
                offset += consumed;
            }
            Err(RecordError::TornTail) if is_last => return Ok(torn_at(offset)),
            Err(RecordError::Corrupt(_)) if is_last && !later_batch_follows(bytes, offset) => {
                return Ok(torn_at(offset));
            }
            Err(RecordError::Corrupt(c)) => return Err(corrupt(offset, CorruptionKind::Record(c))),
            Err(_) => return Err(corrupt(offset, CorruptionKind::IncompleteInEarlierSegment)),
        }
    }
}

/// Whether a valid record written by a batch that began after `damage` follows it.
fn later_batch_follows(bytes: &[u8], damage: usize) -> bool {
    // A valid record's header always holds a non-zero byte (the CRC of even an empty record is
    // not zero), so none can start in a preallocated all-zero tail: don't scan it.
    let data_end = zeroed_tail_start(bytes);
    (damage + 1..data_end).any(|offset| {
        record::decode_valid(&bytes[offset..])
            .and_then(|(payload, _)| wal_record::decode(payload).ok())
            .is_some_and(|(batch_start, _)| batch_start > damage as u64)
    })
}

/// Whether `bytes` are all zero: the unused end of the active segment, which is preallocated
/// (zeros after its last record are reserved space, not damage).
fn is_zeroed(bytes: &[u8]) -> bool {
    // Slice comparison is a memcmp, fast even in unoptimised builds.
    bytes
        .chunks(ZEROS.len())
        .all(|chunk| chunk == &ZEROS[..chunk.len()])
}

/// Where the trailing run of zero bytes begins (`bytes.len()` when the last byte is not zero).
fn zeroed_tail_start(bytes: &[u8]) -> usize {
    let mut end = bytes.len();
    while end > 0 {
        let start = end.saturating_sub(ZEROS.len());
        if !is_zeroed(&bytes[start..end]) {
            return bytes[start..end]
                .iter()
                .rposition(|&b| b != 0)
                .map_or(start, |last| start + last + 1);
        }
        end = start;
    }
    0
}

static ZEROS: [u8; 4096] = [0; 4096];

/// Cuts a torn tail off the last segment and makes the new length durable.
pub(super) fn truncate_to(path: &Path, len: u64) -> Result<(), StorageError> {
    let file = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| StorageError::io("open", path, e))?;
    file.set_len(len)
        .map_err(|e| StorageError::io("truncate", path, e))?;
    file.sync_all()
        .map_err(|e| StorageError::io("fsync", path, e))
}

/// The segment appends go to.
#[derive(Debug)]
pub(super) struct ActiveSegment {
    file: File,
    path: PathBuf,
    len: u64,
}

impl ActiveSegment {
    /// Creates a new, empty segment of `preallocate` reserved bytes and makes its directory
    /// entry durable.
    pub(super) fn create(
        dir: &Path,
        info: &SegmentInfo,
        preallocate: u64,
    ) -> Result<Self, StorageError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&info.path)
            .map_err(|e| StorageError::io("create", &info.path, e))?;
        reserve(&file, &info.path, preallocate)?;
        fsutil::sync_dir(dir)?;
        Ok(ActiveSegment {
            file,
            path: info.path.clone(),
            len: 0,
        })
    }

    /// Reopens an existing segment whose valid records span `len` bytes.
    pub(super) fn reopen(path: &Path, len: u64, preallocate: u64) -> Result<Self, StorageError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| StorageError::io("open", path, e))?;
        reserve(&file, path, preallocate)?;
        Ok(ActiveSegment {
            file,
            path: path.to_path_buf(),
            len,
        })
    }

    /// Trims the reserved space off a segment that takes no more appends, so every finished
    /// segment ends exactly at its last record (recovery treats zeros there as damage).
    pub(super) fn seal(&mut self) -> Result<(), StorageError> {
        self.file
            .set_len(self.len)
            .map_err(|e| StorageError::io("truncate", &self.path, e))?;
        self.file
            .sync_all()
            .map_err(|e| StorageError::io("fsync", &self.path, e))
    }

    /// Bytes in the segment.
    pub(super) fn len(&self) -> u64 {
        self.len
    }

    /// Appends `bytes` and waits until they are durable (one fdatasync).
    pub(super) fn append_durably(&mut self, bytes: &[u8]) -> Result<(), StorageError> {
        self.file
            .write_all_at(bytes, self.len)
            .map_err(|e| StorageError::io("write", &self.path, e))?;
        self.file
            .sync_data()
            .map_err(|e| StorageError::io("fdatasync", &self.path, e))?;
        self.len += bytes.len() as u64;
        Ok(())
    }
}

/// Reserves zeroed space up to `len` bytes. Appends then overwrite allocated blocks, so an
/// fdatasync has no new file size to journal: on ext4 that makes it several times faster.
/// Filesystems that cannot preallocate just grow the file as appends arrive.
fn reserve(file: &File, path: &Path, len: u64) -> Result<(), StorageError> {
    let size = file
        .metadata()
        .map_err(|e| StorageError::io("stat", path, e))?
        .len();
    if size >= len {
        return Ok(());
    }
    match rustix::fs::fallocate(file, rustix::fs::FallocateFlags::empty(), size, len - size) {
        Ok(()) => file
            .sync_all()
            .map_err(|e| StorageError::io("fsync", path, e)),
        Err(rustix::io::Errno::OPNOTSUPP) => Ok(()),
        Err(e) => Err(StorageError::io("preallocate", path, e.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_sort_numerically() {
        assert_eq!(file_name(42), "wal-00000000000000000042.log");
        assert_eq!(parse_name(&file_name(42)), Some(42));
        assert_eq!(parse_name(&file_name(u64::MAX)), Some(u64::MAX));
        assert!(file_name(9) < file_name(10));
    }

    #[test]
    fn foreign_names_are_not_segments() {
        for name in [
            "wal-42.log",
            "wal-0000000000000000004x.log",
            "wal-00000000000000000042.log.tmp",
            "snapshot-00000000000000000042-00000000000000000001.snap",
            "wal-99999999999999999999.log",
        ] {
            assert_eq!(parse_name(name), None, "{name}");
        }
    }
}
