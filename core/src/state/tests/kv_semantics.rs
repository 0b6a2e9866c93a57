use bytes::Bytes;

use super::{apply_all, done, entry, get, kv, set};
use crate::state::State;
use crate::state::kv_types::{KvCommand, KvQuery, KvQueryResult};

fn keys(state: &State, prefix: &str, separator: Option<&str>) -> (Vec<String>, u64) {
    let query = KvQuery::Keys {
        prefix: prefix.into(),
        separator: separator.map(str::to_owned),
    };
    match state.query_kv(&query) {
        (KvQueryResult::Keys(keys), index) => (keys, index),
        other => panic!("Keys answered with {other:?}"),
    }
}

fn list(state: &State, prefix: &str) -> (Vec<String>, u64) {
    match state.query_kv(&KvQuery::List {
        prefix: prefix.into(),
    }) {
        (KvQueryResult::Entries(found), index) => {
            (found.into_iter().map(|e| e.key).collect(), index)
        }
        other => panic!("List answered with {other:?}"),
    }
}

fn acquire(key: &str, value: &str, session: &str) -> crate::state::Command {
    kv(KvCommand::Acquire {
        key: key.into(),
        value: Bytes::copy_from_slice(value.as_bytes()),
        flags: 0,
        session: session.into(),
    })
}

fn release(key: &str, session: &str) -> crate::state::Command {
    kv(KvCommand::Release {
        key: key.into(),
        value: Bytes::new(),
        flags: 0,
        session: session.into(),
    })
}

#[test]
fn empty_store_reports_index_one_never_zero() {
    let state = State::new();
    assert_eq!(get(&state, "missing"), (None, 1));
    assert_eq!(list(&state, ""), (vec![], 1));
    assert_eq!(keys(&state, "a/", Some("/")), (vec![], 1));
}

#[test]
fn set_creates_then_updates_keeping_create_index() {
    let mut state = State::new();
    apply_all(&mut state, &[(3, set("k", "v1")), (5, set("k", "v2"))]);
    assert_eq!(get(&state, "k"), (Some(entry("k", "v2", 3, 5)), 5));
    assert_eq!(state.index(), 5);
}

#[test]
fn cas_zero_writes_only_an_absent_key() {
    let mut state = State::new();
    let cas0 = |v: &str| {
        kv(KvCommand::Cas {
            key: "k".into(),
            value: Bytes::copy_from_slice(v.as_bytes()),
            flags: 7,
            index: 0,
        })
    };
    let results = apply_all(&mut state, &[(2, cas0("a")), (3, cas0("b"))]);
    assert_eq!(results, vec![done(true), done(false)]);
    let mut expected = entry("k", "a", 2, 2);
    expected.flags = 7;
    assert_eq!(get(&state, "k"), (Some(expected), 2));
}

#[test]
fn cas_requires_the_current_modify_index() {
    let mut state = State::new();
    let cas = |index| {
        kv(KvCommand::Cas {
            key: "k".into(),
            value: Bytes::from_static(b"new"),
            flags: 0,
            index,
        })
    };
    let results = apply_all(
        &mut state,
        &[(1, cas(1)), (2, set("k", "old")), (3, cas(1)), (4, cas(2))],
    );
    assert_eq!(
        results,
        vec![done(false), done(true), done(false), done(true)]
    );
    assert_eq!(get(&state, "k"), (Some(entry("k", "new", 2, 4)), 4));
}

#[test]
fn failed_writes_do_not_move_the_table_index() {
    let mut state = State::new();
    let stale_cas = kv(KvCommand::Cas {
        key: "other".into(),
        value: Bytes::new(),
        flags: 0,
        index: 9,
    });
    let missing_delete = kv(KvCommand::Delete { key: "nope".into() });
    apply_all(
        &mut state,
        &[(2, set("k", "v")), (3, stale_cas), (4, missing_delete)],
    );
    assert_eq!(state.kv().table_index(), 2);
    assert_eq!(get(&state, "never"), (None, 2));
    assert_eq!(state.index(), 4);
}

