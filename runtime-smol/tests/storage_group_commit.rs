//! The group committer: tokens come back in order once durable, queued writes share fsyncs,
//! and a stopped committer refuses work.

mod support;

use std::sync::{Arc, Mutex};

use support::*;
use synod_core::ids::IoToken;
use synod_runtime_smol::storage::{GroupCommitter, StorageError};

#[test]
fn tokens_are_reported_in_submission_order_after_the_writes_are_durable() {
    let dir = ScratchDir::new("gc-order");
    let (storage, _) = open(&dir);
    let (done, reported) = async_channel::unbounded();
    let committer = GroupCommitter::spawn_with_channel(storage, done).unwrap();
    for i in 1..=100 {
        committer
            .submit(IoToken(i), append(entries(i..=i, 1)))
            .unwrap();
    }
    let tokens: Vec<u64> = (0..100)
        .map(|_| reported.recv_blocking().unwrap().0)
        .collect();
    assert_eq!(tokens, (1..=100).collect::<Vec<_>>());
    let storage = committer.shutdown().unwrap();
    assert_eq!(storage.stats().writes, 100);
    drop(storage);
    let (_, recovered) = open(&dir);
    assert_eq!(recovered.entries, entries(1..=100, 1));
}

#[test]
fn writes_queued_during_an_fsync_share_the_next_one() {
    let dir = ScratchDir::new("gc-batch");
    let (storage, _) = open(&dir);
    let reported = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&reported);
    let committer = GroupCommitter::spawn(storage, move |tokens| {
        sink.lock().unwrap().extend_from_slice(tokens);
    })
    .unwrap();
    for i in 1..=500 {
        committer
            .submit(IoToken(i), append(entries(i..=i, 1)))
            .unwrap();
    }
    let storage = committer.shutdown().unwrap();
    assert_eq!(reported.lock().unwrap().len(), 500);
    let stats = storage.stats();
    assert_eq!(stats.writes, 500);
    assert!(stats.batches < 500, "{stats:?}");
    assert_eq!(stats.fsyncs, stats.batches + 1, "{stats:?}");
}

#[test]
fn failed_write_stops_the_committer_and_surfaces_the_error() {
    let dir = ScratchDir::new("gc-fail");
    let (storage, _) = open(&dir);
    let (done, reported) = async_channel::unbounded();
    let committer = GroupCommitter::spawn_with_channel(storage, done).unwrap();
    // An entry too large for one record makes the write fail.
    let mut huge = entry(1, 1);
    huge.payload = synod_core::raft::EntryPayload::Command(vec![0; 65 << 20].into());
    committer.submit(IoToken(1), append(vec![huge])).unwrap();
    assert!(
        reported.recv_blocking().is_err(),
        "channel closes, no token"
    );
    assert!(matches!(
        committer.submit(IoToken(2), append(entries(1..=1, 1))),
        Err(StorageError::Stopped)
    ));
    assert!(matches!(committer.shutdown(), Err(StorageError::Encode(_))));
}
