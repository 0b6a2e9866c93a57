//! The snapshot format: `[version][postcard SnapshotV1]`, every table as a sorted list.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::state::kv::KvStore;
use crate::state::kv_types::KvEntry;
use crate::wire::{self, DecodeError};

/// Version byte in front of every snapshot.
const SNAPSHOT_VERSION: u8 = 1;

#[derive(Serialize, Deserialize)]
struct SnapshotV1 {
    index: u64,
    kv_table_index: u64,
    kv_entries: Vec<KvEntry>,
    kv_tombstones: Vec<(String, u64)>,
}

pub(super) fn encode(index: u64, kv: &KvStore) -> Bytes {
    let snapshot = SnapshotV1 {
        index,
        kv_table_index: kv.table_index(),
        kv_entries: kv.entries().cloned().collect(),
        kv_tombstones: kv.tombstones().map(|(k, t)| (k.to_owned(), t)).collect(),
    };
    wire::encode_versioned(SNAPSHOT_VERSION, &snapshot)
}

pub(super) fn decode(bytes: &[u8]) -> Result<(u64, KvStore), DecodeError> {
    let snapshot: SnapshotV1 = wire::decode_versioned(SNAPSHOT_VERSION, bytes)?;
    if snapshot.kv_table_index > snapshot.index {
        return Err(DecodeError::Malformed(
            "kv table index beyond the applied index".into(),
        ));
    }
    let kv = KvStore::from_parts(
        snapshot.kv_entries,
        snapshot.kv_tombstones,
        snapshot.kv_table_index,
    )?;
    Ok((snapshot.index, kv))
}
