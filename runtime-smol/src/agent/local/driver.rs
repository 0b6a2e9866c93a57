//! The one task that owns the agent's [`LocalState`]: it runs agent-API jobs, probes and
//! timeouts, and keeps one catalog sync (partial or full) in flight at a time.

use std::sync::Arc;
use std::time::Duration;

use async_channel::{Receiver, Sender};
use futures_lite::future;
use synod_core::agent::{Action, NodeView, Source};
use synod_core::health::scheduler::Outcome;
use synod_core::time::Instant;

use super::catalog_sync::{read_node_view, write_all};
use super::{Job, Owner, probe};
use crate::http::Backend;
use crate::shell::Env;
use crate::shell::smol_env::SmolEnv;

/// Until a leader is known, syncs are retried this often (plus stagger).
const NO_LEADER_RETRY: Duration = Duration::from_millis(250);
/// After a failed read or write, a full sync runs again this soon (plus stagger).
const FAILED_SYNC_RETRY: Duration = Duration::from_secs(2);
/// Timer wake-ups are rounded up to this grid, so that thousands of spread-out checks are
/// started in batches rather than one wake-up each (a probe starts at most this late).
const WAKE_GRID_MICROS: u64 = 10_000;

/// How a sync in flight ended.
enum SyncEvent {
    /// A full sync read the catalog (or failed to).
    Viewed(Result<NodeView, String>),
    /// A batch of writes finished.
    Written(Result<(), String>),
    /// No leader is known: nothing was tried.
    NoLeader,
}

/// A finished probe: the check and its result.
type ProbeDone = (String, Outcome);

enum Wake {
    Job(Option<Job>),
    Probe(String, Outcome),
    Sync(SyncEvent),
    Deadline,
}

/// `at` rounded up to the wake-up grid.
fn on_grid(at: Instant) -> Instant {
    let micros = at.as_micros();
    let rounded = micros
        .div_ceil(WAKE_GRID_MICROS)
        .saturating_mul(WAKE_GRID_MICROS);
    Instant::from_micros(rounded)
}

pub(super) struct Driver<B> {
    env: SmolEnv,
    backend: Arc<B>,
    owner: Owner,
    jobs: Receiver<Job>,
    probes: (Sender<ProbeDone>, Receiver<ProbeDone>),
    syncs: (Sender<SyncEvent>, Receiver<SyncEvent>),
    syncing: bool,
    full_sync_due: bool,
}

impl<B: Backend> Driver<B> {
    pub(super) fn new(env: SmolEnv, backend: Arc<B>, owner: Owner, jobs: Receiver<Job>) -> Self {
        Driver {
            env,
            backend,
            owner,
            jobs,
            probes: async_channel::unbounded(),
            syncs: async_channel::unbounded(),
            syncing: false,
            full_sync_due: false,
        }
    }

    /// Runs until every [`super::LocalAgent`] handle is gone.
    pub(super) async fn run(mut self) {
        self.owner.now = self.env.now();
        self.owner.restore();
        loop {
            let now = self.env.now();
            self.owner.now = now;
            if self.owner.local.poll_timeout().is_some_and(|at| at <= now) {
                self.owner.local.handle_timeout(now);
            }
            self.drain_actions();
            self.start_sync();
            let deadline = self.owner.local.poll_timeout().map(on_grid);
            let wake = self.next_wake(deadline).await;
            self.owner.now = self.env.now();
            match wake {
                Wake::Job(Some(job)) => job(&mut self.owner),
                Wake::Job(None) => return,
                Wake::Probe(check_id, outcome) => {
                    let now = self.owner.now;
                    self.owner.local.handle_outcome(now, &check_id, outcome);
                    // Take every other finished probe in the same wake-up.
                    while let Ok((check_id, outcome)) = self.probes.1.try_recv() {
                        self.owner.local.handle_outcome(now, &check_id, outcome);
                    }
                }
                Wake::Sync(event) => self.sync_finished(event),
                Wake::Deadline => {}
            }
        }
    }

