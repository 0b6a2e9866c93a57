//! Applying [`LogWrite`]s to an in-memory image of durable state, checking the write contract.
//! In-memory disks (`-dev` agents, simulations) keep their durable state as a [`Recovered`].

use core::fmt;

use crate::ids::LogIndex;
use crate::raft::{LogWrite, Recovered, Snapshot};

/// A write that breaks the `LogWrite` contract: a bug in the writer, never remote input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogWriteError(pub String);

impl fmt::Display for LogWriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LogWriteError {}

impl Recovered {
    /// Applies a whole write, in the order `LogWrite` documents: snapshot, truncation, entries,
    /// hard state, compaction.
    pub fn apply(&mut self, write: &LogWrite) -> Result<(), LogWriteError> {
        self.apply_torn(write, write.entries.len())?;
        if let Some(hard_state) = write.hard_state {
            self.hard_state = hard_state;
        }
        if let Some(through) = write.compact_through {
            if through > self.snapshot_index() {
                return Err(LogWriteError(format!(
                    "compact_through {through} beyond the durable snapshot at {}",
                    self.snapshot_index()
                )));
            }
            self.entries.retain(|e| e.index > through);
        }
        Ok(())
    }

    /// Applies the snapshot, the truncation and the first `kept_entries` entries of a write:
    /// what a write torn by a crash leaves behind (its hard state never lands).
    pub fn apply_torn(
        &mut self,
        write: &LogWrite,
        kept_entries: usize,
    ) -> Result<(), LogWriteError> {
        if let Some(snapshot) = &write.snapshot {
            self.install(snapshot)?;
        }
        if let Some(from) = write.truncate_from {
            self.entries.retain(|e| e.index < from);
        }
        for entry in write.entries.iter().take(kept_entries) {
            if entry.index != self.next_index() {
                return Err(LogWriteError(format!(
                    "append of entry {} is not contiguous (next durable index is {})",
                    entry.index,
                    self.next_index()
                )));
            }
            self.entries.push(entry.clone());
        }
        Ok(())
    }

    fn snapshot_index(&self) -> LogIndex {
        self.snapshot
            .as_ref()
            .map_or(LogIndex(0), |s| s.meta.last_index)
    }

    pub(crate) fn next_index(&self) -> LogIndex {
        self.entries
            .last()
            .map_or(self.snapshot_index(), |e| e.index)
            .next()
    }

    /// Installs a snapshot: entries after it survive only if the log agrees with its last entry
    /// (Raft §7), either holding that entry or a snapshot already covering it; otherwise the
    /// whole log is replaced by it.
    fn install(&mut self, snapshot: &Snapshot) -> Result<(), LogWriteError> {
        let last = &snapshot.meta;
        if let Some(durable) = &self.snapshot
            && durable.meta.last_index > last.last_index
        {
            // The log after the newer snapshot may already be compacted: replacing it would
            // leave a hole between the snapshot and the first entry.
            return Err(LogWriteError(format!(
                "snapshot through {} would replace the newer durable snapshot through {}",
                last.last_index, durable.meta.last_index
            )));
        }
        let covered = self.snapshot.as_ref().is_some_and(|s| {
            s.meta.last_index == last.last_index && s.meta.last_term == last.last_term
        });
        let agrees = covered
            || self
                .entries
                .iter()
                .any(|e| e.index == last.last_index && e.term == last.last_term);
        if agrees {
            self.entries.retain(|e| e.index > last.last_index);
        } else {
            self.entries.clear();
        }
        self.snapshot = Some(snapshot.clone());
        Ok(())
    }
}
