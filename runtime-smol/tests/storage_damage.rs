//! Damaged files: a torn tail is cut off and everything before it kept; damage before the tail,
//! or a lost snapshot the WAL cannot replace, refuses to start with a message naming the cause.

mod support;

use std::path::Path;

use support::*;
use synod_core::ids::LogIndex;
use synod_core::raft::LogWrite;
use synod_runtime_smol::storage::{Storage, StorageError, StorageOptions};

/// A data dir whose single segment holds a hard-state header then entries 1..=5, one record
/// each.
fn five_entries(test: &str) -> (ScratchDir, std::path::PathBuf) {
    let dir = ScratchDir::new(test);
    let (mut storage, _) = open(&dir);
    for i in 1..=5 {
        storage.write(&[append(entries(i..=i, 1))]).unwrap();
    }
    drop(storage);
    let segment = segments(&dir).remove(0);
    assert_eq!(record_offsets(&segment).len(), 6);
    (dir, segment)
}

fn open_err(dir: &ScratchDir) -> StorageError {
    match Storage::open(dir.path(), StorageOptions::default()) {
        Ok((_, recovered)) => panic!("opened despite damage: {recovered:?}"),
        Err(e) => e,
    }
}

fn flip_bit(path: &Path, offset: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[offset] ^= 0x04;
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn torn_last_record_at_every_byte_keeps_all_earlier_records() {
    let (dir, segment) = five_entries("torn");
    let last = *record_offsets(&segment).last().unwrap();
    let full_len = data_len(&segment);
    for cut in last..full_len {
        let copy = dir.copy("torn-cut");
        let copied_segment = copy.raft().join(segment.file_name().unwrap());
        let bytes = std::fs::read(&copied_segment).unwrap();
        std::fs::write(&copied_segment, &bytes[..cut]).unwrap();
        let (storage, recovered) = open(&copy);
        assert_eq!(recovered.entries, entries(1..=4, 1), "cut at {cut}");
        let expected_tail = (cut > last).then_some((last as u64, (cut - last) as u64));
        assert_eq!(
            storage.torn_tail().map(|t| (t.offset, t.dropped_bytes)),
            expected_tail,
            "cut at {cut}"
        );
        assert_eq!(data_len(&copied_segment), last);
    }
}

#[test]
fn writes_after_a_torn_tail_survive_the_next_restart() {
    let (dir, segment) = five_entries("torn-then-write");
    let bytes = std::fs::read(&segment).unwrap();
    std::fs::write(&segment, &bytes[..data_len(&segment) - 3]).unwrap();
    let (mut storage, recovered) = open(&dir);
    assert_eq!(indexes(&recovered.entries), vec![1, 2, 3, 4]);
    storage.write(&[append(entries(5..=6, 2))]).unwrap();
    drop(storage);
    let (storage, recovered) = open(&dir);
    let mut expected = entries(1..=4, 1);
    expected.extend(entries(5..=6, 2));
    assert_eq!(recovered.entries, expected);
    assert_eq!(storage.torn_tail(), None);
}

#[test]
fn torn_record_inside_preallocated_space_is_a_torn_tail() {
    let (dir, segment) = five_entries("torn-in-reserve");
    let last = *record_offsets(&segment).last().unwrap();
    let end = data_len(&segment);
    let mut bytes = std::fs::read(&segment).unwrap();
    // The write reached the disk only partly: the record's tail reads as the reserved zeros.
    bytes[last + (end - last) / 2..end].fill(0);
    bytes.resize(end + (1 << 16), 0);
    std::fs::write(&segment, bytes).unwrap();
    let (storage, recovered) = open(&dir);
    assert_eq!(recovered.entries, entries(1..=4, 1));
    assert_eq!(storage.torn_tail().map(|t| t.offset), Some(last as u64));
}

#[test]
fn zeros_after_the_last_record_are_reserved_space_not_damage() {
    let (dir, segment) = five_entries("zero-tail");
    let mut bytes = std::fs::read(&segment).unwrap();
    bytes.truncate(data_len(&segment));
    bytes.resize(bytes.len() + 8192, 0);
    std::fs::write(&segment, bytes).unwrap();
    let (mut storage, recovered) = open(&dir);
    assert_eq!(recovered.entries, entries(1..=5, 1));
    assert_eq!(storage.torn_tail(), None);
    // Appends go right after the last record, over the zeros.
    storage.write(&[append(entries(6..=6, 1))]).unwrap();
    drop(storage);
    let (_, recovered) = open(&dir);
    assert_eq!(recovered.entries, entries(1..=6, 1));
}

#[test]
fn bit_flip_in_a_middle_record_refuses_to_start_naming_file_and_offset() {
    let (dir, segment) = five_entries("flip-middle");
    let offsets = record_offsets(&segment);
    let third_entry = offsets[3];
    flip_bit(&segment, third_entry + 12);
    let damaged = std::fs::read(&segment).unwrap();
    let err = open_err(&dir);
    assert!(
        matches!(&err, StorageError::CorruptRecord { path, offset, .. }
            if *path == segment && *offset == third_entry as u64),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "corrupt WAL record in {} at offset {third_entry}: checksum mismatch",
            segment.display()
        )
    );
    // Refusing must not have repaired anything.
    assert_eq!(std::fs::read(&segment).unwrap(), damaged);
}

