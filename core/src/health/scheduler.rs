//! When each check runs, and what its results do: a sans-IO state machine driven with `now`.
//!
//! The driver adds checks, calls [`Scheduler::handle_timeout`] at [`Scheduler::poll_timeout`],
//! runs every [`Action::RunCheck`] it drains from [`Scheduler::poll_action`] and reports the
//! result with [`Scheduler::handle_outcome`]. Status changes come out as actions for the agent
//! to sync to the catalog.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use crate::health::check::{CheckDefinition, CheckKind, MIN_INTERVAL};
use crate::health::status::{Damping, cap_output};
use crate::rand::Rng;
use crate::state::catalog::types::HealthStatus;
use crate::time::Instant;

/// Consul's output when a TTL check was not updated in time.
pub const TTL_EXPIRED_OUTPUT: &str = "TTL expired";

/// What the scheduler asks of its driver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Run this probe now; report the result (critical if `deadline` passes first).
    RunCheck {
        /// Check.
        check_id: String,
        /// The probe (never TTL).
        spec: CheckKind,
        /// When the probe must give up.
        deadline: Instant,
    },
    /// The check's status changed (sync it to the catalog now).
    StatusChanged {
        /// Check.
        check_id: String,
        /// New status.
        status: HealthStatus,
        /// Output that came with it.
        output: String,
    },
    /// Only the output changed (the agent may sync it lazily, like Consul's
    /// `check_update_interval`).
    OutputChanged {
        /// Check.
        check_id: String,
        /// New output.
        output: String,
    },
    /// The check has been critical for its `deregister_critical_service_after`: deregister the
    /// service and its checks.
    DeregisterService {
        /// Service instance.
        service_id: String,
        /// The check that expired it.
        check_id: String,
    },
}

/// A finished probe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Passing, warning or critical.
    pub status: HealthStatus,
    /// What the probe said (capped to the check's `output_max_size`).
    pub output: String,
}

/// Why a TTL update was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TtlError {
    /// No such check.
    UnknownCheck(String),
    /// The check is not a TTL check.
    NotTtl(String),
}

impl core::fmt::Display for TtlError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            TtlError::UnknownCheck(id) => write!(f, "Unknown check ID {id:?}"),
            TtlError::NotTtl(id) => write!(f, "Check {id:?} is not a TTL check"),
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    Run,
    TtlExpiry,
    Reap,
}

#[derive(Clone, Debug)]
struct Tracked {
    def: CheckDefinition,
    status: HealthStatus,
    output: String,
    damping: Damping,
    in_flight: bool,
    timers: BTreeMap<Timer, Instant>,
}

/// Per-check deadlines and status for one agent.
#[derive(Clone, Debug)]
pub struct Scheduler {
    rng: Rng,
    checks: BTreeMap<String, Tracked>,
    timers: BTreeSet<(Instant, String, Timer)>,
    actions: VecDeque<Action>,
}

impl Scheduler {
    /// An empty scheduler; `rng` spreads first runs over their intervals.
    pub fn new(rng: Rng) -> Self {
        Scheduler {
            rng,
            checks: BTreeMap::new(),
            timers: BTreeSet::new(),
            actions: VecDeque::new(),
        }
    }

    /// Starts tracking `def` (replacing a check with the same ID) in its initial status. A
    /// periodic check first runs at a random offset within its interval, so that many checks
    /// added together spread out; a TTL check starts its TTL now.
    pub fn add(&mut self, now: Instant, mut def: CheckDefinition) {
        self.remove(&def.id);
        let id = def.id.clone();
        let first = match &def.kind {
            CheckKind::Ttl { ttl } => (Timer::TtlExpiry, now.saturating_add(*ttl)),
            _ => {
                def.interval = def.interval.max(MIN_INTERVAL);
                let interval_us = u64::try_from(def.interval.as_micros()).unwrap_or(u64::MAX);
                let stagger = self.rng.below(interval_us);
                (
                    Timer::Run,
                    now.saturating_add(Duration::from_micros(stagger)),
                )
            }
        };
        let tracked = Tracked {
            status: def.initial_status,
            output: String::new(),
            damping: Damping::new(
                def.success_before_passing,
                def.failures_before_warning,
                def.failures_before_critical,
            ),
            in_flight: false,
            timers: BTreeMap::new(),
            def,
        };
        let critical = tracked.status == HealthStatus::Critical;
        self.checks.insert(id.clone(), tracked);
        self.set_timer(&id, first.0, first.1);
        if critical {
            self.arm_reaper(now, &id);
        }
    }

    /// Stops tracking `check_id`; false when it was not tracked. A probe in flight for it is
    /// ignored when it reports.
    pub fn remove(&mut self, check_id: &str) -> bool {
        let Some(tracked) = self.checks.remove(check_id) else {
            return false;
        };
        for (timer, at) in tracked.timers {
            self.timers.remove(&(at, check_id.to_owned(), timer));
        }
        true
    }

    /// Current status and output of `check_id`.
    pub fn status(&self, check_id: &str) -> Option<(HealthStatus, &str)> {
        self.checks
            .get(check_id)
            .map(|t| (t.status, t.output.as_str()))
    }

    /// Number of tracked checks.
    pub fn len(&self) -> usize {
        self.checks.len()
    }

    /// Whether no check is tracked.
    pub fn is_empty(&self) -> bool {
        self.checks.is_empty()
    }

