//! Durable storage under -data-dir: WAL segments, hard state, snapshots.
//!
//! Everything lives in `<data-dir>/raft/`:
//! - `wal-<20 digits>.log`: segments of the write-ahead log, replayed in name order. Each holds
//!   checksummed records ([`synod_core::wire::record`]) of the kinds in `wal_record`: log entries,
//!   truncation markers and hard states. A segment starts with the hard state current when it was
//!   opened, so deleting older segments never loses the latest one.
//! - `snapshot-<index 20 digits>-<term 20 digits>.snap`: state-machine snapshots, written
//!   atomically (temp file, fsync, rename, fsync of the directory).
//! - `LOCK`: locked while a [`Storage`] has the directory open.
//!
//! [`Storage`] applies batches of [`synod_core::raft::LogWrite`]s with one `fdatasync` per batch;
//! [`GroupCommitter`] runs it on its own thread so concurrent writers share that fsync.

mod error;
mod fsutil;
mod group_commit;
mod recovery;
mod segment;
mod snapshot_file;
mod store;
mod wal_record;

pub use error::{CorruptionKind, StorageError};
pub use group_commit::GroupCommitter;
pub use recovery::TornTail;
pub use store::{BatchStats, Storage, StorageOptions, raft_dir};
