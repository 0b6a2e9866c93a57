//! The snapshot format: `[version][postcard SnapshotVn]`, every table as a sorted list.
//!
//! Version 2 adds the catalog section; version 1 snapshots (KV only) still restore, with an
//! empty catalog.

use bytes::Bytes;
use serde::{Deserialize, Serialize, Serializer};

use crate::state::catalog::{Catalog, CatalogSnapshot};
use crate::state::kv::KvStore;
use crate::state::kv_types::KvEntry;
use crate::wire::{self, DecodeError};

/// Version byte of the KV-only format.
const SNAPSHOT_V1: u8 = 1;
/// Version byte written today: KV and catalog.
const SNAPSHOT_VERSION: u8 = 2;

#[derive(Serialize, Deserialize)]
struct SnapshotV1 {
    index: u64,
    kv_table_index: u64,
    kv_entries: Vec<KvEntry>,
    kv_tombstones: Vec<(String, u64)>,
}

#[derive(Serialize, Deserialize)]
struct SnapshotV2 {
    index: u64,
    kv_table_index: u64,
    kv_entries: Vec<KvEntry>,
    kv_tombstones: Vec<(String, u64)>,
    catalog: CatalogSnapshot,
}

/// [`SnapshotV2`]'s layout, serialized straight from the tables: the node loop encodes
/// snapshots, and copying every KV entry into a list first would double the time it stalls.
#[derive(Serialize)]
struct SnapshotV2Ref<'a> {
    index: u64,
    kv_table_index: u64,
    kv_entries: KvEntries<'a>,
    kv_tombstones: KvTombstones<'a>,
    catalog: CatalogSnapshot,
}

/// Serializes as the `Vec<KvEntry>` of [`SnapshotV2`].
struct KvEntries<'a>(&'a KvStore);

impl Serialize for KvEntries<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.entries())
    }
}

/// Serializes as the `Vec<(String, u64)>` of [`SnapshotV2`].
struct KvTombstones<'a>(&'a KvStore);

impl Serialize for KvTombstones<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.tombstones())
    }
}

pub(super) fn encode(index: u64, kv: &KvStore, catalog: &Catalog) -> Bytes {
    let snapshot = SnapshotV2Ref {
        index,
        kv_table_index: kv.table_index(),
        kv_entries: KvEntries(kv),
        kv_tombstones: KvTombstones(kv),
        catalog: catalog.to_snapshot(),
    };
    wire::encode_versioned(SNAPSHOT_VERSION, &snapshot)
}

pub(super) fn decode(bytes: &[u8]) -> Result<(u64, KvStore, Catalog), DecodeError> {
    let snapshot = match bytes.first() {
        Some(&SNAPSHOT_V1) => {
            let v1: SnapshotV1 = wire::decode_versioned(SNAPSHOT_V1, bytes)?;
            SnapshotV2 {
                index: v1.index,
                kv_table_index: v1.kv_table_index,
                kv_entries: v1.kv_entries,
                kv_tombstones: v1.kv_tombstones,
                catalog: CatalogSnapshot::default(),
            }
        }
        _ => wire::decode_versioned(SNAPSHOT_VERSION, bytes)?,
    };
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
    let catalog = Catalog::from_snapshot(snapshot.catalog, snapshot.index)?;
    Ok((snapshot.index, kv, catalog))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::kv_types::KvCommand;

    #[test]
    fn encoding_from_the_tables_writes_the_same_bytes_as_the_owned_layout() {
        let mut kv = KvStore::new();
        let mut changed = Vec::new();
        for (index, key) in [(2, "a"), (3, "b/c"), (4, "d")] {
            let set = KvCommand::Set {
                key: key.into(),
                value: Bytes::from_static(b"value"),
                flags: index,
            };
            kv.apply(index, &set, &mut changed);
        }
        kv.apply(5, &KvCommand::Delete { key: "b/c".into() }, &mut changed);
        let catalog = Catalog::new();

        let owned = SnapshotV2 {
            index: 5,
            kv_table_index: kv.table_index(),
            kv_entries: kv.entries().cloned().collect(),
            kv_tombstones: kv.tombstones().map(|(k, t)| (k.to_owned(), t)).collect(),
            catalog: catalog.to_snapshot(),
        };
        assert_eq!(
            encode(5, &kv, &catalog),
            wire::encode_versioned(SNAPSHOT_VERSION, &owned)
        );
    }
}
