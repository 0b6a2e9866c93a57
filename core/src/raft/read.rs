//! Linearizable reads without writing to the log: ReadIndex (a heartbeat round acked by a
//! quorum confirms leadership) and lease reads (check-quorum makes recent acks a lease).

use std::collections::VecDeque;

use crate::ids::{LogIndex, ReadId};
use crate::raft::{Action, Raft, ReadError, Role};
use crate::time::{Duration, Instant};

/// A ReadIndex request waiting for its heartbeat round to be acked by a quorum.
#[derive(Debug)]
pub(crate) struct PendingRead {
    pub(crate) id: ReadId,
    /// Commit index when the read arrived.
    index: LogIndex,
    /// Round whose quorum ack confirms we were still leader after the read arrived.
    round: u64,
}

/// Heartbeat rounds and when each started; any append carrying round `r` was sent no earlier
/// than `r`'s start, so a quorum ack of `r` proves leadership as of that start.
#[derive(Debug, Default)]
pub(crate) struct Rounds {
    /// (round, start time), consecutive rounds, oldest first.
    started: VecDeque<(u64, Instant)>,
    /// A read asked for a round that has not been broadcast yet.
    broadcast_pending: bool,
}

impl Rounds {
    pub(crate) fn current(&self) -> u64 {
        self.started.back().map_or(0, |(r, _)| *r)
    }

    /// A new leadership term's first round.
    pub(crate) fn start(&mut self, now: Instant) {
        let next = self.current() + 1;
        self.started.clear();
        self.started.push_back((next, now));
        self.broadcast_pending = false;
    }

    /// Begin the next round, forgetting rounds too old to matter for a lease.
    pub(crate) fn advance(&mut self, now: Instant, keep: Duration) {
        let next = self.current() + 1;
        self.started.push_back((next, now));
        while self.started.len() > 1
            && self
                .started
                .front()
                .is_some_and(|(_, t)| now.saturating_since(*t) > keep * 2)
        {
            self.started.pop_front();
        }
    }

    fn started_at(&self, round: u64) -> Option<Instant> {
        let (first, _) = *self.started.front()?;
        let offset = usize::try_from(round.checked_sub(first)?).ok()?;
        self.started.get(offset).map(|(_, t)| *t)
    }
}

/// How much shorter than the election timeout a lease is, to tolerate clock drift.
const LEASE_DRIFT_DIVISOR: u32 = 10;

impl Raft {
    pub(super) fn start_read(&mut self, id: ReadId) {
        if self.role != Role::Leader {
            let error = ReadError::NotLeader {
                leader: self.leader,
            };
            self.actions.push_back(Action::ReadFailed { id, error });
            return;
        }
        if !self.committed_in_current_term() {
            // Our commit index may lag the real one until our Blank commits (etcd #7331).
            let error = ReadError::NotReady;
            self.actions.push_back(Action::ReadFailed { id, error });
            return;
        }
        if self
            .configs
            .current()
            .voter_ids()
            .all(|v| v == self.config.id)
        {
            let index = self.commit;
            self.actions.push_back(Action::ReadReady { id, index });
            return;
        }
        if !self.rounds.broadcast_pending {
            self.rounds.advance(self.now, self.config.election_timeout);
            self.rounds.broadcast_pending = true;
        }
        let round = self.rounds.current();
        let index = self.commit;
        self.reads.push_back(PendingRead { id, index, round });
    }

    /// Send the heartbeat round reads are waiting for (batched until the driver drains).
    pub(super) fn flush_reads(&mut self) {
        if self.rounds.broadcast_pending {
            self.rounds.broadcast_pending = false;
            if self.role == Role::Leader {
                self.broadcast_heartbeat();
            }
        }
    }

    pub(super) fn committed_in_current_term(&self) -> bool {
        self.log.term_at(self.commit) == Some(self.term)
    }

    /// The highest round acknowledged by a quorum of voters (we count as acking every round).
    fn quorum_acked_round(&self) -> u64 {
        let me = self.config.id;
        let membership = self.configs.current();
        let mut acked: Vec<u64> = membership
            .voter_ids()
            .map(|id| {
                if id == me {
                    u64::MAX
                } else {
                    self.progress.get(&id).map_or(0, |p| p.acked_round)
                }
            })
            .collect();
        if acked.is_empty() {
            return 0;
        }
        acked.sort_unstable_by(|a, b| b.cmp(a));
        acked[membership.quorum() - 1]
    }

    /// Answer every read whose round a quorum acknowledged.
    pub(super) fn check_reads(&mut self) {
        if self.reads.is_empty() || self.role != Role::Leader {
            return;
        }
        let confirmed = self.quorum_acked_round();
        while self.reads.front().is_some_and(|r| r.round <= confirmed) {
            if let Some(read) = self.reads.pop_front() {
                let (id, index) = (read.id, read.index);
                self.actions.push_back(Action::ReadReady { id, index });
            }
        }
    }

    pub(super) fn check_lease(&self, now: Instant) -> Result<LogIndex, ReadError> {
        if self.role != Role::Leader {
            return Err(ReadError::NotLeader {
                leader: self.leader,
            });
        }
        if !self.committed_in_current_term() {
            return Err(ReadError::NotReady);
        }
        if !self.config.check_quorum || self.transfer.is_some() || now < self.lease_blocked_until {
            return Err(ReadError::LeaseExpired);
        }
        let timeout = self.config.election_timeout;
        let lease = timeout - timeout / LEASE_DRIFT_DIVISOR;
        let confirmed_since = if self
            .configs
            .current()
            .voter_ids()
            .all(|v| v == self.config.id)
        {
            Some(now)
        } else {
            self.rounds.started_at(self.quorum_acked_round())
        };
        match confirmed_since {
            Some(start) if now.saturating_since(start) < lease => Ok(self.commit),
            _ => Err(ReadError::LeaseExpired),
        }
    }
}
