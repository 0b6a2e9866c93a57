//! Model-based tests: the store against a naive model built on a plain `BTreeMap` and full
//! scans, over random command sequences on a tiny key alphabet (so prefixes collide often).

use bytes::Bytes;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

use crate::state::kv_types::{KvCommand, KvCommandResult, KvEntry, KvQuery, KvQueryResult};
use crate::state::watch::{WatchId, WatchTarget};
use crate::state::{Command, CommandResult, State, WatchStatus};

/// The naive reference: scans everything, computes indexes from their definition.
#[derive(Default)]
struct Model {
    live: BTreeMap<String, KvEntry>,
    graves: BTreeMap<String, u64>,
    table: u64,
}

impl Model {
    fn apply(&mut self, index: u64, cmd: &KvCommand) -> bool {
        match cmd {
            KvCommand::Set { key, value, flags } => self.write(index, key, value, *flags, None),
            KvCommand::Cas {
                key,
                value,
                flags,
                index: expected,
            } => {
                let current = self.live.get(key).map_or(0, |e| e.modify_index);
                current == *expected && self.write(index, key, value, *flags, None)
            }
            KvCommand::Delete { key } => {
                self.delete(index, key);
                true
            }
            KvCommand::DeleteCas {
                key,
                index: expected,
            } => match self.live.get(key) {
                None => true,
                Some(e) if e.modify_index != *expected => false,
                Some(_) => self.delete(index, key),
            },
            KvCommand::DeleteTree { prefix } => {
                let doomed: Vec<String> = self
                    .live
                    .keys()
                    .filter(|k| k.starts_with(prefix.as_str()))
                    .cloned()
                    .collect();
                for key in doomed {
                    self.delete(index, &key);
                }
                true
            }
            KvCommand::Acquire {
                key,
                value,
                flags,
                session,
            } => {
                let holder = self.live.get(key).and_then(|e| e.session.clone());
                match holder {
                    Some(h) if h != *session => false,
                    Some(_) => self.write(index, key, value, *flags, None),
                    None => self.write(index, key, value, *flags, Some(session)),
                }
            }
            KvCommand::Release {
                key,
                value,
                flags,
                session,
            } => {
                let Some(e) = self.live.get_mut(key) else {
                    return false;
                };
                if e.session.as_ref() != Some(session) {
                    return false;
                }
                e.session = None;
                self.write(index, key, value, *flags, None)
            }
            KvCommand::ReapTombstones { up_to_index } => {
                self.graves.retain(|_, t| *t > *up_to_index);
                true
            }
        }
    }

    /// Writes `key`; `lock` takes a new lock for that session.
    fn write(
        &mut self,
        index: u64,
        key: &str,
        value: &Bytes,
        flags: u64,
        lock: Option<&String>,
    ) -> bool {
        let old = self.live.remove(key);
        let mut e = old.unwrap_or(KvEntry {
            key: key.into(),
            create_index: index,
            modify_index: 0,
            lock_index: 0,
            flags: 0,
            value: Bytes::new(),
            session: None,
        });
        e.modify_index = index;
        e.value = value.clone();
        e.flags = flags;
        if let Some(session) = lock {
            e.lock_index += 1;
            e.session = Some(session.clone());
        }
        self.live.insert(key.into(), e);
        self.graves.remove(key);
        self.table = index;
        true
    }

    fn delete(&mut self, index: u64, key: &str) -> bool {
        if self.live.remove(key).is_none() {
            return false;
        }
        self.graves.insert(key.into(), index);
        self.table = index;
        true
    }

