//! What the leader knows about each follower's log and how it replicates to it.

use std::collections::VecDeque;

use crate::ids::LogIndex;
use crate::raft::Snapshot;
use crate::time::Instant;

/// How the leader currently feeds one follower.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ReplicationState {
    /// Unsure where the logs diverge: one append at a time, waiting for the answer.
    Probe {
        /// An append is outstanding; wait for its answer or the next heartbeat.
        paused: bool,
    },
    /// Logs match through `match_index`: pipeline appends, advancing `next_index` optimistically.
    Replicate,
    /// The follower needs entries already compacted: stream the snapshot chunk by chunk.
    Snapshot {
        /// The snapshot being sent (kept even if a newer one is taken meanwhile, so frequent
        /// snapshots cannot starve a slow follower).
        snapshot: Snapshot,
        /// Byte offset of the next chunk to send.
        offset: u64,
    },
}

/// The leader's view of one follower.
#[derive(Clone, Debug)]
pub(crate) struct Progress {
    /// Highest index known to be durable on the follower and to match the leader's log.
    pub(crate) match_index: LogIndex,
    /// Next index to send.
    pub(crate) next_index: LogIndex,
    pub(crate) state: ReplicationState,
    /// Last index of each append in flight, oldest first.
    pub(crate) inflight: VecDeque<LogIndex>,
    /// Highest heartbeat round the follower acknowledged (ReadIndex, lease).
    pub(crate) acked_round: u64,
    /// When the follower last answered (check-quorum).
    pub(crate) last_ack: Instant,
    /// When `match_index` last advanced (detects lost appends in the pipeline).
    pub(crate) last_progress: Instant,
}

impl Progress {
    pub(crate) fn new(next_index: LogIndex, now: Instant) -> Self {
        Progress {
            match_index: LogIndex(0),
            next_index,
            state: ReplicationState::Probe { paused: false },
            inflight: VecDeque::new(),
            acked_round: 0,
            last_ack: now,
            last_progress: now,
        }
    }

    /// The follower confirmed it matches through `index`. Returns whether anything advanced.
    pub(crate) fn on_match(&mut self, index: LogIndex, now: Instant) -> bool {
        while self.inflight.front().is_some_and(|&last| last <= index) {
            self.inflight.pop_front();
        }
        let advanced = index > self.match_index;
        if advanced {
            self.match_index = index;
            self.last_progress = now;
        }
        self.next_index = self.next_index.max(index.next());
        if matches!(self.state, ReplicationState::Probe { .. }) {
            self.state = ReplicationState::Replicate;
            self.inflight.clear();
        }
        advanced
    }

    /// Restart from `next_index` one append at a time.
    pub(crate) fn become_probe(&mut self, next_index: LogIndex, now: Instant) {
        self.next_index = next_index.max(self.match_index.next());
        self.state = ReplicationState::Probe { paused: false };
        self.inflight.clear();
        self.last_progress = now;
    }

    /// Whether another append may be sent now.
    pub(crate) fn can_send(&self, max_inflight: usize) -> bool {
        match self.state {
            ReplicationState::Probe { paused } => !paused,
            ReplicationState::Replicate => self.inflight.len() < max_inflight,
            ReplicationState::Snapshot { .. } => false,
        }
    }

    /// An append ending at `last` was sent.
    pub(crate) fn on_sent(&mut self, last: LogIndex, had_entries: bool) {
        match &mut self.state {
            ReplicationState::Probe { paused } => *paused = true,
            ReplicationState::Replicate => {
                if had_entries {
                    self.inflight.push_back(last);
                    self.next_index = last.next();
                }
            }
            ReplicationState::Snapshot { .. } => {}
        }
    }
}
