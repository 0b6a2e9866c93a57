//! Small file-system helpers that attach the path to every error.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

use super::StorageError;

/// Makes the directory's entries (created, renamed or removed files) durable.
pub(super) fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StorageError::io("fsync directory", dir, e))
}

/// Reads a whole file.
pub(super) fn read(path: &Path) -> Result<Vec<u8>, StorageError> {
    std::fs::read(path).map_err(|e| StorageError::io("read", path, e))
}

/// Removes a file.
pub(super) fn remove(path: &Path) -> Result<(), StorageError> {
    std::fs::remove_file(path).map_err(|e| StorageError::io("remove", path, e))
}

/// Takes an exclusive lock on `<dir>/LOCK`, held until the returned file is dropped, so two
/// processes never write the same log.
pub(super) fn lock_dir(dir: &Path) -> Result<File, StorageError> {
    let path = dir.join("LOCK");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| StorageError::io("open", &path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(StorageError::Locked(path)),
        Err(TryLockError::Error(e)) => Err(StorageError::io("lock", &path, e)),
    }
}
