//! Every kind of write survives a restart, and compaction and snapshot replacement keep exactly
//! what they should.

mod support;

use support::*;
use synod_core::ids::{LogIndex, Term};
use synod_core::raft::{LogWrite, Recovered};
use synod_runtime_smol::storage::{Storage, StorageError, StorageOptions};

#[test]
fn fresh_data_dir_recovers_empty_state() {
    let dir = ScratchDir::new("fresh");
    let (_storage, recovered) = open(&dir);
    assert_eq!(recovered, Recovered::default());
    assert_eq!(segments(&dir).len(), 1);
}

#[test]
fn entries_survive_restart() {
    let dir = ScratchDir::new("entries");
    let (mut storage, _) = open(&dir);
    storage.write(&[append(entries(1..=3, 1))]).unwrap();
    storage.write(&[append(entries(4..=5, 2))]).unwrap();
    drop(storage);
    let (_, recovered) = open(&dir);
    let mut expected = entries(1..=3, 1);
    expected.extend(entries(4..=5, 2));
    assert_eq!(recovered.entries, expected);
}

#[test]
fn hard_state_survives_restart() {
    let dir = ScratchDir::new("hard-state");
    let (mut storage, _) = open(&dir);
    let write = LogWrite {
        entries: entries(1..=2, 3),
        hard_state: Some(hard_state(3, Some(2), 2)),
        ..LogWrite::default()
    };
    storage.write(&[write]).unwrap();
    storage
        .write(&[LogWrite {
            hard_state: Some(hard_state(4, None, 2)),
            ..LogWrite::default()
        }])
        .unwrap();
    drop(storage);
    let (_, recovered) = open(&dir);
    assert_eq!(recovered.hard_state, hard_state(4, None, 2));
    assert_eq!(recovered.entries, entries(1..=2, 3));
}

#[test]
fn appends_continue_after_restart() {
    let dir = ScratchDir::new("continue");
    let (mut storage, _) = open(&dir);
    storage.write(&[append(entries(1..=2, 1))]).unwrap();
    drop(storage);
    let (mut storage, _) = open(&dir);
    storage.write(&[append(entries(3..=4, 1))]).unwrap();
    drop(storage);
    let (_, recovered) = open(&dir);
    assert_eq!(recovered.entries, entries(1..=4, 1));
}

#[test]
fn truncation_marker_replays() {
    let dir = ScratchDir::new("truncate");
    let (mut storage, _) = open(&dir);
    storage.write(&[append(entries(1..=10, 1))]).unwrap();
    storage
        .write(&[LogWrite {
            truncate_from: Some(LogIndex(6)),
            entries: entries(6..=8, 2),
            ..LogWrite::default()
        }])
        .unwrap();
    drop(storage);
    let (_, recovered) = open(&dir);
    let mut expected = entries(1..=5, 1);
    expected.extend(entries(6..=8, 2));
    assert_eq!(recovered.entries, expected);
}

#[test]
fn truncation_without_new_entries_replays() {
    let dir = ScratchDir::new("truncate-only");
    let (mut storage, _) = open(&dir);
    storage.write(&[append(entries(1..=10, 1))]).unwrap();
    storage
        .write(&[LogWrite {
            truncate_from: Some(LogIndex(4)),
            ..LogWrite::default()
        }])
        .unwrap();
    drop(storage);
    let (_, recovered) = open(&dir);
    assert_eq!(recovered.entries, entries(1..=3, 1));
}