    fn query(&self, query: &KvQuery) -> (KvQueryResult, u64) {
        let fallback = self.table.max(1);
        match query {
            KvQuery::Get { key } => {
                let found: Vec<KvEntry> = self.live.get(key).cloned().into_iter().collect();
                let own = found
                    .first()
                    .map(|e| e.modify_index)
                    .or_else(|| self.graves.get(key).copied());
                (KvQueryResult::Entries(found), own.unwrap_or(fallback))
            }
            KvQuery::List { prefix } => {
                let found: Vec<KvEntry> = self.under(prefix).cloned().collect();
                (KvQueryResult::Entries(found), self.prefix_index(prefix))
            }
            KvQuery::Keys { prefix, separator } => {
                let sep = separator.as_deref().filter(|s| !s.is_empty());
                let cuts: BTreeSet<String> = self
                    .under(prefix)
                    .map(|e| {
                        let rest = &e.key[prefix.len()..];
                        match sep.and_then(|s| rest.find(s).map(|at| at + s.len())) {
                            Some(end) => e.key[..prefix.len() + end].to_owned(),
                            None => e.key.clone(),
                        }
                    })
                    .collect();
                let keys = cuts.into_iter().collect();
                (KvQueryResult::Keys(keys), self.prefix_index(prefix))
            }
        }
    }

    fn under<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a KvEntry> {
        self.live
            .values()
            .filter(move |e| e.key.starts_with(prefix))
    }

    fn prefix_index(&self, prefix: &str) -> u64 {
        let live = self.under(prefix).map(|e| e.modify_index);
        let dead = self
            .graves
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, t)| *t);
        match live.chain(dead).max() {
            Some(index) if !prefix.is_empty() => index,
            _ => self.table.max(1),
        }
    }
}

/// Every string over `{a, b, /}` of length ≤ 3: all keys and prefixes the tests can produce.
fn probes() -> Vec<String> {
    let mut all = vec![String::new()];
    let mut frontier = vec![String::new()];
    for _ in 0..3 {
        frontier = frontier
            .iter()
            .flat_map(|s| ["a", "b", "/"].map(|c| format!("{s}{c}")))
            .collect();
        all.extend(frontier.iter().cloned());
    }
    all
}

fn probe_queries() -> Vec<KvQuery> {
    probes()
        .into_iter()
        .flat_map(|p| {
            [
                KvQuery::Get { key: p.clone() },
                KvQuery::List { prefix: p.clone() },
                KvQuery::Keys {
                    prefix: p.clone(),
                    separator: Some("/".into()),
                },
                KvQuery::Keys {
                    prefix: p,
                    separator: None,
                },
            ]
        })
        .collect()
}

fn key() -> impl Strategy<Value = String> {
    "[ab/]{0,3}"
}

fn command() -> impl Strategy<Value = KvCommand> {
    let value = proptest::collection::vec(any::<u8>(), 0..3).prop_map(Bytes::from);
    let session = "s[12]";
    prop_oneof![
        4 => (key(), value.clone(), 0u64..3).prop_map(|(key, value, flags)| KvCommand::Set { key, value, flags }),
        3 => (key(), value.clone(), 0u64..3, 0u64..12)
            .prop_map(|(key, value, flags, index)| KvCommand::Cas { key, value, flags, index }),
        2 => key().prop_map(|key| KvCommand::Delete { key }),
        2 => (key(), 0u64..12).prop_map(|(key, index)| KvCommand::DeleteCas { key, index }),
        1 => "[ab/]{0,2}".prop_map(|prefix| KvCommand::DeleteTree { prefix }),
        2 => (key(), value.clone(), 0u64..3, session)
            .prop_map(|(key, value, flags, session)| KvCommand::Acquire { key, value, flags, session }),
        2 => (key(), value, 0u64..3, session)
            .prop_map(|(key, value, flags, session)| KvCommand::Release { key, value, flags, session }),
        1 => (0u64..40).prop_map(|up_to_index| KvCommand::ReapTombstones { up_to_index }),
    ]
}

