//! The replicated state machine: deterministic, applied in Raft order, snapshotted as bytes.
//!
//! Besides the replicated tables, [`State`] keeps the local watch registry that blocking
//! queries park on; it is not part of snapshots.
pub mod catalog;
pub mod kv;
pub mod kv_types;
mod query;
mod snapshot;
mod view;
pub mod watch;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

use crate::state::catalog::types::{
    CatalogCommand, CatalogCommandResult, CatalogQuery, CatalogQueryResult,
};
use crate::state::catalog::{Catalog, CatalogTarget};
use crate::state::kv::KvStore;
use crate::state::kv_types::{KvCommand, KvCommandResult, KvQuery, KvQueryResult};
use crate::state::watch::{WatchId, WatchRegistry, WatchTarget};
use crate::wire::{self, DecodeError};

pub use query::{Query, QueryResult};
pub use view::StateView;

/// Version byte in front of every encoded [`Command`] (commands live in the log for good).
pub const COMMAND_VERSION: u8 = 1;

/// A replicated write, carried in a log entry's `EntryPayload::Command` bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// A KV write.
    Kv(KvCommand),
    /// A catalog write.
    Catalog(CatalogCommand),
}

impl From<KvCommand> for Command {
    fn from(command: KvCommand) -> Self {
        Command::Kv(command)
    }
}

impl From<CatalogCommand> for Command {
    fn from(command: CatalogCommand) -> Self {
        Command::Catalog(command)
    }
}

/// What applying a [`Command`] did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CommandResult {
    /// Outcome of a KV write.
    Kv(KvCommandResult),
    /// Outcome of a catalog write.
    Catalog(CatalogCommandResult),
}

/// Bytes for a log entry.
pub fn encode_command(command: &Command) -> Bytes {
    wire::encode_versioned(COMMAND_VERSION, command)
}

/// Decodes a log entry's command bytes.
pub fn decode_command(bytes: &[u8]) -> Result<Command, DecodeError> {
    wire::decode_versioned(COMMAND_VERSION, bytes)
}

/// Whether a watch was parked.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum WatchStatus {
    /// The target's index is already above `min_index`: answer the query now.
    AlreadyChanged,
    /// Parked; the id comes out of [`State::take_woken`] when the target changes.
    Parked,
}

/// The state machine of one server.
#[derive(Clone, Debug, Default)]
pub struct State {
    applied: StateView,
    watches: WatchRegistry,
    woken: BTreeSet<WatchId>,
    changed: Vec<String>,
}

impl State {
    /// An empty state (nothing applied).
    pub fn new() -> Self {
        State::default()
    }

    /// Last applied Raft index.
    pub fn index(&self) -> u64 {
        self.applied.index
    }

    /// The KV table.
    pub fn kv(&self) -> &KvStore {
        &self.applied.kv
    }

    /// The catalog tables.
    pub fn catalog(&self) -> &Catalog {
        &self.applied.catalog
    }

    /// The applied tables without the watch registry, for readers outside the state machine.
    /// O(1): the tables are persistent maps shared with this state until it next changes them.
    pub fn view(&self) -> StateView {
        self.applied.clone()
    }

    /// Applies the committed `command` at Raft `index` (strictly above [`State::index`]) and
    /// wakes the watches on what it changed.
    ///
    /// Commands never sit at index 1 (the bootstrap configuration), which is what makes the
    /// "empty table reports index 1" rule safe for blocking queries.
    pub fn apply(&mut self, index: u64, command: &Command) -> CommandResult {
        debug_assert!(
            index > self.applied.index,
            "apply out of order: {index} after {}",
            self.applied.index
        );
        self.applied.index = index;
        let mut changed = std::mem::take(&mut self.changed);
        let result = match command {
            Command::Kv(cmd) => CommandResult::Kv(self.applied.kv.apply(index, cmd, &mut changed)),
            Command::Catalog(cmd) => {
                let mut targets = Vec::new();
                let result = self.applied.catalog.apply(index, cmd, &mut targets);
                for target in &targets {
                    self.watches.fire_catalog(target, index, &mut self.woken);
                }
                CommandResult::Catalog(result)
            }
        };
        for key in changed.drain(..) {
            self.watches.fire(&key, index, &mut self.woken);
        }
        self.changed = changed;
        result
    }