#[test]
fn bit_flip_in_a_length_field_before_the_tail_refuses_to_start() {
    let (dir, segment) = five_entries("flip-length");
    let offsets = record_offsets(&segment);
    flip_bit(&segment, offsets[2]);
    let err = open_err(&dir);
    assert!(
        matches!(&err, StorageError::CorruptRecord { offset, .. } if *offset == offsets[2] as u64),
        "{err:?}"
    );
}

#[test]
fn bit_flip_in_the_last_record_is_a_torn_tail() {
    let (dir, segment) = five_entries("flip-last");
    let last = *record_offsets(&segment).last().unwrap();
    flip_bit(&segment, last + 10);
    let (storage, recovered) = open(&dir);
    assert_eq!(recovered.entries, entries(1..=4, 1));
    assert_eq!(storage.torn_tail().map(|t| t.offset), Some(last as u64));
}

#[test]
fn incomplete_record_in_an_earlier_segment_refuses_to_start() {
    let dir = ScratchDir::new("torn-earlier");
    let (mut storage, _) = open_with_segment_bytes(&dir, 100);
    for i in 1..=10 {
        storage.write(&[append(entries(i..=i, 1))]).unwrap();
    }
    drop(storage);
    let first = segments(&dir).remove(0);
    let bytes = std::fs::read(&first).unwrap();
    std::fs::write(&first, &bytes[..bytes.len() - 1]).unwrap();
    let err = open_err(&dir);
    assert!(
        matches!(&err, StorageError::CorruptRecord { path, .. } if *path == first),
        "{err:?}"
    );
}

/// Entries 1..=10, a snapshot at 4 and then one at 8, the older kept as if the crash came
/// before its deletion. `compact` says whether the WAL segments before 8 were deleted.
fn two_snapshots(test: &str, compact: bool) -> ScratchDir {
    let dir = ScratchDir::new(test);
    let (mut storage, _) = open_with_segment_bytes(&dir, 100);
    for i in 1..=10 {
        storage.write(&[append(entries(i..=i, 1))]).unwrap();
    }
    let snap = |index| LogWrite {
        snapshot: Some(snapshot(index, 1)),
        compact_through: compact.then_some(LogIndex(index)),
        ..LogWrite::default()
    };
    storage.write(&[snap(4)]).unwrap();
    let older = snapshot_files(&dir).remove(0);
    let kept = std::fs::read(&older).unwrap();
    storage.write(&[snap(8)]).unwrap();
    drop(storage);
    std::fs::write(&older, kept).unwrap();
    dir
}

