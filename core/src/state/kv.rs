//! The KV store with Consul's semantics: Create/Modify/Lock indexes, CAS, locks, prefix lists,
//! key roll-up, and tombstones so that the index of a deleted key or prefix never goes backwards
//! (until the tombstone is reaped).

use bytes::Bytes;
use imbl::OrdMap;
use std::ops::Bound;
use std::sync::Arc;

use crate::state::kv_types::{KvCommand, KvCommandResult, KvEntry, KvQuery, KvQueryResult};
use crate::wire::DecodeError;

/// The KV table. Every write is applied at a Raft index that exceeds all earlier ones.
///
/// Persistent ordered maps: a clone (the published read view) costs O(1) and shares structure,
/// and a later write copies only the path to the key it changes. Keys and entries sit behind
/// `Arc`s so that copying a path (a few nodes of many slots each) is reference-count bumps, not
/// a string and entry copy per slot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KvStore {
    entries: OrdMap<Arc<str>, Arc<KvEntry>>,
    /// Deleted key → index of its deletion. A key is never both live and tombstoned.
    tombstones: OrdMap<Arc<str>, u64>,
    /// Index of the last write that changed the table.
    table_index: u64,
}

impl KvStore {
    /// An empty store.
    pub fn new() -> Self {
        KvStore::default()
    }

    /// Applies `cmd` at raft `index`, pushing every key whose entry changed onto `changed`.
    pub fn apply(
        &mut self,
        index: u64,
        cmd: &KvCommand,
        changed: &mut Vec<String>,
    ) -> KvCommandResult {
        let done = match cmd {
            KvCommand::Set { key, value, flags } => {
                self.put(index, key, value, *flags, changed);
                true
            }
            KvCommand::Cas {
                key,
                value,
                flags,
                index: expected,
            } => {
                let current = self.get(key).map(|e| e.modify_index);
                // 0 means "only if absent"; otherwise the key must exist at exactly that index.
                let matches = match current {
                    None => *expected == 0,
                    Some(modify) => modify == *expected,
                };
                if matches {
                    self.put(index, key, value, *flags, changed);
                }
                matches
            }
            KvCommand::Delete { key } => {
                self.remove(index, key, changed);
                true
            }
            KvCommand::DeleteCas {
                key,
                index: expected,
            } => match self.get(key) {
                Some(e) if e.modify_index == *expected => self.remove(index, key, changed),
                Some(_) => false,
                // Consul reports success: the key is already gone.
                None => true,
            },
            KvCommand::DeleteTree { prefix } => {
                let doomed: Vec<String> =
                    self.keys_with_prefix(prefix).map(str::to_owned).collect();
                for key in &doomed {
                    self.remove(index, key, changed);
                }
                true
            }
            KvCommand::Acquire {
                key,
                value,
                flags,
                session,
            } => self.acquire(index, key, value, *flags, session, changed),
            KvCommand::Release {
                key,
                value,
                flags,
                session,
            } => self.release(index, key, value, *flags, session, changed),
            KvCommand::ReapTombstones { up_to_index } => {
                self.reap_tombstones(*up_to_index);
                true
            }
        };
        KvCommandResult::Done(done)
    }

    /// Answers `query` with the index a blocking query on it would see (never 0).
    pub fn query(&self, query: &KvQuery) -> (KvQueryResult, u64) {
        match query {
            KvQuery::Get { key } => {
                let found = self.get(key).cloned().into_iter().collect();
                (KvQueryResult::Entries(found), self.key_index(key))
            }
            KvQuery::List { prefix } => {
                let found = self.entries_with_prefix(prefix).cloned().collect();
                (KvQueryResult::Entries(found), self.prefix_index(prefix))
            }
            KvQuery::Keys { prefix, separator } => {
                let separator = separator.as_deref().filter(|s| !s.is_empty());
                let keys = self.rolled_up_keys(prefix, separator);
                (KvQueryResult::Keys(keys), self.prefix_index(prefix))
            }
        }
    }