#[test]
fn delete_of_a_missing_key_succeeds() {
    let mut state = State::new();
    let results = apply_all(
        &mut state,
        &[(1, kv(KvCommand::Delete { key: "k".into() }))],
    );
    assert_eq!(results, vec![done(true)]);
}

#[test]
fn delete_cas_deletes_only_at_the_matching_index() {
    let mut state = State::new();
    let delete_cas = |index| {
        kv(KvCommand::DeleteCas {
            key: "k".into(),
            index,
        })
    };
    let results = apply_all(
        &mut state,
        &[
            (2, set("k", "v")),
            (3, delete_cas(0)),
            (4, delete_cas(1)),
            (5, delete_cas(2)),
        ],
    );
    assert_eq!(
        results,
        vec![done(true), done(false), done(false), done(true)]
    );
    assert_eq!(get(&state, "k"), (None, 5));
}

#[test]
fn delete_cas_of_a_missing_key_reports_success_like_consul() {
    let mut state = State::new();
    let cmd = kv(KvCommand::DeleteCas {
        key: "k".into(),
        index: 3,
    });
    assert_eq!(apply_all(&mut state, &[(1, cmd)]), vec![done(true)]);
    assert_eq!(state.kv().table_index(), 0);
}

#[test]
fn deleted_key_reports_its_tombstone_index_not_later_writes() {
    let mut state = State::new();
    apply_all(
        &mut state,
        &[
            (2, set("k", "v")),
            (3, kv(KvCommand::Delete { key: "k".into() })),
            (4, set("other", "v")),
        ],
    );
    assert_eq!(get(&state, "k"), (None, 3));
}

#[test]
fn reaped_tombstone_falls_back_to_the_table_index() {
    let mut state = State::new();
    apply_all(
        &mut state,
        &[
            (2, set("k", "v")),
            (3, kv(KvCommand::Delete { key: "k".into() })),
            (4, set("other", "v")),
            (5, kv(KvCommand::ReapTombstones { up_to_index: 3 })),
        ],
    );
    assert_eq!(state.kv().tombstones().count(), 0);
    assert_eq!(get(&state, "k"), (None, 4));
}

#[test]
fn reap_keeps_tombstones_above_the_bound() {
    let mut state = State::new();
    apply_all(
        &mut state,
        &[
            (1, set("a", "v")),
            (2, set("b", "v")),
            (3, kv(KvCommand::Delete { key: "a".into() })),
            (4, kv(KvCommand::Delete { key: "b".into() })),
            (5, kv(KvCommand::ReapTombstones { up_to_index: 3 })),
        ],
    );
    assert_eq!(state.kv().tombstones().collect::<Vec<_>>(), vec![("b", 4)]);
}

#[test]
fn recreating_a_deleted_key_starts_a_new_create_index() {
    let mut state = State::new();
    apply_all(
        &mut state,
        &[
            (2, set("k", "v")),
            (3, kv(KvCommand::Delete { key: "k".into() })),
            (6, set("k", "again")),
        ],
    );
    assert_eq!(get(&state, "k"), (Some(entry("k", "again", 6, 6)), 6));
    assert_eq!(state.kv().tombstones().count(), 0);
}

#[test]
fn list_matches_string_prefixes_not_paths() {
    let mut state = State::new();
    apply_all(
        &mut state,
        &[
            (1, set("foo", "")),
            (2, set("foobar", "")),
            (3, set("fo", "")),
            (4, set("g", "")),
        ],
    );
    assert_eq!(
        list(&state, "foo"),
        (vec!["foo".into(), "foobar".into()], 2)
    );
}