/// Commands with strictly increasing (sometimes gapped) indexes from 2 on: Raft's index 1 is
/// always the bootstrap configuration, never a command.
fn history() -> impl Strategy<Value = Vec<(u64, KvCommand)>> {
    proptest::collection::vec((1u64..3, command()), 1..40).prop_map(|steps| {
        let mut index = 1;
        steps
            .into_iter()
            .map(|(gap, cmd)| {
                index += gap;
                (index, cmd)
            })
            .collect()
    })
}

fn entries_of(result: KvQueryResult) -> Vec<KvEntry> {
    match result {
        KvQueryResult::Entries(entries) => entries,
        KvQueryResult::Keys(_) => Vec::new(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn store_matches_the_model_and_indexes_never_go_backwards(steps in history()) {
        let mut state = State::new();
        let mut model = Model::default();
        let queries = probe_queries();
        let mut before: Vec<u64> = queries.iter().map(|q| state.query_kv(q).1).collect();
        for (index, cmd) in &steps {
            let got = state.apply(*index, &Command::Kv(cmd.clone()));
            let want = model.apply(*index, cmd);
            prop_assert_eq!(got, CommandResult::Kv(KvCommandResult::Done(want)), "{:?}", cmd);
            let reaped = matches!(cmd, KvCommand::ReapTombstones { .. });
            for (query, seen) in queries.iter().zip(before.iter_mut()) {
                let answer = state.query_kv(query);
                prop_assert_eq!(&answer, &model.query(query), "{:?} after {:?}", query, cmd);
                prop_assert!(answer.1 >= 1);
                prop_assert!(reaped || answer.1 >= *seen, "{:?} went backwards after {:?}", query, cmd);
                *seen = answer.1;
            }
        }
    }

    #[test]
    fn watches_wake_exactly_when_their_entries_change(steps in history()) {
        let mut state = State::new();
        let targets: Vec<WatchTarget> = probes()
            .into_iter()
            .flat_map(|p| [WatchTarget::Key(p.clone()), WatchTarget::Prefix(p)])
            .collect();
        let read = |state: &State, target: &WatchTarget| {
            let query = match target {
                WatchTarget::Key(key) => KvQuery::Get { key: key.clone() },
                WatchTarget::Prefix(prefix) => KvQuery::List { prefix: prefix.clone() },
                WatchTarget::Catalog(t) => panic!("the KV model watches no catalog target: {t:?}"),
            };
            state.query_kv(&query)
        };
        for (index, cmd) in &steps {
            let mut seen = Vec::new();
            for (id, target) in targets.iter().enumerate() {
                let (result, at) = read(&state, target);
                let status = state.watch(WatchId(id as u64), target.clone(), at);
                prop_assert_eq!(status, WatchStatus::Parked);
                seen.push(entries_of(result));
            }
            state.apply(*index, &Command::Kv(cmd.clone()));
            let expected: Vec<WatchId> = targets
                .iter()
                .enumerate()
                .filter(|(id, target)| entries_of(read(&state, target).0) != seen[*id])
                .map(|(id, _)| WatchId(id as u64))
                .collect();
            prop_assert_eq!(state.take_woken(), expected, "{:?}", cmd);
            for id in 0..targets.len() {
                state.cancel_watch(WatchId(id as u64));
            }
            prop_assert_eq!(state.parked_watches(), 0);
        }
    }

    #[test]
    fn snapshot_restore_reproduces_the_state(steps in history()) {
        let mut state = State::new();
        for (index, cmd) in &steps {
            state.apply(*index, &Command::Kv(cmd.clone()));
        }
        let bytes = state.snapshot();
        let restored = State::restore(&bytes).expect("own snapshot restores");
        prop_assert_eq!(restored.index(), state.index());
        prop_assert_eq!(restored.kv(), state.kv());
        prop_assert_eq!(restored.snapshot(), bytes);
    }

    #[test]
    fn commands_round_trip_through_their_encoding(cmd in command()) {
        let cmd = Command::Kv(cmd);
        prop_assert_eq!(crate::state::decode_command(&crate::state::encode_command(&cmd)), Ok(cmd));
    }
}
