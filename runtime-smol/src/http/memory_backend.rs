//! A single-process [`Backend`] over an in-memory KV map with Consul's index rules: for tests of
//! the HTTP layer and for running the API without a cluster. Not replicated, not durable.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use bytes::Bytes;
use futures_lite::future;
use smol::Timer;
use synod_core::ids::LogIndex;
use synod_core::node::{ClientRequest, ClientResponse};
use synod_core::state::kv_types::{KvCommand, KvCommandResult, KvEntry, KvQuery, KvQueryResult};

use super::backend::{Backend, Status};

#[derive(Debug, Default)]
struct Store {
    entries: BTreeMap<String, KvEntry>,
    /// Deleted keys and the index that deleted them, so list indexes never go backwards.
    tombstones: BTreeMap<String, u64>,
    /// Index of the last write command (successful or not): the Raft index stand-in.
    last_index: u64,
    /// Index of the last write that changed the table.
    table_index: u64,
    /// Parked blocking queries, woken (all of them) on every change.
    waiters: Vec<async_channel::Sender<()>>,
}

/// An in-memory KV backend answering every read as if it were the leader.
#[derive(Debug)]
pub struct MemoryBackend {
    store: Mutex<Store>,
    status: Mutex<Status>,
}

impl MemoryBackend {
    /// An empty store reporting `status`.
    pub fn new(status: Status) -> Self {
        MemoryBackend {
            store: Mutex::new(Store::default()),
            status: Mutex::new(status),
        }
    }

    /// Replaces the reported status (e.g. to simulate a lost leader).
    pub fn set_status(&self, status: Status) {
        *self.status.lock().unwrap_or_else(PoisonError::into_inner) = status;
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Store {
    fn apply(&mut self, command: KvCommand) -> ClientResponse {
        self.last_index += 1;
        let index = self.last_index;
        let done = match command {
            KvCommand::Set { key, value, flags } => self.set(index, key, value, flags),
            KvCommand::Cas {
                key,
                value,
                flags,
                index: expected,
            } => {
                let current = self.entries.get(&key).map_or(0, |e| e.modify_index);
                current == expected && self.set(index, key, value, flags)
            }
            KvCommand::Delete { key } => {
                self.delete(index, &key);
                true
            }
            KvCommand::DeleteCas {
                key,
                index: expected,
            } => match self.entries.get(&key) {
                None => true,
                Some(e) if e.modify_index != expected => false,
                Some(_) => self.delete(index, &key),
            },
            KvCommand::DeleteTree { prefix } => {
                let doomed: Vec<String> = self
                    .entries
                    .range(prefix.clone()..)
                    .take_while(|(k, _)| k.starts_with(&prefix))
                    .map(|(k, _)| k.clone())
                    .collect();
                for key in doomed {
                    self.delete(index, &key);
                }
                true
            }
        };
        ClientResponse::Written {
            index: LogIndex(index),
            result: KvCommandResult::Done(done),
        }
    }

    fn set(&mut self, index: u64, key: String, value: Bytes, flags: u64) -> bool {
        let create_index = self.entries.get(&key).map_or(index, |e| e.create_index);
        let lock_index = self.entries.get(&key).map_or(0, |e| e.lock_index);
        let session = self.entries.get(&key).and_then(|e| e.session.clone());
        self.tombstones.remove(&key);
        self.entries.insert(
            key.clone(),
            KvEntry {
                key,
                create_index,
                modify_index: index,
                lock_index,
                flags,
                value,
                session,
            },
        );
        self.changed(index);
        true
    }

    fn delete(&mut self, index: u64, key: &str) -> bool {
        if self.entries.remove(key).is_some() {
            self.tombstones.insert(key.to_owned(), index);
            self.changed(index);
        }
        true
    }

    fn changed(&mut self, index: u64) {
        self.table_index = index;
        for waiter in self.waiters.drain(..) {
            let _ = waiter.try_send(());
        }
    }

    fn under<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a KvEntry> + 'a {
        self.entries
            .range(prefix.to_owned()..)
            .take_while(move |(k, _)| k.starts_with(prefix))
            .map(|(_, e)| e)
    }

    /// Consul's index for a prefix: the newest change (write or delete) under it, else the
    /// table's index.
    fn prefix_index(&self, prefix: &str) -> u64 {
        let written = self.under(prefix).map(|e| e.modify_index).max();
        let deleted = self
            .tombstones
            .range(prefix.to_owned()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(_, i)| *i)
            .max();
        written.max(deleted).unwrap_or(self.table_index)
    }

    fn read(&self, query: &KvQuery) -> (u64, KvQueryResult) {
        match query {
            KvQuery::Get { key } => match self.entries.get(key) {
                Some(e) => (e.modify_index, KvQueryResult::Entries(vec![e.clone()])),
                None => (self.table_index, KvQueryResult::Entries(Vec::new())),
            },
            KvQuery::List { prefix } => (
                self.prefix_index(prefix),
                KvQueryResult::Entries(self.under(prefix).cloned().collect()),
            ),
            KvQuery::Keys { prefix, separator } => (
                self.prefix_index(prefix),
                KvQueryResult::Keys(self.keys(prefix, separator.as_deref())),
            ),
        }
    }

    /// Key names under `prefix`, rolled up after the first `separator` past the prefix.
    fn keys(&self, prefix: &str, separator: Option<&str>) -> Vec<String> {
        let mut keys: Vec<String> = Vec::new();
        for entry in self.under(prefix) {
            let rest = &entry.key[prefix.len()..];
            let name = match separator.filter(|s| !s.is_empty()) {
                Some(sep) => match rest.find(sep) {
                    Some(at) => &entry.key[..prefix.len() + at + sep.len()],
                    None => entry.key.as_str(),
                },
                None => entry.key.as_str(),
            };
            if keys.last().map(String::as_str) != Some(name) {
                keys.push(name.to_owned());
            }
        }
        keys
    }
}

impl Backend for MemoryBackend {
    async fn request(&self, request: ClientRequest) -> ClientResponse {
        match request {
            ClientRequest::Write(command) => self.store().apply(command),
            ClientRequest::Read { query, .. } => {
                let (index, result) = self.store().read(&query);
                ClientResponse::Read { index, result }
            }
        }
    }