#[test]
fn truncation_reaching_into_earlier_segments_replays_in_write_order() {
    let dir = ScratchDir::new("truncate-segments");
    let (mut storage, _) = open_with_segment_bytes(&dir, 100);
    for i in 1..=12 {
        storage.write(&[append(entries(i..=i, 1))]).unwrap();
    }
    storage
        .write(&[LogWrite {
            truncate_from: Some(LogIndex(3)),
            entries: entries(3..=3, 2),
            ..LogWrite::default()
        }])
        .unwrap();
    for i in 4..=6 {
        storage.write(&[append(entries(i..=i, 2))]).unwrap();
    }
    drop(storage);
    let segments = segments(&dir);
    assert!(segments.len() > 3);
    // Rolled segments give back their reserved space and end exactly at their last record.
    for sealed in &segments[..segments.len() - 1] {
        let len = std::fs::metadata(sealed).unwrap().len() as usize;
        assert_eq!(len, data_len(sealed), "{}", sealed.display());
    }
    let (_, recovered) = open_with_segment_bytes(&dir, 100);
    let mut expected = entries(1..=2, 1);
    expected.extend(entries(3..=6, 2));
    assert_eq!(recovered.entries, expected);
}

#[test]
fn batch_of_writes_costs_one_fdatasync() {
    let dir = ScratchDir::new("one-sync");
    let (mut storage, _) = open(&dir);
    let before = storage.stats();
    let batch: Vec<LogWrite> = (1..=50).map(|i| append(entries(i..=i, 1))).collect();
    storage.write(&batch).unwrap();
    let after = storage.stats();
    assert_eq!(after.fsyncs - before.fsyncs, 1);
    assert_eq!(after.writes - before.writes, 50);
    assert_eq!(after.batches - before.batches, 1);
}

#[test]
fn empty_writes_touch_nothing() {
    let dir = ScratchDir::new("empty");
    let (mut storage, _) = open(&dir);
    let before = storage.stats();
    storage.write(&[LogWrite::default()]).unwrap();
    storage.write(&[]).unwrap();
    assert_eq!(storage.stats(), before);
}

#[test]
fn snapshot_survives_restart_and_covered_entries_are_dropped() {
    let dir = ScratchDir::new("snapshot");
    let (mut storage, _) = open(&dir);
    storage.write(&[append(entries(1..=10, 1))]).unwrap();
    storage
        .write(&[LogWrite {
            snapshot: Some(snapshot(6, 1)),
            ..LogWrite::default()
        }])
        .unwrap();
    drop(storage);
    let (_, recovered) = open(&dir);
    assert_eq!(recovered.snapshot, Some(snapshot(6, 1)));
    assert_eq!(recovered.entries, entries(7..=10, 1));
}

#[test]
fn new_snapshot_replaces_the_old_one() {
    let dir = ScratchDir::new("snapshot-replace");
    let (mut storage, _) = open(&dir);
    storage.write(&[append(entries(1..=10, 1))]).unwrap();
    for index in [3, 8] {
        storage
            .write(&[LogWrite {
                snapshot: Some(snapshot(index, 1)),
                ..LogWrite::default()
            }])
            .unwrap();
    }
    let names: Vec<_> = snapshot_files(&dir)
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        vec!["snapshot-00000000000000000008-00000000000000000001.snap"]
    );
    drop(storage);
    let (_, recovered) = open(&dir);
    assert_eq!(recovered.snapshot, Some(snapshot(8, 1)));
    assert_eq!(recovered.entries, entries(9..=10, 1));
}

#[test]
fn leftover_snapshot_temp_file_is_ignored_and_removed() {
    let dir = ScratchDir::new("snapshot-temp");
    let (mut storage, _) = open(&dir);
    storage
        .write(&[LogWrite {
            entries: entries(1..=4, 1),
            snapshot: Some(snapshot(2, 1)),
            ..LogWrite::default()
        }])
        .unwrap();
    drop(storage);
    let temp = dir
        .raft()
        .join("snapshot-00000000000000000004-00000000000000000001.snap.tmp");
    std::fs::write(&temp, b"half-written snapshot").unwrap();
    let (_, recovered) = open(&dir);
    assert_eq!(recovered.snapshot, Some(snapshot(2, 1)));
    assert_eq!(recovered.entries, entries(3..=4, 1));
    assert!(!temp.exists());
}

