//! The KV store's commands, queries and results (Consul's KV semantics).

use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// A stored entry, with Consul's field meanings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KvEntry {
    /// Full key.
    pub key: String,
    /// Raft index that created the key (reset when deleted and recreated).
    pub create_index: u64,
    /// Raft index of the last change.
    pub modify_index: u64,
    /// Times a session acquired the lock on this key.
    pub lock_index: u64,
    /// Opaque client flags.
    pub flags: u64,
    /// The value (empty means Consul's JSON `null`).
    pub value: Bytes,
    /// Session holding the lock, if any.
    pub session: Option<String>,
}

/// A replicated KV write. Applied at a Raft index, which becomes the write's ModifyIndex.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvCommand {
    /// Unconditional write.
    Set {
        /// Key.
        key: String,
        /// Value.
        value: Bytes,
        /// Flags.
        flags: u64,
    },
    /// Write only if the key's ModifyIndex equals `index` (0: only if the key does not exist).
    Cas {
        /// Key.
        key: String,
        /// Value.
        value: Bytes,
        /// Flags.
        flags: u64,
        /// Expected ModifyIndex.
        index: u64,
    },
    /// Delete one key.
    Delete {
        /// Key.
        key: String,
    },
    /// Delete one key only if its ModifyIndex equals `index`.
    DeleteCas {
        /// Key.
        key: String,
        /// Expected ModifyIndex.
        index: u64,
    },
    /// Delete every key with this prefix.
    DeleteTree {
        /// Prefix.
        prefix: String,
    },
    /// Take `session`'s lock on `key` and write the value (Consul `?acquire=`). Fails when another
    /// session holds it; a new acquisition bumps LockIndex. Session validity and lock-delay are
    /// the session table's business, checked before this command is proposed.
    Acquire {
        /// Key (created if absent).
        key: String,
        /// Value.
        value: Bytes,
        /// Flags.
        flags: u64,
        /// Session taking the lock.
        session: String,
    },
    /// Release `session`'s lock on `key` and write the value (Consul `?release=`). Fails unless
    /// that session holds it; LockIndex is kept.
    Release {
        /// Key.
        key: String,
        /// Value.
        value: Bytes,
        /// Flags.
        flags: u64,
        /// Session giving the lock up.
        session: String,
    },
    /// Forget deletion tombstones at or below `up_to_index`. Replicated so that every server
    /// reports the same indexes afterwards.
    ReapTombstones {
        /// Highest tombstone index to forget.
        up_to_index: u64,
    },
}

/// What a KV write did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvCommandResult {
    /// `true` when the write took effect (Consul's `true`/`false` body for PUT and DELETE).
    Done(bool),
}

/// A KV read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvQuery {
    /// One key.
    Get {
        /// Key.
        key: String,
    },
    /// Every key with the prefix (`?recurse`).
    List {
        /// Prefix.
        prefix: String,
    },
    /// Key names under the prefix, rolled up at `separator` (`?keys&separator=`).
    Keys {
        /// Prefix.
        prefix: String,
        /// Roll-up separator, if any.
        separator: Option<String>,
    },
}

/// What a KV read found. `index` is the X-Consul-Index a blocking query would use for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvQueryResult {
    /// Entries found (empty: 404 in Consul's API).
    Entries(Vec<KvEntry>),
    /// Key names found.
    Keys(Vec<String>),
}
