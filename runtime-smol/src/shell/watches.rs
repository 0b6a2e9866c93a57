//! Blocking-query watches routed through the loop: a handle registers a watch on one target
//! (a KV key or prefix, a catalog table, node or service) in the node's watch registry, and the
//! loop completes it only when an applied entry changes that target, so an unrelated write wakes
//! nothing. A watch whose future is dropped (the client went away) is unparked.

use std::collections::BTreeMap;

use async_channel::{Receiver, Sender};
use synod_core::node::Node;
use synod_core::state::WatchStatus;
use synod_core::state::watch::{WatchId, WatchTarget};

use super::handle::Command;

/// The loop's side: where to signal each parked watch.
#[derive(Debug, Default)]
pub(crate) struct Watchers {
    parked: BTreeMap<WatchId, Sender<()>>,
}

impl Watchers {
    /// Parks `id` in `node`'s registry, or signals it at once when its target already moved
    /// past `min_index`. A watch whose future is already gone is not parked at all (its cancel
    /// may have overtaken the registration).
    pub(crate) fn register(
        &mut self,
        node: &mut Node,
        id: WatchId,
        target: WatchTarget,
        min_index: u64,
        wake: Sender<()>,
    ) {
        if wake.is_closed() {
            return;
        }
        match node.watch(id, target, min_index) {
            WatchStatus::AlreadyChanged => {
                let _ = wake.try_send(());
            }
            WatchStatus::Parked => {
                self.parked.insert(id, wake);
            }
        }
    }

    /// Unparks `id` (its client went away).
    pub(crate) fn cancel(&mut self, node: &mut Node, id: WatchId) {
        if self.parked.remove(&id).is_some() {
            node.cancel_watch(id);
        }
    }

    /// Signals every watch the entries applied since the last call woke.
    pub(crate) fn wake_changed(&mut self, node: &mut Node) {
        for id in node.take_woken() {
            if let Some(wake) = self.parked.remove(&id) {
                // The client may have gone; its cancel is on the way.
                let _ = wake.try_send(());
            }
        }
    }
}

/// Registers a watch through `commands` and completes once its target changed past
/// `min_index` (true), or once the loop stopped (false). Dropping it before then sends `id` on
/// `cancels` so the loop unparks it.
pub(crate) async fn watch(
    commands: Sender<Command>,
    cancels: Sender<WatchId>,
    id: WatchId,
    target: WatchTarget,
    min_index: u64,
) -> bool {
    let (wake, woken): (Sender<()>, Receiver<()>) = async_channel::bounded(1);
    let mut guard = CancelOnDrop {
        id,
        cancels: Some(cancels),
    };
    let registered = commands
        .send(Command::Watch {
            id,
            target,
            min_index,
            wake,
        })
        .await
        .is_ok();
    // Completed either way: the loop has forgotten this watch (or never saw it).
    let fired = registered && woken.recv().await.is_ok();
    guard.cancels = None;
    fired
}

/// Tells the loop to unpark a watch whose future was dropped while parked.
struct CancelOnDrop {
    id: WatchId,
    cancels: Option<Sender<WatchId>>,
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(cancels) = self.cancels.take() {
            // Unbounded; fails only when the loop has stopped, and then nothing is parked.
            let _ = cancels.try_send(self.id);
        }
    }
}
