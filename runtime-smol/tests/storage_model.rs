//! Random sequences of Raft-shaped writes, with restarts at random points, recover exactly the
//! state an in-memory model of the log says they should.

mod support;

use std::collections::BTreeMap;

use proptest::prelude::*;
use support::*;
use synod_core::ids::{LogIndex, NodeId, Term};
use synod_core::raft::{Entry, HardState, LogWrite, Recovered, Snapshot};
use synod_runtime_smol::storage::{Storage, StorageOptions};

/// One write, with parameters read relative to the model's state when it is applied.
#[derive(Debug, Clone)]
enum Op {
    Append { count: u8, new_term: bool },
    Truncate { back: u8, then: u8 },
    HardState { vote: Option<u8>, commit_back: u8 },
    Snapshot { back: u8, compact: bool },
}

#[derive(Debug, Clone)]
enum Step {
    /// These writes, in one `Storage::write` call.
    Batch(Vec<Op>),
    Reopen,
}

/// What the log should be: entries, hard state and snapshot, kept the way Raft would.
#[derive(Debug, Default)]
struct Model {
    entries: BTreeMap<u64, Entry>,
    hard_state: HardState,
    snapshot: Option<Snapshot>,
    term: u64,
}

impl Model {
    fn last(&self) -> u64 {
        let snapshot = self.snapshot_index();
        self.entries.last_key_value().map_or(snapshot, |(i, _)| *i)
    }

    fn snapshot_index(&self) -> u64 {
        self.snapshot.as_ref().map_or(0, |s| s.meta.last_index.0)
    }

    fn append_new(&mut self, from: u64, count: u8) -> Vec<Entry> {
        let new: Vec<Entry> = (from..from + u64::from(count))
            .map(|i| entry(i, self.term))
            .collect();
        for e in &new {
            self.entries.insert(e.index.0, e.clone());
        }
        new
    }

    /// Turns `op` into the `LogWrite` Raft would issue, updating the model to match.
    fn apply(&mut self, op: &Op) -> LogWrite {
        match *op {
            Op::Append { count, new_term } => {
                self.term += u64::from(new_term || self.term == 0);
                append(self.append_new(self.last() + 1, count))
            }
            Op::Truncate { back, then } => {
                // Never below what is committed or snapshotted: Raft only replaces its suffix.
                let floor = self.hard_state.commit.0.max(self.snapshot_index()) + 1;
                let from = (self.last() + 1).saturating_sub(u64::from(back)).max(floor);
                self.entries.split_off(&from);
                self.term += 1;
                LogWrite {
                    truncate_from: Some(LogIndex(from)),
                    entries: self.append_new(from, then),
                    ..LogWrite::default()
                }
            }
            Op::HardState { vote, commit_back } => {
                let commit = self
                    .last()
                    .saturating_sub(u64::from(commit_back))
                    .max(self.hard_state.commit.0);
                self.hard_state = HardState {
                    term: Term(self.term),
                    vote: vote.map(|v| NodeId(u64::from(v))),
                    commit: LogIndex(commit),
                };
                LogWrite {
                    hard_state: Some(self.hard_state),
                    ..LogWrite::default()
                }
            }
            Op::Snapshot { back, compact } => {
                let base = self.snapshot_index();
                let commit = self.hard_state.commit.0;
                if commit <= base {
                    return LogWrite::default();
                }
                let index = commit - u64::from(back) % (commit - base);
                let term = self.entries[&index].term.0;
                let snap = snapshot(index, term);
                self.snapshot = Some(snap.clone());
                self.entries = self.entries.split_off(&(index + 1));
                LogWrite {
                    snapshot: Some(snap),
                    compact_through: compact.then_some(LogIndex(index)),
                    ..LogWrite::default()
                }
            }
        }
    }

    fn expected(&self) -> Recovered {
        Recovered {
            hard_state: self.hard_state,
            snapshot: self.snapshot.clone(),
            entries: self.entries.values().cloned().collect(),
        }
    }
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1..6u8, any::<bool>()).prop_map(|(count, new_term)| Op::Append { count, new_term }),
        1 => (0..8u8, 0..4u8).prop_map(|(back, then)| Op::Truncate { back, then }),
        2 => (prop::option::of(1..4u8), 0..4u8)
            .prop_map(|(vote, commit_back)| Op::HardState { vote, commit_back }),
        1 => (any::<u8>(), any::<bool>()).prop_map(|(back, compact)| Op::Snapshot { back, compact }),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => prop::collection::vec(op(), 1..4).prop_map(Step::Batch),
        1 => Just(Step::Reopen),
    ]
}

fn reopen(dir: &ScratchDir, segment_bytes: u64, model: &Model) -> Storage {
    let (storage, recovered) = Storage::open(dir.path(), StorageOptions { segment_bytes })
        .unwrap_or_else(|e| panic!("recovery failed: {e}"));
    assert_eq!(recovered, model.expected());
    storage
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn recovered_state_equals_the_model(
        steps in prop::collection::vec(step(), 1..25),
        segment_bytes in 64..1024u64,
    ) {
        let dir = ScratchDir::new("model");
        let mut model = Model::default();
        let mut storage = reopen(&dir, segment_bytes, &model);
        for step in &steps {
            match step {
                Step::Batch(ops) => {
                    let writes: Vec<LogWrite> = ops.iter().map(|op| model.apply(op)).collect();
                    storage.write(&writes).unwrap();
                }
                Step::Reopen => {
                    drop(storage);
                    storage = reopen(&dir, segment_bytes, &model);
                }
            }
        }
        drop(storage);
        reopen(&dir, segment_bytes, &model);
    }
}
