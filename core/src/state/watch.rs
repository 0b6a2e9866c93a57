//! The registry blocking queries park on: each watch names a key or a prefix and the index the
//! client has already seen, and fires (once) when a change to what it watches lands after that.

use std::collections::{BTreeMap, BTreeSet};

use crate::state::catalog::CatalogTarget;

/// Names one parked blocking query; chosen by the caller.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WatchId(pub u64);

/// What a watch covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WatchTarget {
    /// Exactly this key.
    Key(String),
    /// Every key starting with this prefix (string prefix): `?recurse` and `?keys` queries.
    Prefix(String),
    /// A catalog table, node or service name.
    Catalog(CatalogTarget),
}

#[derive(Clone, Debug)]
struct Watch {
    target: WatchTarget,
    min_index: u64,
}

/// Watches indexed by what they cover, so a change finds its watchers in O(log n) per lookup.
#[derive(Clone, Debug, Default)]
pub struct WatchRegistry {
    watches: BTreeMap<WatchId, Watch>,
    by_key: BTreeMap<String, BTreeSet<WatchId>>,
    by_prefix: BTreeMap<String, BTreeSet<WatchId>>,
    by_catalog: BTreeMap<CatalogTarget, BTreeSet<WatchId>>,
}

impl WatchRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        WatchRegistry::default()
    }

    /// Parks `id` until `target` changes at an index above `min_index`. Replaces an earlier
    /// registration under the same id.
    pub fn register(&mut self, id: WatchId, target: WatchTarget, min_index: u64) {
        self.cancel(id);
        match &target {
            WatchTarget::Key(key) => insert_id(&mut self.by_key, key.clone(), id),
            WatchTarget::Prefix(prefix) => insert_id(&mut self.by_prefix, prefix.clone(), id),
            WatchTarget::Catalog(t) => insert_id(&mut self.by_catalog, t.clone(), id),
        }
        self.watches.insert(id, Watch { target, min_index });
    }

    /// Removes `id` (a timed-out or abandoned query); false when it was not registered.
    pub fn cancel(&mut self, id: WatchId) -> bool {
        let Some(watch) = self.watches.remove(&id) else {
            return false;
        };
        match &watch.target {
            WatchTarget::Key(key) => remove_id(&mut self.by_key, key, id),
            WatchTarget::Prefix(prefix) => remove_id(&mut self.by_prefix, prefix, id),
            WatchTarget::Catalog(t) => remove_id(&mut self.by_catalog, t, id),
        }
        true
    }

    /// Catalog `target`'s index moved to `index`: wakes its watches parked below `index`.
    pub fn fire_catalog(
        &mut self,
        target: &CatalogTarget,
        index: u64,
        woken: &mut BTreeSet<WatchId>,
    ) {
        let due: Vec<WatchId> = match self.by_catalog.get(target) {
            Some(ids) => ids.iter().copied().collect(),
            None => return,
        };
        self.wake(due, index, woken);
    }

    /// `key` changed at `index`: moves every watch covering it whose `min_index` is below
    /// `index` into `woken` (and out of the registry).
    pub fn fire(&mut self, key: &str, index: u64, woken: &mut BTreeSet<WatchId>) {
        let mut due = Vec::new();
        if let Some(ids) = self.by_key.get(key) {
            due.extend(ids.iter().copied());
        }
        if !self.by_prefix.is_empty() {
            for prefix in prefixes_of(key) {
                if let Some(ids) = self.by_prefix.get(prefix) {
                    due.extend(ids.iter().copied());
                }
            }
        }
        self.wake(due, index, woken);
    }

    fn wake(&mut self, due: Vec<WatchId>, index: u64, woken: &mut BTreeSet<WatchId>) {
        for id in due {
            if self.watches.get(&id).is_some_and(|w| w.min_index < index) {
                self.cancel(id);
                woken.insert(id);
            }
        }
    }

    /// Unparks every watch, returning their ids in ascending order.
    pub fn drain(&mut self) -> Vec<WatchId> {
        let ids = self.watches.keys().copied().collect();
        *self = WatchRegistry::default();
        ids
    }

    /// Number of parked watches.
    pub fn len(&self) -> usize {
        self.watches.len()
    }

    /// Whether no watch is parked.
    pub fn is_empty(&self) -> bool {
        self.watches.is_empty()
    }
}

fn insert_id<K: Ord>(map: &mut BTreeMap<K, BTreeSet<WatchId>>, key: K, id: WatchId) {
    map.entry(key).or_default().insert(id);
}

fn remove_id<K: Ord>(map: &mut BTreeMap<K, BTreeSet<WatchId>>, key: &K, id: WatchId) {
    if let Some(ids) = map.get_mut(key) {
        ids.remove(&id);
        if ids.is_empty() {
            map.remove(key);
        }
    }
}

/// Every prefix of `key` at a char boundary, from "" to `key` itself.
fn prefixes_of(key: &str) -> impl Iterator<Item = &str> {
    key.char_indices()
        .map(move |(at, _)| &key[..at])
        .chain(std::iter::once(key))
}
