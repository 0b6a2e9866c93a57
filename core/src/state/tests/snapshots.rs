use bytes::Bytes;

use super::{apply_all, entry, kv, set};
use crate::state::kv_types::{KvCommand, KvEntry};
use crate::state::{Command, State, decode_command, encode_command};
use crate::wire::DecodeError;

#[test]
fn snapshot_restores_entries_tombstones_and_indexes() {
    let mut state = State::new();
    apply_all(
        &mut state,
        &[
            (1, set("a", "1")),
            (2, set("b", "2")),
            (3, kv(KvCommand::Delete { key: "a".into() })),
            (4, kv(KvCommand::ReapTombstones { up_to_index: 0 })),
        ],
    );
    let restored = State::restore(&state.snapshot()).expect("own snapshot");
    assert_eq!(restored.index(), 4);
    assert_eq!(restored.kv(), state.kv());
    assert_eq!(restored.snapshot(), state.snapshot());
}

#[test]
fn empty_snapshot_restores_an_empty_state() {
    let restored = State::restore(&State::new().snapshot()).expect("own snapshot");
    assert_eq!(restored.index(), 0);
    assert_eq!(restored.kv().entries().count(), 0);
}

#[test]
fn snapshot_of_another_version_is_refused() {
    let mut bytes = State::new().snapshot().to_vec();
    bytes[0] = 3;
    assert_eq!(
        State::restore(&bytes).map(|s| s.index()),
        Err(DecodeError::BadVersion(3))
    );
}

#[test]
fn every_truncation_of_a_snapshot_is_an_error() {
    let mut state = State::new();
    apply_all(&mut state, &[(1, set("a", "1")), (2, set("b", "2"))]);
    let bytes = state.snapshot();
    for cut in 0..bytes.len() {
        assert!(State::restore(&bytes[..cut]).is_err(), "cut at {cut}");
    }
}

/// Hand-builds a snapshot whose entries break an invariant.
fn snapshot_with(
    index: u64,
    table: u64,
    entries: Vec<KvEntry>,
    tombs: Vec<(String, u64)>,
) -> Bytes {
    let mut bytes = vec![1u8];
    bytes.extend(crate::wire::to_postcard(&(index, table, entries, tombs)));
    Bytes::from(bytes)
}

#[test]
fn snapshot_with_unsorted_or_inconsistent_tables_is_malformed() {
    let a = entry("a", "", 1, 1);
    let b = entry("b", "", 1, 2);
    let cases = [
        snapshot_with(2, 2, vec![b.clone(), a.clone()], vec![]),
        snapshot_with(2, 2, vec![a.clone(), a.clone()], vec![]),
        snapshot_with(2, 2, vec![a.clone()], vec![("a".into(), 2)]),
        snapshot_with(2, 2, vec![], vec![("z".into(), 1), ("y".into(), 1)]),
        snapshot_with(2, 2, vec![], vec![("z".into(), 3)]),
        snapshot_with(2, 2, vec![entry("a", "", 2, 1)], vec![]),
        snapshot_with(1, 2, vec![b.clone()], vec![]),
        snapshot_with(2, 1, vec![b], vec![]),
    ];
    for (i, bytes) in cases.iter().enumerate() {
        assert!(
            matches!(State::restore(bytes), Err(DecodeError::Malformed(_))),
            "case {i}"
        );
    }
    let consistent = snapshot_with(2, 2, vec![a], vec![("z".into(), 2)]);
    assert!(State::restore(&consistent).is_ok());
}

#[test]
fn command_round_trips_with_its_version_byte() {
    let cmd = Command::Kv(KvCommand::Cas {
        key: "k".into(),
        value: Bytes::from_static(b"v"),
        flags: 3,
        index: 9,
    });
    let bytes = encode_command(&cmd);
    assert_eq!(bytes[0], crate::state::COMMAND_VERSION);
    assert_eq!(decode_command(&bytes), Ok(cmd));
    assert_eq!(decode_command(&[]), Err(DecodeError::Truncated));
    assert_eq!(decode_command(&[9, 0]), Err(DecodeError::BadVersion(9)));
}