    /// Applies a committed KV write (see [`State::apply`]).
    pub fn apply_kv(&mut self, index: u64, command: &KvCommand) -> KvCommandResult {
        match self.apply(index, &Command::Kv(command.clone())) {
            CommandResult::Kv(result) => result,
            // A KV command only ever yields a KV result.
            CommandResult::Catalog(_) => KvCommandResult::Done(false),
        }
    }

    /// Records that the entry at `index` changed nothing in the tables (a leader's blank entry
    /// or a membership change), so [`State::index`] keeps pace with the log.
    pub fn apply_noop(&mut self, index: u64) {
        debug_assert!(
            index > self.applied.index,
            "apply out of order: {index} after {}",
            self.applied.index
        );
        self.applied.index = index;
    }

    /// Answers a KV read with its blocking-query index (never 0).
    pub fn query_kv(&self, query: &KvQuery) -> (KvQueryResult, u64) {
        self.applied.query_kv(query)
    }

    /// Answers a catalog read with its blocking-query index (never 0).
    pub fn query_catalog(&self, query: &CatalogQuery) -> (CatalogQueryResult, u64) {
        self.applied.query_catalog(query)
    }

    /// Answers any read with its blocking-query index (never 0).
    pub fn query(&self, query: &Query) -> (QueryResult, u64) {
        self.applied.query(query)
    }

    /// Parks blocking query `id` on `target` (a KV key or prefix, or a catalog target) unless
    /// the target's index already exceeds `min_index` (the `?index=` the client sent).
    pub fn watch(&mut self, id: WatchId, target: WatchTarget, min_index: u64) -> WatchStatus {
        let current = match &target {
            WatchTarget::Key(key) => self.kv().key_index(key),
            WatchTarget::Prefix(prefix) => self.kv().prefix_index(prefix),
            WatchTarget::Catalog(target) => self.catalog().target_index(target).max(1),
        };
        if current > min_index {
            return WatchStatus::AlreadyChanged;
        }
        self.watches.register(id, target, min_index);
        WatchStatus::Parked
    }

    /// Parks blocking catalog query `id` on `target` (see [`CatalogQuery::target`]) unless its
    /// index already exceeds `min_index`.
    pub fn watch_catalog(
        &mut self,
        id: WatchId,
        target: CatalogTarget,
        min_index: u64,
    ) -> WatchStatus {
        self.watch(id, WatchTarget::Catalog(target), min_index)
    }

    /// Unparks `id` (timed out or abandoned); false when it was not parked.
    pub fn cancel_watch(&mut self, id: WatchId) -> bool {
        self.watches.cancel(id)
    }

    /// Watches woken since the last call, in ascending id order.
    pub fn take_woken(&mut self) -> Vec<WatchId> {
        std::mem::take(&mut self.woken).into_iter().collect()
    }

    /// Number of parked watches.
    pub fn parked_watches(&self) -> usize {
        self.watches.len()
    }

    /// The replicated content as bytes (watches are local and not included).
    pub fn snapshot(&self) -> Bytes {
        snapshot::encode(self.index(), self.kv(), self.catalog())
    }

    /// Replaces the tables with those of `restored` (a snapshot installed from the leader),
    /// keeping this state's parked watches. Every one of them is woken: what it watches may
    /// have changed in ways the snapshot does not itemise, and a spurious wake-up only costs
    /// the query a re-read.
    pub fn install(&mut self, restored: State) {
        self.applied = restored.applied;
        self.woken.extend(self.watches.drain());
    }

    /// A state rebuilt from [`State::snapshot`] bytes, with no watches.
    pub fn restore(bytes: &[u8]) -> Result<State, DecodeError> {
        let (index, kv, catalog) = snapshot::decode(bytes)?;
        Ok(State {
            applied: StateView { index, kv, catalog },
            ..State::default()
        })
    }
}

#[cfg(test)]
mod tests;
