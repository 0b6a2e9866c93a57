//! [`GroupCommitter`]: runs a [`Storage`] on its own thread so that every write queued while one
//! fdatasync is in progress shares the next one.

use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use synod_core::ids::IoToken;
use synod_core::raft::LogWrite;

use super::{BatchStats, Storage, StorageError};

/// Most writes taken into one batch, so one huge queue does not delay every token in it.
const MAX_BATCH_WRITES: usize = 4096;

/// A storage thread. Writes are applied in submission order; after each batch is durable the
/// callback receives its tokens, in the same order.
///
/// If a write fails the thread stops: later `submit`s return [`StorageError::Stopped`], the
/// callback (and with it a channel sender) is dropped, and [`GroupCommitter::shutdown`] returns
/// the error.
#[derive(Debug)]
pub struct GroupCommitter {
    queue: Option<mpsc::Sender<(IoToken, LogWrite)>>,
    thread: Option<JoinHandle<Result<Storage, StorageError>>>,
    stats: Arc<Mutex<BatchStats>>,
}

impl GroupCommitter {
    /// Starts the thread; `on_durable` is called on it with the tokens of each durable batch.
    pub fn spawn<F>(storage: Storage, on_durable: F) -> Result<GroupCommitter, StorageError>
    where
        F: FnMut(&[IoToken]) + Send + 'static,
    {
        let (queue, incoming) = mpsc::channel();
        let stats = Arc::new(Mutex::new(storage.stats()));
        let shared = Arc::clone(&stats);
        let thread = std::thread::Builder::new()
            .name("synod-wal".to_string())
            .spawn(move || run(storage, incoming, on_durable, &shared))
            .map_err(|e| StorageError::io("spawn thread for", "synod-wal", e))?;
        Ok(GroupCommitter {
            queue: Some(queue),
            thread: Some(thread),
            stats,
        })
    }

    /// Starts the thread, reporting each durable token on `done` (for `Input::Persisted`).
    pub fn spawn_with_channel(
        storage: Storage,
        done: async_channel::Sender<IoToken>,
    ) -> Result<GroupCommitter, StorageError> {
        GroupCommitter::spawn(storage, move |tokens| {
            for token in tokens {
                // A closed receiver means the shell is shutting down; nothing to tell.
                let _ = done.send_blocking(*token);
            }
        })
    }

    /// Queues `write`; its token is reported once it is durable.
    pub fn submit(&self, token: IoToken, write: LogWrite) -> Result<(), StorageError> {
        let queue = self.queue.as_ref().ok_or(StorageError::Stopped)?;
        queue
            .send((token, write))
            .map_err(|_| StorageError::Stopped)
    }

    /// Work done so far (updated after each batch).
    pub fn stats(&self) -> BatchStats {
        *self.stats.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Finishes every queued write, stops the thread and hands back the storage, or the error
    /// that stopped it.
    pub fn shutdown(mut self) -> Result<Storage, StorageError> {
        self.queue = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            None => Err(StorageError::Stopped),
        }
    }
}

impl Drop for GroupCommitter {
    fn drop(&mut self) {
        self.queue = None;
        if let Some(thread) = self.thread.take() {
            // Waits for queued writes; an error was already reported by the channel closing.
            let _ = thread.join();
        }
    }
}

fn run<F>(
    mut storage: Storage,
    incoming: mpsc::Receiver<(IoToken, LogWrite)>,
    mut on_durable: F,
    stats: &Mutex<BatchStats>,
) -> Result<Storage, StorageError>
where
    F: FnMut(&[IoToken]),
{
    let mut tokens = Vec::new();
    let mut writes = Vec::new();
    while let Ok((token, write)) = incoming.recv() {
        tokens.push(token);
        writes.push(write);
        while writes.len() < MAX_BATCH_WRITES {
            let Ok((token, write)) = incoming.try_recv() else {
                break;
            };
            tokens.push(token);
            writes.push(write);
        }
        let result = storage.write(&writes);
        *stats.lock().unwrap_or_else(PoisonError::into_inner) = storage.stats();
        if let Err(e) = result {
            // Refuse new submissions before the callback's drop tells anyone we stopped.
            drop(incoming);
            drop(on_durable);
            return Err(e);
        }
        on_durable(&tokens);
        tokens.clear();
        writes.clear();
    }
    Ok(storage)
}