    async fn status(&self) -> Status {
        self.status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    async fn wait_kv(&self, query: &KvQuery, min_index: u64, deadline: Instant) {
        let receiver = {
            let mut store = self.store();
            if store.read(query).0 > min_index {
                return;
            }
            let (sender, receiver) = async_channel::bounded(1);
            // Waiters whose client left are dropped here rather than piling up until a write.
            store.waiters.retain(|w| !w.is_closed());
            store.waiters.push(sender);
            receiver
        };
        future::or(
            async {
                let _ = receiver.recv().await;
            },
            async {
                Timer::at(deadline).await;
            },
        )
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(key: &str, value: &str) -> KvCommand {
        KvCommand::Set {
            key: key.to_owned(),
            value: Bytes::from(value.to_owned()),
            flags: 0,
        }
    }

    #[test]
    fn keys_roll_up_at_the_separator_after_the_prefix() {
        let mut store = Store::default();
        for key in ["web/bar", "web/foo", "web/subdir/a", "web/subdir/b", "webz"] {
            store.apply(set(key, "v"));
        }
        assert_eq!(
            store.keys("web/", Some("/")),
            vec!["web/bar", "web/foo", "web/subdir/"]
        );
        assert_eq!(store.keys("web", None).len(), 5);
    }

    #[test]
    fn list_index_does_not_go_backwards_after_a_delete() {
        let mut store = Store::default();
        store.apply(set("a/1", "v"));
        store.apply(set("a/2", "v"));
        store.apply(KvCommand::Delete {
            key: "a/2".to_owned(),
        });
        assert_eq!(store.prefix_index("a/"), 3);
    }

    #[test]
    fn missing_keys_report_the_table_index() {
        let mut store = Store::default();
        store.apply(set("x", "v"));
        assert_eq!(
            store.read(&KvQuery::Get {
                key: "nope".to_owned()
            }),
            (1, KvQueryResult::Entries(Vec::new()))
        );
    }
}
