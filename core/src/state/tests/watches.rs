use super::{apply_all, kv, set};
use crate::state::kv_types::KvCommand;
use crate::state::watch::{WatchId, WatchTarget};
use crate::state::{State, WatchStatus};

fn key(k: &str) -> WatchTarget {
    WatchTarget::Key(k.into())
}

fn prefix(p: &str) -> WatchTarget {
    WatchTarget::Prefix(p.into())
}

/// A state with `web/a` at index 1 and `db` at index 2.
fn seeded() -> State {
    let mut state = State::new();
    apply_all(&mut state, &[(1, set("web/a", "")), (2, set("db", ""))]);
    state
}

#[test]
fn key_watch_wakes_only_for_its_key() {
    let mut state = seeded();
    assert_eq!(
        state.watch(WatchId(1), key("web/a"), 1),
        WatchStatus::Parked
    );
    state.apply(3, &set("web/b", ""));
    state.apply(4, &set("db", "x"));
    assert_eq!(state.take_woken(), vec![]);
    state.apply(5, &set("web/a", "x"));
    assert_eq!(state.take_woken(), vec![WatchId(1)]);
    assert_eq!(state.parked_watches(), 0);
}

#[test]
fn prefix_watch_wakes_for_keys_under_it_only() {
    let mut state = seeded();
    assert_eq!(
        state.watch(WatchId(1), prefix("web/"), 1),
        WatchStatus::Parked
    );
    state.apply(3, &set("web", ""));
    state.apply(4, &set("wec", ""));
    assert_eq!(state.take_woken(), vec![]);
    state.apply(5, &set("web/deep/er", ""));
    assert_eq!(state.take_woken(), vec![WatchId(1)]);
}

#[test]
fn watch_on_a_missing_key_wakes_when_it_is_created() {
    let mut state = seeded();
    let (_, seen) = super::get(&state, "new");
    assert_eq!(
        state.watch(WatchId(7), key("new"), seen),
        WatchStatus::Parked
    );
    state.apply(3, &set("unrelated", ""));
    assert_eq!(state.take_woken(), vec![]);
    state.apply(4, &set("new", ""));
    assert_eq!(state.take_woken(), vec![WatchId(7)]);
}

#[test]
fn watch_on_a_deleted_key_wakes_only_when_it_is_recreated() {
    let mut state = seeded();
    state.apply(3, &kv(KvCommand::Delete { key: "db".into() }));
    let (_, seen) = super::get(&state, "db");
    assert_eq!(seen, 3);
    assert_eq!(
        state.watch(WatchId(1), key("db"), seen),
        WatchStatus::Parked
    );
    state.apply(4, &set("web/a", "x"));
    assert_eq!(state.take_woken(), vec![]);
    state.apply(5, &set("db", "back"));
    assert_eq!(state.take_woken(), vec![WatchId(1)]);
}

#[test]
fn watch_behind_the_current_index_is_not_parked() {
    let mut state = seeded();
    assert_eq!(
        state.watch(WatchId(1), key("db"), 1),
        WatchStatus::AlreadyChanged
    );
    assert_eq!(state.parked_watches(), 0);
}

#[test]
fn failed_cas_and_missing_deletes_wake_nobody() {
    let mut state = seeded();
    state.watch(WatchId(1), key("db"), 2);
    state.watch(WatchId(2), key("ghost"), 2);
    let stale_cas = kv(KvCommand::Cas {
        key: "db".into(),
        value: bytes::Bytes::new(),
        flags: 0,
        index: 1,
    });
    state.apply(3, &stale_cas);
    state.apply(
        4,
        &kv(KvCommand::Delete {
            key: "ghost".into(),
        }),
    );
    assert_eq!(state.take_woken(), vec![]);
    assert_eq!(state.parked_watches(), 2);
}

#[test]
fn delete_tree_wakes_watches_of_every_deleted_key_in_id_order() {
    let mut state = seeded();
    state.apply(3, &set("web/b", ""));
    state.watch(WatchId(9), key("web/b"), 3);
    state.watch(WatchId(4), prefix("web/a"), 3);
    state.watch(WatchId(5), key("db"), 3);
    state.watch(WatchId(6), prefix(""), 3);
    state.apply(
        4,
        &kv(KvCommand::DeleteTree {
            prefix: "web/".into(),
        }),
    );
    assert_eq!(state.take_woken(), vec![WatchId(4), WatchId(6), WatchId(9)]);
    assert_eq!(state.parked_watches(), 1);
}

#[test]
fn watch_waiting_for_a_future_index_ignores_earlier_changes() {
    let mut state = seeded();
    state.watch(WatchId(1), key("db"), 10);
    state.apply(3, &set("db", "x"));
    assert_eq!(state.take_woken(), vec![]);
    state.apply(11, &set("db", "y"));
    assert_eq!(state.take_woken(), vec![WatchId(1)]);
}

#[test]
fn cancelled_watch_never_wakes() {
    let mut state = seeded();
    state.watch(WatchId(1), key("db"), 2);
    assert!(state.cancel_watch(WatchId(1)));
    assert!(!state.cancel_watch(WatchId(1)));
    state.apply(3, &set("db", "x"));
    assert_eq!(state.take_woken(), vec![]);
}

#[test]
fn reregistering_an_id_replaces_its_target() {
    let mut state = seeded();
    state.watch(WatchId(1), key("db"), 2);
    state.watch(WatchId(1), key("web/a"), 2);
    state.apply(3, &set("db", "x"));
    assert_eq!(state.take_woken(), vec![]);
    state.apply(4, &set("web/a", "x"));
    assert_eq!(state.take_woken(), vec![WatchId(1)]);
}

#[test]
fn watches_survive_neither_snapshot_nor_restore() {
    let mut state = seeded();
    state.watch(WatchId(1), key("db"), 2);
    let restored = State::restore(&state.snapshot()).expect("own snapshot");
    assert_eq!(restored.parked_watches(), 0);
}

#[test]
fn installing_a_snapshot_keeps_the_registry_and_wakes_every_parked_watch() {
    let mut state = seeded();
    state.watch(WatchId(1), key("web/a"), 1);
    state.watch(WatchId(2), prefix("zzz/"), 2);
    let mut leader = seeded();
    leader.apply(3, &set("web/a", "new"));
    let restored = State::restore(&leader.snapshot()).expect("own snapshot");

    state.install(restored);

    assert_eq!(state.index(), 3);
    assert_eq!(state.take_woken(), vec![WatchId(1), WatchId(2)]);
    assert_eq!(state.parked_watches(), 0);
    assert_eq!(
        state.watch(WatchId(3), key("web/a"), 3),
        WatchStatus::Parked
    );
}