    async fn next_wake(&self, deadline: Option<Instant>) -> Wake {
        let job = async { Wake::Job(self.jobs.recv().await.ok()) };
        let probe = async {
            match self.probes.1.recv().await {
                Ok((id, outcome)) => Wake::Probe(id, outcome),
                Err(_) => future::pending().await,
            }
        };
        let sync = async {
            match self.syncs.1.recv().await {
                Ok(event) => Wake::Sync(event),
                Err(_) => future::pending().await,
            }
        };
        let timer = async {
            match deadline {
                Some(at) => self.env.sleep_until(at).await,
                None => future::pending().await,
            }
            Wake::Deadline
        };
        future::or(future::or(job, probe), future::or(sync, timer)).await
    }

    fn drain_actions(&mut self) {
        while let Some(action) = self.owner.local.poll_action() {
            match action {
                Action::RunCheck {
                    check_id,
                    spec,
                    deadline,
                } => {
                    let env = self.env.clone();
                    let done = self.probes.0.clone();
                    self.env.spawn(async move {
                        let outcome = probe::run(env, spec, deadline).await;
                        let _ = done.send((check_id, outcome)).await;
                    });
                }
                Action::FullSync => self.full_sync_due = true,
                Action::ServiceReaped {
                    service_id,
                    source,
                    check_ids,
                } => {
                    self.owner.log.info(
                        "agent",
                        format_args!(
                            "removed service {service_id:?}: critical past deregister_critical_service_after"
                        ),
                    );
                    if source == Source::Api {
                        self.owner.forget_service_files(&service_id, &check_ids);
                    }
                }
            }
        }
    }

    /// Starts a full sync if one is due, else writes pending changes, unless a sync is already
    /// in flight.
    fn start_sync(&mut self) {
        if self.syncing {
            return;
        }
        let backend = Arc::clone(&self.backend);
        let events = self.syncs.0.clone();
        if self.full_sync_due {
            self.full_sync_due = false;
            self.syncing = true;
            let node = self.owner.local.node().node.clone();
            self.env.spawn(async move {
                let event = if backend.status().await.known_leader {
                    SyncEvent::Viewed(read_node_view(&*backend, &node).await)
                } else {
                    SyncEvent::NoLeader
                };
                let _ = events.send(event).await;
            });
        } else if self.owner.local.needs_sync() {
            let commands = self.owner.local.take_changes();
            self.write(commands);
        }
    }

    fn write(&mut self, commands: Vec<synod_core::state::catalog::types::CatalogCommand>) {
        if commands.is_empty() {
            self.syncing = false;
            return;
        }
        self.syncing = true;
        let backend = Arc::clone(&self.backend);
        let events = self.syncs.0.clone();
        let env = self.env.clone();
        self.env.spawn(async move {
            // Without a leader the writes would only fail; the full sync this schedules
            // carries them once one is known.
            let event = if backend.status().await.known_leader {
                SyncEvent::Written(write_all(&env, &backend, commands).await)
            } else {
                SyncEvent::NoLeader
            };
            let _ = events.send(event).await;
        });
    }

    fn sync_finished(&mut self, event: SyncEvent) {
        let now = self.owner.now;
        self.syncing = false;
        match event {
            SyncEvent::Viewed(Ok(view)) => {
                let commands = self.owner.local.full_sync(now, &view);
                self.write(commands);
            }
            SyncEvent::Viewed(Err(e)) | SyncEvent::Written(Err(e)) => {
                self.owner
                    .log
                    .warn("agent", format_args!("catalog sync failed: {e}"));
                self.owner.local.sync_failed(now, FAILED_SYNC_RETRY);
            }
            SyncEvent::Written(Ok(())) => {}
            SyncEvent::NoLeader => self.owner.local.sync_failed(now, NO_LEADER_RETRY),
        }
    }
}
