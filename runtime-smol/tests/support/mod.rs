//! Shared helpers for the storage tests: scratch directories, log builders, file inspection.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use synod_core::ids::{LogIndex, NodeId, Term};
use synod_core::raft::{
    Entry, EntryPayload, HardState, LogWrite, Membership, Recovered, Snapshot, SnapshotMeta,
};
use synod_core::wire::record;
use synod_runtime_smol::storage::{Storage, StorageOptions, raft_dir};

/// A data directory under the system temp dir, removed when dropped.
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    pub fn new(test: &str) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("synod-storage-{test}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        ScratchDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn raft(&self) -> PathBuf {
        raft_dir(&self.0)
    }

    /// Copies this data dir's raft files into a new scratch dir.
    pub fn copy(&self, test: &str) -> ScratchDir {
        let to = ScratchDir::new(test);
        std::fs::create_dir_all(to.raft()).unwrap();
        for entry in std::fs::read_dir(self.raft()).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), to.raft().join(entry.file_name())).unwrap();
        }
        to
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn open(dir: &ScratchDir) -> (Storage, Recovered) {
    // Small segments: every open reserves a whole segment, and tests reopen often.
    Storage::open(
        dir.path(),
        StorageOptions {
            segment_bytes: 1 << 16,
        },
    )
    .unwrap()
}

pub fn open_with_segment_bytes(dir: &ScratchDir, segment_bytes: u64) -> (Storage, Recovered) {
    Storage::open(dir.path(), StorageOptions { segment_bytes }).unwrap()
}

pub fn entry(index: u64, term: u64) -> Entry {
    Entry {
        index: LogIndex(index),
        term: Term(term),
        payload: EntryPayload::Command(Bytes::from(format!("command {index} of term {term}"))),
    }
}

pub fn entries(indexes: std::ops::RangeInclusive<u64>, term: u64) -> Vec<Entry> {
    indexes.map(|i| entry(i, term)).collect()
}

pub fn append(entries: Vec<Entry>) -> LogWrite {
    LogWrite {
        entries,
        ..LogWrite::default()
    }
}

pub fn hard_state(term: u64, vote: Option<u64>, commit: u64) -> HardState {
    HardState {
        term: Term(term),
        vote: vote.map(NodeId),
        commit: LogIndex(commit),
    }
}

pub fn snapshot(index: u64, term: u64) -> Snapshot {
    Snapshot {
        meta: SnapshotMeta {
            last_index: LogIndex(index),
            last_term: Term(term),
            membership: Membership::voters([(NodeId(1), "127.0.0.1:8300".to_string())]),
        },
        data: Bytes::from(format!("state machine through {index}")),
    }
}

/// The WAL segment files of a data dir, in name (replay) order.
pub fn segments(dir: &ScratchDir) -> Vec<PathBuf> {
    files_matching(dir, "wal-")
}

/// The snapshot files of a data dir, in name order.
pub fn snapshot_files(dir: &ScratchDir) -> Vec<PathBuf> {
    files_matching(dir, "snapshot-")
}

fn files_matching(dir: &ScratchDir, prefix: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir.raft())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix))
        })
        .collect();
    found.sort();
    found
}

/// Where the last record of a WAL segment ends (the rest is preallocated zeros).
pub fn data_len(path: &Path) -> usize {
    let bytes = std::fs::read(path).unwrap();
    let offsets = record_offsets(path);
    offsets.last().map_or(0, |&last| {
        let (_, consumed) = record::decode_next(&bytes[last..]).unwrap().unwrap();
        last + consumed
    })
}

/// Start offsets of the records in a WAL segment.
pub fn record_offsets(path: &Path) -> Vec<usize> {
    let bytes = std::fs::read(path).unwrap();
    let mut offsets = Vec::new();
    let mut offset = 0;
    while let Ok(Some((_, consumed))) = record::decode_next(&bytes[offset..]) {
        offsets.push(offset);
        offset += consumed;
    }
    assert!(
        bytes[offset..].iter().all(|&b| b == 0),
        "segment has undecodable bytes before its preallocated tail"
    );
    offsets
}

pub fn indexes(entries: &[Entry]) -> Vec<u64> {
    entries.iter().map(|e| e.index.0).collect()
}
