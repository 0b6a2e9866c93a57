//! The client history: every KV operation with its call and return points on one logical clock.

use std::collections::BTreeMap;

use bytes::Bytes;

/// What a client asked for (on one key).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpKind {
    /// Unconditional write of a value unique to this operation.
    Set {
        /// The value.
        value: Bytes,
    },
    /// Consul CAS: write only if the key's ModifyIndex is `expect` (0: only if absent).
    Cas {
        /// The value.
        value: Bytes,
        /// Expected ModifyIndex.
        expect: u64,
    },
    /// Linearizable read of the key.
    Get,
}

/// How an operation ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Not answered (yet): a write may take effect at any point after its call, or never.
    Unknown,
    /// A write committed at Raft index `index`; `done` says whether it changed the key.
    Written {
        /// Raft index of the write (the key's new ModifyIndex when `done`).
        index: u64,
        /// Whether it took effect.
        done: bool,
    },
    /// A read found the key with this value and ModifyIndex, or found nothing.
    Read(Option<(Bytes, u64)>),
}

/// Index of an operation in its history.
pub type OpId = usize;

/// One client operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    /// The client that issued it.
    pub client: usize,
    /// The key it touches.
    pub key: String,
    /// What it asked.
    pub kind: OpKind,
    /// Logical time of the call.
    pub call: u64,
    /// Logical time of the answer (`u64::MAX` while unknown).
    pub ret: u64,
    /// How it ended.
    pub outcome: Outcome,
}

/// Every operation of a run, timestamped on one logical clock so real-time order is exact.
#[derive(Clone, Debug, Default)]
pub struct History {
    ops: Vec<Operation>,
    clock: u64,
}

impl History {
    /// An empty history.
    pub fn new() -> Self {
        History::default()
    }

    /// Records a call; the outcome stays unknown until [`History::complete`].
    pub fn invoke(&mut self, client: usize, key: &str, kind: OpKind) -> OpId {
        self.clock += 1;
        self.ops.push(Operation {
            client,
            key: key.to_string(),
            kind,
            call: self.clock,
            ret: u64::MAX,
            outcome: Outcome::Unknown,
        });
        self.ops.len() - 1
    }

    /// Records the answer of `id`.
    pub fn complete(&mut self, id: OpId, outcome: Outcome) {
        self.clock += 1;
        if let Some(op) = self.ops.get_mut(id) {
            op.ret = self.clock;
            op.outcome = outcome;
        }
    }

    /// All operations, in call order.
    pub fn ops(&self) -> &[Operation] {
        &self.ops
    }

    /// The operations that constrain key `key`'s history, grouped by key. Reads without an answer
    /// observed nothing and are left out.
    pub fn by_key(&self) -> BTreeMap<&str, Vec<&Operation>> {
        let mut keys: BTreeMap<&str, Vec<&Operation>> = BTreeMap::new();
        for op in &self.ops {
            let unanswered_read = op.kind == OpKind::Get && op.outcome == Outcome::Unknown;
            if !unanswered_read {
                keys.entry(op.key.as_str()).or_default().push(op);
            }
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_and_returns_share_one_increasing_clock() {
        let mut h = History::new();
        let a = h.invoke(0, "k", OpKind::Get);
        let b = h.invoke(1, "k", OpKind::Get);
        h.complete(a, Outcome::Read(None));
        assert_eq!((h.ops()[a].call, h.ops()[a].ret), (1, 3));
        assert_eq!((h.ops()[b].call, h.ops()[b].ret), (2, u64::MAX));
    }

    #[test]
    fn unanswered_reads_are_left_out_of_per_key_histories() {
        let mut h = History::new();
        h.invoke(0, "k", OpKind::Get);
        h.invoke(
            1,
            "k",
            OpKind::Set {
                value: Bytes::from_static(b"v"),
            },
        );
        let keys = h.by_key();
        assert_eq!(keys["k"].len(), 1);
        assert!(matches!(keys["k"][0].kind, OpKind::Set { .. }));
    }
}
