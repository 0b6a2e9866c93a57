//! Snapshot files: `snapshot-<index>-<term>.snap`, written atomically and checked on load.
//!
//! Layout: `[magic 8][body length u64 LE][crc32c(body) u32 LE][body]`, where the body is the
//! postcard-encoded [`Snapshot`].

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use synod_core::ids::{LogIndex, Term};
use synod_core::raft::Snapshot;

use super::{StorageError, fsutil};

const MAGIC: &[u8; 8] = b"SYNODSN1";
const HEADER_LEN: usize = 8 + 8 + 4;
const TEMP_SUFFIX: &str = ".tmp";

/// Which snapshot a file claims to hold, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct SnapshotId {
    pub(super) index: LogIndex,
    pub(super) term: Term,
}

impl SnapshotId {
    pub(super) fn of(snapshot: &Snapshot) -> Self {
        SnapshotId {
            index: snapshot.meta.last_index,
            term: snapshot.meta.last_term,
        }
    }

    pub(super) fn file_name(self) -> String {
        format!("snapshot-{:020}-{:020}.snap", self.index.0, self.term.0)
    }

    /// The id in a snapshot's file name, if `name` is one.
    pub(super) fn parse(name: &str) -> Option<Self> {
        let middle = name.strip_prefix("snapshot-")?.strip_suffix(".snap")?;
        let (index, term) = middle.split_once('-')?;
        let number = |s: &str| {
            (s.len() == 20 && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse().ok())
                .flatten()
        };
        Some(SnapshotId {
            index: LogIndex(number(index)?),
            term: Term(number(term)?),
        })
    }
}

/// Whether `name` is a temporary file left by an interrupted atomic write.
pub(super) fn is_temp(name: &str) -> bool {
    name.ends_with(TEMP_SUFFIX)
}

/// Writes `snapshot` durably under its final name: temp file, fsync, rename, fsync directory.
/// Returns the number of fsyncs issued.
pub(super) fn write(dir: &Path, snapshot: &Snapshot) -> Result<u64, StorageError> {
    let id = SnapshotId::of(snapshot);
    let final_path = dir.join(id.file_name());
    let temp_path = dir.join(format!("{}{TEMP_SUFFIX}", id.file_name()));
    let bytes = encode(snapshot)?;
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&temp_path)
        .map_err(|e| StorageError::io("create", &temp_path, e))?;
    file.write_all(&bytes)
        .map_err(|e| StorageError::io("write", &temp_path, e))?;
    file.sync_all()
        .map_err(|e| StorageError::io("fsync", &temp_path, e))?;
    std::fs::rename(&temp_path, &final_path)
        .map_err(|e| StorageError::io("rename", &temp_path, e))?;
    fsutil::sync_dir(dir)?;
    Ok(2)
}

/// Loads and verifies the snapshot at `path`, which must be the one `id` names.
/// `Err` carries a human-readable reason.
pub(super) fn load(path: &Path, id: SnapshotId) -> Result<Snapshot, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    let snapshot = decode(&bytes)?;
    if SnapshotId::of(&snapshot) != id {
        return Err("contents do not match the file name".to_string());
    }
    Ok(snapshot)
}

/// Deletes every snapshot file except `keep`.
pub(super) fn remove_all_but(dir: &Path, keep: SnapshotId) -> Result<(), StorageError> {
    for (id, path) in list(dir)? {
        if id != keep {
            fsutil::remove(&path)?;
        }
    }
    Ok(())
}

/// Every snapshot file in `dir`, newest (highest index, then term) first.
pub(super) fn list(dir: &Path) -> Result<Vec<(SnapshotId, PathBuf)>, StorageError> {
    let mut found = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| StorageError::io("list", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| StorageError::io("list", dir, e))?;
        if let Some(id) = entry.file_name().to_str().and_then(SnapshotId::parse) {
            found.push((id, entry.path()));
        }
    }
    found.sort_by_key(|(id, _)| std::cmp::Reverse(*id));
    Ok(found)
}

fn encode(snapshot: &Snapshot) -> Result<Vec<u8>, StorageError> {
    let body = postcard::to_stdvec(snapshot).map_err(|e| StorageError::Encode(e.to_string()))?;
    let mut bytes = Vec::with_capacity(HEADER_LEN + body.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&(body.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&crc32c::crc32c(&body).to_le_bytes());
    bytes.extend_from_slice(&body);
    Ok(bytes)
}

fn decode(bytes: &[u8]) -> Result<Snapshot, String> {
    let Some((header, body)) = bytes.split_first_chunk::<HEADER_LEN>() else {
        return Err("shorter than its header".to_string());
    };
    let (magic, rest) = header.split_at(8);
    let (len, crc) = rest.split_at(8);
    if magic != MAGIC {
        return Err("bad magic".to_string());
    }
    let len = u64::from_le_bytes(len.try_into().map_err(|_| "bad header")?);
    let crc = u32::from_le_bytes(crc.try_into().map_err(|_| "bad header")?);
    if len != body.len() as u64 {
        return Err(format!("length {} does not match header {len}", body.len()));
    }
    if crc32c::crc32c(body) != crc {
        return Err("checksum mismatch".to_string());
    }
    match postcard::take_from_bytes(body) {
        Ok((snapshot, [])) => Ok(snapshot),
        Ok(_) => Err("trailing bytes after the snapshot".to_string()),
        Err(e) => Err(format!("undecodable: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use synod_core::ids::NodeId;
    use synod_core::raft::{Membership, SnapshotMeta};

    fn snapshot() -> Snapshot {
        Snapshot {
            meta: SnapshotMeta {
                last_index: LogIndex(10),
                last_term: Term(2),
                membership: Membership::voters([(NodeId(1), "a:1".to_string())]),
            },
            data: Bytes::from_static(b"state machine"),
        }
    }

    #[test]
    fn encoded_snapshot_decodes_to_itself() {
        assert_eq!(decode(&encode(&snapshot()).unwrap()), Ok(snapshot()));
    }

    #[test]
    fn any_flipped_bit_is_detected() {
        let bytes = encode(&snapshot()).unwrap();
        for i in 0..bytes.len() * 8 {
            let mut damaged = bytes.clone();
            damaged[i / 8] ^= 1 << (i % 8);
            assert!(decode(&damaged).is_err(), "bit {i}");
        }
    }

    #[test]
    fn any_truncation_is_detected() {
        let bytes = encode(&snapshot()).unwrap();
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err(), "cut {cut}");
        }
    }

    #[test]
    fn ids_round_trip_through_names() {
        let id = SnapshotId::of(&snapshot());
        assert_eq!(
            id.file_name(),
            "snapshot-00000000000000000010-00000000000000000002.snap"
        );
        assert_eq!(SnapshotId::parse(&id.file_name()), Some(id));
        assert_eq!(SnapshotId::parse("snapshot-10-2.snap"), None);
        assert!(is_temp(&format!("{}.tmp", id.file_name())));
    }
}