#[test]
fn garbled_snapshot_falls_back_to_an_older_one_when_the_wal_covers_the_gap() {
    let dir = two_snapshots("snap-fallback", false);
    let newest = snapshot_files(&dir).pop().unwrap();
    flip_bit(&newest, 30);
    let (_, recovered) = open_with_segment_bytes(&dir, 100);
    assert_eq!(recovered.snapshot, Some(snapshot(4, 1)));
    assert_eq!(recovered.entries, entries(5..=10, 1));
}

#[test]
fn garbled_snapshot_refuses_to_start_when_the_wal_no_longer_covers_it() {
    let dir = two_snapshots("snap-no-cover", true);
    let newest = snapshot_files(&dir).pop().unwrap();
    flip_bit(&newest, 30);
    let err = open_err(&dir);
    let message = err.to_string();
    assert!(
        matches!(err, StorageError::Unrecoverable(_))
            && message.contains(&newest.display().to_string()),
        "{message}"
    );
}

#[test]
fn missing_snapshot_with_compacted_wal_refuses_to_start() {
    let dir = ScratchDir::new("snap-missing");
    let (mut storage, _) = open_with_segment_bytes(&dir, 100);
    for i in 1..=10 {
        storage.write(&[append(entries(i..=i, 1))]).unwrap();
    }
    storage
        .write(&[LogWrite {
            snapshot: Some(snapshot(8, 1)),
            compact_through: Some(LogIndex(8)),
            ..LogWrite::default()
        }])
        .unwrap();
    drop(storage);
    std::fs::remove_file(snapshot_files(&dir).remove(0)).unwrap();
    let err = open_err(&dir);
    assert!(matches!(err, StorageError::Unrecoverable(_)), "{err}");
    assert!(err.to_string().contains("missing entry 1"), "{err}");
}

#[test]
fn commit_index_beyond_the_log_refuses_to_start() {
    let dir = ScratchDir::new("commit-beyond");
    let (mut storage, _) = open(&dir);
    storage
        .write(&[LogWrite {
            entries: entries(1..=3, 1),
            hard_state: Some(hard_state(1, None, 3)),
            ..LogWrite::default()
        }])
        .unwrap();
    storage
        .write(&[LogWrite {
            truncate_from: Some(LogIndex(3)),
            ..LogWrite::default()
        }])
        .unwrap();
    drop(storage);
    let err = open_err(&dir);
    assert!(err.to_string().contains("committed"), "{err}");
}

#[test]
fn hole_in_the_unsynced_last_batch_is_a_torn_tail_even_with_its_records_after_it() {
    let dir = ScratchDir::new("hole-last-batch");
    let (mut storage, _) = open(&dir);
    storage.write(&[append(entries(1..=2, 1))]).unwrap();
    storage.write(&[append(entries(3..=8, 1))]).unwrap();
    drop(storage);
    let segment = segments(&dir).remove(0);
    let offsets = record_offsets(&segment);
    // Header, 1, 2, then the last batch: 3..=8. Zero entry 5, as if its page never reached disk.
    let (hole_start, hole_end) = (offsets[5], offsets[6]);
    let mut bytes = std::fs::read(&segment).unwrap();
    bytes[hole_start..hole_end].fill(0);
    std::fs::write(&segment, bytes).unwrap();
    let (storage, recovered) = open(&dir);
    assert_eq!(recovered.entries, entries(1..=4, 1));
    assert_eq!(
        storage.torn_tail().map(|t| t.offset),
        Some(hole_start as u64)
    );
}

#[test]
fn bit_flip_in_a_synced_batch_followed_by_a_later_batch_refuses_to_start() {
    let dir = ScratchDir::new("flip-synced-batch");
    let (mut storage, _) = open(&dir);
    storage.write(&[append(entries(1..=4, 1))]).unwrap();
    storage.write(&[append(entries(5..=5, 1))]).unwrap();
    drop(storage);
    let segment = segments(&dir).remove(0);
    let offsets = record_offsets(&segment);
    flip_bit(&segment, offsets[2] + 12);
    let err = open_err(&dir);
    assert!(
        matches!(&err, StorageError::CorruptRecord { offset, .. } if *offset == offsets[2] as u64),
        "{err:?}"
    );
}