    /// The index of a read of `key`: its ModifyIndex, else its tombstone, else the table index.
    pub fn key_index(&self, key: &str) -> u64 {
        let own = match self.entries.get(key) {
            Some(entry) => entry.modify_index,
            None => self.tombstones.get(key).copied().unwrap_or(0),
        };
        self.or_table_index(own)
    }

    /// The index of a read of `prefix`: the highest ModifyIndex or tombstone under it, else the
    /// table index. The empty prefix is the whole table, so it uses the table index (as Consul).
    pub fn prefix_index(&self, prefix: &str) -> u64 {
        if prefix.is_empty() {
            return self.or_table_index(0);
        }
        let live = self.entries_with_prefix(prefix).map(|e| e.modify_index);
        let dead = range_from(&self.tombstones, prefix)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(_, &t)| t);
        self.or_table_index(live.chain(dead).max().unwrap_or(0))
    }

    fn or_table_index(&self, index: u64) -> u64 {
        if index == 0 {
            self.table_index.max(1)
        } else {
            index
        }
    }

    /// Forgets tombstones at or below `up_to_index`; returns how many were dropped.
    pub fn reap_tombstones(&mut self, up_to_index: u64) -> usize {
        let reaped: Vec<Arc<str>> = self
            .tombstones
            .iter()
            .filter(|(_, t)| **t <= up_to_index)
            .map(|(k, _)| k.clone())
            .collect();
        for key in &reaped {
            self.tombstones.remove(&**key);
        }
        reaped.len()
    }

    /// The entry at `key`, if live.
    pub fn get(&self, key: &str) -> Option<&KvEntry> {
        self.entries.get(key).map(|entry| &**entry)
    }

    /// Live entries in key order.
    pub fn entries(&self) -> impl Iterator<Item = &KvEntry> {
        self.entries.values().map(|entry| &**entry)
    }

    /// Tombstones (key, deletion index) in key order.
    pub fn tombstones(&self) -> impl Iterator<Item = (&str, u64)> {
        self.tombstones.iter().map(|(k, &t)| (&**k, t))
    }

    /// Index of the last write that changed the table (0 when never written).
    pub fn table_index(&self) -> u64 {
        self.table_index
    }

    /// Rebuilds a store from its parts, checking the invariants `apply` maintains so a corrupt
    /// snapshot is refused instead of producing indexes that go backwards.
    pub fn from_parts(
        entries: Vec<KvEntry>,
        tombstones: Vec<(String, u64)>,
        table_index: u64,
    ) -> Result<Self, DecodeError> {
        let malformed = |why: &str| Err(DecodeError::Malformed(why.to_owned()));
        let mut store = KvStore {
            table_index,
            ..KvStore::default()
        };
        for entry in entries {
            let ordered = entry.create_index >= 1
                && entry.create_index <= entry.modify_index
                && entry.modify_index <= table_index;
            if !ordered {
                return malformed("kv entry indexes out of order");
            }
            if entry.session.is_some() && entry.lock_index == 0 {
                return malformed("locked kv entry with lock index 0");
            }
            if store
                .entries
                .get_max()
                .is_some_and(|(k, _)| **k >= *entry.key)
            {
                return malformed("kv entries not in strictly ascending key order");
            }
            store
                .entries
                .insert(Arc::from(entry.key.as_str()), Arc::new(entry));
        }
        for (key, index) in tombstones {
            if index == 0 || index > table_index {
                return malformed("tombstone index out of range");
            }
            if store.entries.contains_key(key.as_str()) {
                return malformed("tombstone for a live key");
            }
            if store.tombstones.get_max().is_some_and(|(k, _)| **k >= *key) {
                return malformed("tombstones not in strictly ascending key order");
            }
            store.tombstones.insert(Arc::from(key), index);
        }
        Ok(store)
    }

    fn put(&mut self, index: u64, key: &str, value: &Bytes, flags: u64, changed: &mut Vec<String>) {
        let entry = self.entry_for_write(index, key);
        entry.value = value.clone();
        entry.flags = flags;
        self.touch(index, key, changed);
    }

    fn acquire(
        &mut self,
        index: u64,
        key: &str,
        value: &Bytes,
        flags: u64,
        session: &str,
        changed: &mut Vec<String>,
    ) -> bool {
        let holder = self.entries.get(key).and_then(|e| e.session.as_deref());
        if holder.is_some_and(|h| h != session) {
            return false;
        }
        let reacquire = holder.is_some();
        let entry = self.entry_for_write(index, key);
        if !reacquire {
            entry.lock_index += 1;
            entry.session = Some(session.to_owned());
        }
        entry.value = value.clone();
        entry.flags = flags;
        self.touch(index, key, changed);
        true
    }

    fn release(
        &mut self,
        index: u64,
        key: &str,
        value: &Bytes,
        flags: u64,
        session: &str,
        changed: &mut Vec<String>,
    ) -> bool {
        let Some(entry) = self.entries.get_mut(key).map(Arc::make_mut) else {
            return false;
        };
        if entry.session.as_deref() != Some(session) {
            return false;
        }
        entry.session = None;
        entry.value = value.clone();
        entry.flags = flags;
        entry.modify_index = index;
        self.touch(index, key, changed);
        true
    }

    /// The entry at `key` with ModifyIndex set to `index`, created (and un-tombstoned) if absent.
    fn entry_for_write(&mut self, index: u64, key: &str) -> &mut KvEntry {
        if !self.entries.contains_key(key) {
            self.tombstones.remove(key);
        }
        let shared = self.entries.entry(Arc::from(key)).or_insert_with(|| {
            Arc::new(KvEntry {
                key: key.to_owned(),
                create_index: index,
                modify_index: index,
                lock_index: 0,
                flags: 0,
                value: Bytes::new(),
                session: None,
            })
        });
        // Copies the entry only while a published view still shares it.
        let entry = Arc::make_mut(shared);
        entry.modify_index = index;
        entry
    }

    /// Deletes `key` leaving a tombstone; false when it did not exist.
    fn remove(&mut self, index: u64, key: &str, changed: &mut Vec<String>) -> bool {
        if self.entries.remove(key).is_none() {
            return false;
        }
        self.tombstones.insert(Arc::from(key), index);
        self.touch(index, key, changed);
        true
    }

    fn touch(&mut self, index: u64, key: &str, changed: &mut Vec<String>) {
        self.table_index = index;
        changed.push(key.to_owned());
    }

    fn entries_with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a KvEntry> {
        range_from(&self.entries, prefix)
            .take_while(move |(k, _)| k.starts_with(prefix))
            .map(|(_, e)| &**e)
    }

    fn keys_with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a str> {
        self.entries_with_prefix(prefix).map(|e| e.key.as_str())
    }

    /// Consul's `?keys&separator=`: a key with `separator` after the prefix is cut just after its
    /// first occurrence there, and equal cuts are listed once.
    fn rolled_up_keys(&self, prefix: &str, separator: Option<&str>) -> Vec<String> {
        let mut keys: Vec<String> = Vec::new();
        for key in self.keys_with_prefix(prefix) {
            let cut = separator.and_then(|sep| {
                let after = &key[prefix.len()..];
                after
                    .find(sep)
                    .map(|at| &key[..prefix.len() + at + sep.len()])
            });
            let listed = cut.unwrap_or(key);
            // Keys arrive sorted, so equal roll-ups are adjacent.
            if keys.last().map(String::as_str) != Some(listed) {
                keys.push(listed.to_owned());
            }
        }
        keys
    }
}

/// Entries of `map` from `start` on, in key order.
fn range_from<'a, V>(
    map: &'a OrdMap<Arc<str>, V>,
    start: &str,
) -> impl Iterator<Item = (&'a Arc<str>, &'a V)> {
    map.range::<_, str>((Bound::Included(start), Bound::Unbounded))
}
