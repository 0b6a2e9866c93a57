//! What can go wrong opening or writing storage.

use std::fmt;
use std::io;
use std::path::PathBuf;

use synod_core::wire::record::{Corruption, RecordError};

/// A storage failure. After any error from a write, the [`super::Storage`] refuses further
/// writes: what reached the disk is unknown, so the process must restart and recover.
#[derive(Debug)]
pub enum StorageError {
    /// A file-system call failed.
    Io {
        /// What was being done ("fdatasync", "rename", ...).
        action: &'static str,
        /// On which file or directory.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// A WAL record before the tail is damaged; starting would lose committed data.
    CorruptRecord {
        /// The segment file.
        path: PathBuf,
        /// Byte offset of the damaged record in it.
        offset: u64,
        /// What is wrong.
        kind: CorruptionKind,
    },
    /// The files on disk are individually readable but do not form a complete state.
    Unrecoverable(String),
    /// A value could not be serialized (too large for one record).
    Encode(String),
    /// Another process (or another `Storage` in this one) has the directory open.
    Locked(PathBuf),
    /// A previous write failed; nothing more is accepted.
    Poisoned,
    /// The group-commit thread has stopped (after an error or shutdown).
    Stopped,
}

/// What is wrong with a damaged WAL record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorruptionKind {
    /// The record's framing or checksum is bad and valid records follow it.
    Record(Corruption),
    /// A segment other than the last one ends with an incomplete record.
    IncompleteInEarlierSegment,
    /// The checksum holds but the payload is not a WAL record of a known kind.
    UndecodablePayload(String),
}

impl StorageError {
    pub(super) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        StorageError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

impl From<RecordError> for StorageError {
    fn from(e: RecordError) -> Self {
        StorageError::Encode(e.to_string())
    }
}

impl fmt::Display for CorruptionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CorruptionKind::Record(c) => c.fmt(f),
            CorruptionKind::IncompleteInEarlierSegment => {
                f.write_str("incomplete record at the end of a segment that is not the last")
            }
            CorruptionKind::UndecodablePayload(e) => write!(f, "undecodable payload: {e}"),
        }
    }
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageError::Io {
                action,
                path,
                source,
            } => write!(f, "{action} {} failed: {source}", path.display()),
            StorageError::CorruptRecord { path, offset, kind } => write!(
                f,
                "corrupt WAL record in {} at offset {offset}: {kind}",
                path.display()
            ),
            StorageError::Unrecoverable(why) => write!(f, "refusing to start: {why}"),
            StorageError::Encode(why) => write!(f, "cannot encode WAL record: {why}"),
            StorageError::Locked(path) => write!(
                f,
                "{} is locked: another synod process is using this data dir",
                path.display()
            ),
            StorageError::Poisoned => {
                f.write_str("storage refuses writes after an earlier write failed")
            }
            StorageError::Stopped => f.write_str("the group-commit thread has stopped"),
        }
    }
}

impl std::error::Error for StorageError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StorageError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