#[test]
fn follower_snapshot_install_beyond_its_log_replaces_the_log() {
    let dir = ScratchDir::new("install");
    let (mut storage, _) = open(&dir);
    storage.write(&[append(entries(1..=5, 1))]).unwrap();
    storage
        .write(&[LogWrite {
            snapshot: Some(snapshot(20, 3)),
            truncate_from: Some(LogIndex(1)),
            entries: entries(21..=22, 3),
            hard_state: Some(hard_state(3, None, 20)),
            compact_through: Some(LogIndex(20)),
        }])
        .unwrap();
    drop(storage);
    let (_, recovered) = open(&dir);
    assert_eq!(recovered.snapshot, Some(snapshot(20, 3)));
    assert_eq!(recovered.entries, entries(21..=22, 3));
    assert_eq!(recovered.hard_state, hard_state(3, None, 20));
}

#[test]
fn compaction_removes_segments_covered_by_the_snapshot() {
    let dir = ScratchDir::new("compact");
    let (mut storage, _) = open_with_segment_bytes(&dir, 128);
    for i in 1..=40 {
        storage.write(&[append(entries(i..=i, 1))]).unwrap();
    }
    let before = segments(&dir).len();
    assert!(before >= 8, "{before} segments");
    storage
        .write(&[LogWrite {
            snapshot: Some(snapshot(30, 1)),
            compact_through: Some(LogIndex(30)),
            ..LogWrite::default()
        }])
        .unwrap();
    let after = segments(&dir);
    assert!(after.len() < before / 2, "{} of {before} left", after.len());
    drop(storage);
    let (_, recovered) = open_with_segment_bytes(&dir, 128);
    assert_eq!(recovered.snapshot, Some(snapshot(30, 1)));
    assert_eq!(recovered.entries, entries(31..=40, 1));
}

#[test]
fn compaction_never_passes_the_durable_snapshot() {
    let dir = ScratchDir::new("compact-clamp");
    let (mut storage, _) = open_with_segment_bytes(&dir, 128);
    for i in 1..=20 {
        storage.write(&[append(entries(i..=i, 1))]).unwrap();
    }
    storage
        .write(&[LogWrite {
            compact_through: Some(LogIndex(20)),
            ..LogWrite::default()
        }])
        .unwrap();
    drop(storage);
    let (_, recovered) = open_with_segment_bytes(&dir, 128);
    assert_eq!(recovered.entries, entries(1..=20, 1));
}

#[test]
fn hard_state_survives_compaction_of_the_segment_it_was_written_in() {
    let dir = ScratchDir::new("compact-hard-state");
    let (mut storage, _) = open_with_segment_bytes(&dir, 128);
    storage
        .write(&[LogWrite {
            entries: entries(1..=1, 5),
            hard_state: Some(hard_state(5, Some(3), 1)),
            ..LogWrite::default()
        }])
        .unwrap();
    for i in 2..=20 {
        storage.write(&[append(entries(i..=i, 5))]).unwrap();
    }
    storage
        .write(&[LogWrite {
            snapshot: Some(snapshot(19, 5)),
            compact_through: Some(LogIndex(19)),
            ..LogWrite::default()
        }])
        .unwrap();
    drop(storage);
    let (_, recovered) = open_with_segment_bytes(&dir, 128);
    assert_eq!(recovered.hard_state, hard_state(5, Some(3), 1));
    assert_eq!(recovered.entries, entries(20..=20, 5));
    assert_eq!(recovered.snapshot.map(|s| s.meta.last_term), Some(Term(5)));
}

#[test]
fn second_open_of_a_data_dir_in_use_is_refused() {
    let dir = ScratchDir::new("locked");
    let (_storage, _) = open(&dir);
    let second = Storage::open(dir.path(), StorageOptions::default());
    assert!(matches!(second, Err(StorageError::Locked(_))));
}
