mod kv_semantics;
mod model;
mod snapshots;
mod views;
mod watches;

use bytes::Bytes;

use crate::state::kv_types::{KvCommand, KvEntry, KvQuery, KvQueryResult};
use crate::state::{Command, CommandResult, State};

/// A `Set` command.
fn set(key: &str, value: &str) -> Command {
    Command::Kv(KvCommand::Set {
        key: key.into(),
        value: Bytes::copy_from_slice(value.as_bytes()),
        flags: 0,
    })
}

fn kv(cmd: KvCommand) -> Command {
    Command::Kv(cmd)
}

fn done(ok: bool) -> CommandResult {
    CommandResult::Kv(crate::state::kv_types::KvCommandResult::Done(ok))
}

/// Applies `(index, command)` pairs, returning the results.
fn apply_all(state: &mut State, commands: &[(u64, Command)]) -> Vec<CommandResult> {
    commands
        .iter()
        .map(|(index, cmd)| state.apply(*index, cmd))
        .collect()
}

fn get(state: &State, key: &str) -> (Option<KvEntry>, u64) {
    let (result, index) = state.query_kv(&KvQuery::Get { key: key.into() });
    match result {
        KvQueryResult::Entries(mut found) => (found.pop(), index),
        KvQueryResult::Keys(_) => panic!("Get answered with keys"),
    }
}

fn entry(key: &str, value: &str, create: u64, modify: u64) -> KvEntry {
    KvEntry {
        key: key.into(),
        create_index: create,
        modify_index: modify,
        lock_index: 0,
        flags: 0,
        value: Bytes::copy_from_slice(value.as_bytes()),
        session: None,
    }
}