#[test]
fn prefix_index_counts_tombstones_under_the_prefix() {
    let mut state = State::new();
    apply_all(
        &mut state,
        &[
            (1, set("web/a", "")),
            (2, set("web/b", "")),
            (
                3,
                kv(KvCommand::Delete {
                    key: "web/b".into(),
                }),
            ),
            (4, set("db/x", "")),
        ],
    );
    assert_eq!(list(&state, "web/"), (vec!["web/a".into()], 3));
    assert_eq!(list(&state, "none/"), (vec![], 4));
}

#[test]
fn empty_prefix_reports_the_table_index() {
    let mut state = State::new();
    apply_all(
        &mut state,
        &[
            (1, set("a", "")),
            (2, kv(KvCommand::Delete { key: "a".into() })),
            (3, kv(KvCommand::ReapTombstones { up_to_index: 2 })),
        ],
    );
    assert_eq!(list(&state, ""), (vec![], 2));
}

#[test]
fn delete_tree_removes_every_key_with_the_prefix() {
    let mut state = State::new();
    apply_all(
        &mut state,
        &[
            (1, set("web/a", "")),
            (2, set("web/b/c", "")),
            (3, set("webs", "")),
            (4, set("x", "")),
            (
                5,
                kv(KvCommand::DeleteTree {
                    prefix: "web/".into(),
                }),
            ),
        ],
    );
    assert_eq!(list(&state, ""), (vec!["webs".into(), "x".into()], 5));
    assert_eq!(list(&state, "web/"), (vec![], 5));
    assert_eq!(
        state.kv().tombstones().collect::<Vec<_>>(),
        vec![("web/a", 5), ("web/b/c", 5)]
    );
}

#[test]
fn keys_roll_up_at_the_separator_like_consul() {
    let mut state = State::new();
    let writes: Vec<_> = [
        "web/bar",
        "web/foo",
        "web/subdir/x",
        "web/subdir/y",
        "web2",
        "webz/a",
    ]
    .iter()
    .enumerate()
    .map(|(i, k)| (i as u64 + 1, set(k, "")))
    .collect();
    apply_all(&mut state, &writes);
    assert_eq!(
        keys(&state, "web/", Some("/")).0,
        vec!["web/bar", "web/foo", "web/subdir/"]
    );
    assert_eq!(keys(&state, "", Some("/")).0, vec!["web/", "web2", "webz/"]);
    assert_eq!(keys(&state, "web", None).0.len(), 6);
    assert_eq!(keys(&state, "web", Some("")).0.len(), 6);
}

#[test]
fn acquire_takes_the_lock_and_counts_acquisitions() {
    let mut state = State::new();
    let results = apply_all(
        &mut state,
        &[
            (1, acquire("lock", "a", "s1")),
            (2, acquire("lock", "b", "s1")),
            (3, acquire("lock", "c", "s2")),
        ],
    );
    assert_eq!(results, vec![done(true), done(true), done(false)]);
    let mut expected = entry("lock", "b", 1, 2);
    expected.lock_index = 1;
    expected.session = Some("s1".into());
    assert_eq!(get(&state, "lock"), (Some(expected), 2));
}

#[test]
fn release_frees_the_lock_for_the_next_session() {
    let mut state = State::new();
    let results = apply_all(
        &mut state,
        &[
            (1, acquire("lock", "a", "s1")),
            (2, release("lock", "s2")),
            (3, release("lock", "s1")),
            (4, release("lock", "s1")),
            (5, acquire("lock", "z", "s2")),
        ],
    );
    assert_eq!(
        results,
        vec![done(true), done(false), done(true), done(false), done(true)]
    );
    let mut expected = entry("lock", "z", 1, 5);
    expected.lock_index = 2;
    expected.session = Some("s2".into());
    assert_eq!(get(&state, "lock"), (Some(expected), 5));
}

#[test]
fn plain_set_keeps_the_lock_holder() {
    let mut state = State::new();
    apply_all(
        &mut state,
        &[(1, acquire("lock", "a", "s1")), (2, set("lock", "b"))],
    );
    let (found, _) = get(&state, "lock");
    assert_eq!(found.and_then(|e| e.session), Some("s1".into()));
}
