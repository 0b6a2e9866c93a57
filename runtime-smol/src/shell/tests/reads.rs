//! Reads outside the loop (stale reads from the published view) and per-target watches
//! through it.

use std::future::Future;
use std::time::Duration as StdDuration;

use async_channel::Receiver;
use bytes::Bytes;
use futures_lite::future;
use synod_core::ids::NodeId;
use synod_core::node::{ClientRequest, ClientResponse, Consistency};
use synod_core::raft::Membership;
use synod_core::state::Query;
use synod_core::state::kv_types::{KvCommand, KvQuery, KvQueryResult};
use synod_core::state::watch::WatchTarget;

use super::{SmolEnv, fast_node, loopback, quiet_log, run_local, test_config};
use crate::shell::{Env, Listener, MemoryDisk, MemoryImage, NodeHandle, Shell, StopReason};

/// One bootstrapped server running on `env`, and where it reports why it stopped.
async fn start_single_server(env: &SmolEnv) -> (NodeHandle, Receiver<StopReason>) {
    let listener = env.listen(loopback()).await.expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let mut node = fast_node(NodeId(1), env);
    node.bootstrap(env.now(), Membership::voters([(NodeId(1), addr)]))
        .expect("fresh node");
    let (disk, durable) = MemoryDisk::new(MemoryImage::new());
    let (shell, handle) = Shell::new(env.clone(), node, disk, durable, test_config(), quiet_log());
    let (stopped_tx, stopped) = async_channel::bounded(1);
    env.spawn(async move {
        let _ = stopped_tx.send(shell.run(listener).await).await;
    });
    (handle, stopped)
}

/// Sets `key` once the server leads; the write's index.
async fn put(handle: &NodeHandle, key: &str, value: &'static str) -> u64 {
    let request = ClientRequest::Write(
        KvCommand::Set {
            key: key.into(),
            value: Bytes::from_static(value.as_bytes()),
            flags: 0,
        }
        .into(),
    );
    loop {
        match handle.request(request.clone()).await {
            ClientResponse::Written { index, .. } => return index.0,
            _ => async_io::Timer::after(StdDuration::from_millis(5)).await,
        };
    }
}

fn get(key: &str) -> Query {
    KvQuery::Get { key: key.into() }.into()
}

fn key(key: &str) -> WatchTarget {
    WatchTarget::Key(key.into())
}

/// Whether `future` completes within `millis`, and with what.
async fn within<T>(millis: u64, future: impl Future<Output = T>) -> Option<T> {
    future::or(async { Some(future.await) }, async {
        async_io::Timer::after(StdDuration::from_millis(millis)).await;
        None
    })
    .await
}

/// Waits until the server reports `parked` watches.
async fn until_parked(handle: &NodeHandle, parked: usize) {
    while handle.status().parked_watches != parked {
        async_io::Timer::after(StdDuration::from_millis(2)).await;
    }
}

#[test]
fn a_watch_completes_when_its_key_changes_and_not_for_other_keys() {
    run_local(async |env: SmolEnv| {
        let (handle, _) = start_single_server(&env).await;
        let seen = put(&handle, "watched", "v1").await;

        let watch = handle.watch(key("watched"), seen);
        let mut watch = Box::pin(watch);
        let others = async {
            until_parked(&handle, 1).await;
            put(&handle, "other", "x").await;
            put(&handle, "watchedx", "x").await;
        };
        // The writes elsewhere land while the watch stays parked.
        assert_eq!(
            within(
                2_000,
                future::or(async { Some(watch.as_mut().await) }, async {
                    others.await;
                    None
                })
            )
            .await,
            Some(None)
        );
        assert_eq!(within(50, watch.as_mut()).await, None);
        assert_eq!(handle.status().parked_watches, 1);

        put(&handle, "watched", "v2").await;
        assert_eq!(within(2_000, watch).await, Some(true));
        assert_eq!(handle.status().parked_watches, 0);
    });
}

#[test]
fn a_watch_on_a_target_already_past_min_index_completes_at_once() {
    run_local(async |env: SmolEnv| {
        let (handle, _) = start_single_server(&env).await;
        let seen = put(&handle, "k", "v1").await;
        put(&handle, "k", "v2").await;
        assert_eq!(
            within(2_000, handle.watch(key("k"), seen)).await,
            Some(true)
        );
        let prefix = WatchTarget::Prefix(String::new());
        assert_eq!(within(2_000, handle.watch(prefix, seen)).await, Some(true));
        assert_eq!(handle.status().parked_watches, 0);
    });
}

#[test]
fn dropping_a_parked_watch_unparks_it() {
    run_local(async |env: SmolEnv| {
        let (handle, _) = start_single_server(&env).await;
        let seen = put(&handle, "k", "v1").await;
        let watch = handle.watch(key("k"), seen);
        assert_eq!(
            within(
                2_000,
                future::or(async { Some(watch.await) }, async {
                    until_parked(&handle, 1).await;
                    None
                })
            )
            .await,
            Some(None)
        );
        // The watch future was dropped by `or` once the other side finished.
        assert_eq!(within(2_000, until_parked(&handle, 0)).await, Some(()));
    });
}

#[test]
fn a_watch_reports_false_once_the_loop_has_stopped() {
    run_local(async |env: SmolEnv| {
        let (handle, stopped) = start_single_server(&env).await;
        let seen = put(&handle, "k", "v1").await;
        let watch = handle.watch(key("k"), seen);
        handle.shutdown();
        assert_eq!(stopped.recv().await, Ok(StopReason::Shutdown));
        assert_eq!(within(2_000, watch).await, Some(false));
    });
}

#[test]
fn stale_reads_answer_from_the_published_view_without_the_loop() {
    run_local(async |env: SmolEnv| {
        let (handle, stopped) = start_single_server(&env).await;
        let index = put(&handle, "k", "v1").await;
        handle.shutdown();
        assert_eq!(stopped.recv().await, Ok(StopReason::Shutdown));

        let stale = ClientRequest::Read {
            query: get("k"),
            consistency: Consistency::Stale,
        };
        let ClientResponse::Read {
            index: read_at,
            result,
        } = handle.request(stale).await
        else {
            panic!("a stale read needs no loop");
        };
        assert_eq!(read_at, index);
        let synod_core::state::QueryResult::Kv(KvQueryResult::Entries(entries)) = result else {
            panic!("a KV get answers entries");
        };
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].value, Bytes::from_static(b"v1"));
        assert_eq!(handle.view().index(), handle.status().applied.0);
    });
}
