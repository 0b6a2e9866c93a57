//! The registry blocking queries park on: each watch names a key or a prefix and the index the
//! client has already seen, and fires (once) when a change to what it watches lands after that.

use std::collections::{BTreeMap, BTreeSet};

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
        let (map, name) = self.slot(&target);
        map.entry(name).or_default().insert(id);
        self.watches.insert(id, Watch { target, min_index });
    }

    /// Removes `id` (a timed-out or abandoned query); false when it was not registered.
    pub fn cancel(&mut self, id: WatchId) -> bool {
        let Some(watch) = self.watches.remove(&id) else {
            return false;
        };
        let (map, name) = self.slot(&watch.target);
        if let Some(ids) = map.get_mut(&name) {
            ids.remove(&id);
            if ids.is_empty() {
                map.remove(&name);
            }
        }
        true
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
        for id in due {
            if self.watches.get(&id).is_some_and(|w| w.min_index < index) {
                self.cancel(id);
                woken.insert(id);
            }
        }
    }

    /// Number of parked watches.
    pub fn len(&self) -> usize {
        self.watches.len()
    }

    /// Whether no watch is parked.
    pub fn is_empty(&self) -> bool {
        self.watches.is_empty()
    }

    fn slot(&mut self, target: &WatchTarget) -> (&mut BTreeMap<String, BTreeSet<WatchId>>, String) {
        match target {
            WatchTarget::Key(key) => (&mut self.by_key, key.clone()),
            WatchTarget::Prefix(prefix) => (&mut self.by_prefix, prefix.clone()),
        }
    }
}

/// Every prefix of `key` at a char boundary, from "" to `key` itself.
fn prefixes_of(key: &str) -> impl Iterator<Item = &str> {
    key.char_indices()
        .map(move |(at, _)| &key[..at])
        .chain(std::iter::once(key))
}