    /// When [`Scheduler::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.first().map(|(at, _, _)| *at)
    }

    /// Fires every deadline at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while self.timers.first().is_some_and(|(at, _, _)| *at <= now) {
            // Taken by value: no clone of the check ID per fired timer.
            let Some((at, id, timer)) = self.timers.pop_first() else {
                break;
            };
            if let Some(tracked) = self.checks.get_mut(&id) {
                tracked.timers.remove(&timer);
            }
            match timer {
                Timer::Run => self.run_due(now, at, &id),
                Timer::TtlExpiry => self.expire_ttl(now, &id),
                Timer::Reap => self.reap(&id),
            }
        }
    }

    /// Records a probe's result, through the check's thresholds. Results for unknown checks
    /// (removed while the probe ran) are dropped.
    pub fn handle_outcome(&mut self, now: Instant, check_id: &str, outcome: Outcome) {
        let Some(tracked) = self.checks.get_mut(check_id) else {
            return;
        };
        tracked.in_flight = false;
        if let Some(status) = tracked.damping.observe(outcome.status) {
            self.update(now, check_id, status, &outcome.output);
        }
    }

    /// A TTL report (`/v1/agent/check/pass|warn|fail|update`): restarts the TTL and records the
    /// status through the check's thresholds.
    pub fn ttl_update(
        &mut self,
        now: Instant,
        check_id: &str,
        status: HealthStatus,
        output: &str,
    ) -> Result<(), TtlError> {
        let tracked = self
            .checks
            .get_mut(check_id)
            .ok_or_else(|| TtlError::UnknownCheck(check_id.to_owned()))?;
        let CheckKind::Ttl { ttl } = tracked.def.kind else {
            return Err(TtlError::NotTtl(check_id.to_owned()));
        };
        let applied = tracked.damping.observe(status);
        self.set_timer(check_id, Timer::TtlExpiry, now.saturating_add(ttl));
        if let Some(status) = applied {
            self.update(now, check_id, status, output);
        }
        Ok(())
    }

    /// The next action for the driver.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    fn run_due(&mut self, now: Instant, slot: Instant, id: &str) {
        let Some(tracked) = self.checks.get_mut(id) else {
            return;
        };
        let interval = tracked.def.interval;
        // Stay on the check's own grid (keeps the spread); skip slots already missed.
        let step = u64::try_from(interval.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        let missed = now.as_micros().saturating_sub(slot.as_micros()) / step;
        let next = Instant::from_micros(
            slot.as_micros()
                .saturating_add(step.saturating_mul(missed.saturating_add(1))),
        );
        if !tracked.in_flight {
            tracked.in_flight = true;
            self.actions.push_back(Action::RunCheck {
                check_id: id.to_owned(),
                spec: tracked.def.kind.clone(),
                deadline: now.saturating_add(tracked.def.timeout),
            });
        }
        self.set_timer(id, Timer::Run, next);
    }

    fn expire_ttl(&mut self, now: Instant, id: &str) {
        let Some(tracked) = self.checks.get(id) else {
            return;
        };
        // Expiry is final for the period: no threshold holds it back.
        let output = if tracked.output.is_empty() {
            TTL_EXPIRED_OUTPUT.to_owned()
        } else {
            format!(
                "{TTL_EXPIRED_OUTPUT} (last output before timeout follows): {}",
                tracked.output
            )
        };
        self.update(now, id, HealthStatus::Critical, &output);
    }

    fn reap(&mut self, id: &str) {
        let Some(tracked) = self.checks.get(id) else {
            return;
        };
        if tracked.status == HealthStatus::Critical && !tracked.def.service_id.is_empty() {
            self.actions.push_back(Action::DeregisterService {
                service_id: tracked.def.service_id.clone(),
                check_id: id.to_owned(),
            });
        }
    }

    /// Applies a status that passed the thresholds, emitting what changed.
    fn update(&mut self, now: Instant, id: &str, status: HealthStatus, output: &str) {
        let Some(tracked) = self.checks.get_mut(id) else {
            return;
        };
        let output = cap_output(output, tracked.def.output_max_size);
        let was = tracked.status;
        if was == status && tracked.output == output {
            return;
        }
        tracked.status = status;
        tracked.output = output.clone();
        let check_id = id.to_owned();
        self.actions.push_back(if was == status {
            Action::OutputChanged { check_id, output }
        } else {
            Action::StatusChanged {
                check_id,
                status,
                output,
            }
        });
        match (
            was == HealthStatus::Critical,
            status == HealthStatus::Critical,
        ) {
            (false, true) => self.arm_reaper(now, id),
            (true, false) => self.clear_timer(id, Timer::Reap),
            _ => {}
        }
    }

    /// A service check just turned critical: deregister its service if it stays so.
    fn arm_reaper(&mut self, now: Instant, id: &str) {
        let after = self
            .checks
            .get(id)
            .filter(|t| !t.def.service_id.is_empty())
            .and_then(|t| t.def.deregister_critical_service_after);
        if let Some(after) = after {
            self.set_timer(id, Timer::Reap, now.saturating_add(after));
        }
    }

    fn set_timer(&mut self, id: &str, timer: Timer, at: Instant) {
        self.clear_timer(id, timer);
        if let Some(tracked) = self.checks.get_mut(id) {
            tracked.timers.insert(timer, at);
            self.timers.insert((at, id.to_owned(), timer));
        }
    }

    fn clear_timer(&mut self, id: &str, timer: Timer) {
        if let Some(old) = self
            .checks
            .get_mut(id)
            .and_then(|t| t.timers.remove(&timer))
        {
            self.timers.remove(&(old, id.to_owned(), timer));
        }
    }
}
