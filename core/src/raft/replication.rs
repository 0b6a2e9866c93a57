//! Log replication: the leader's pipelined, batched appends and heartbeats, and the follower's
//! handling of them (consistency check, conflict hints, truncation).

use crate::ids::{LogIndex, NodeId};
use crate::raft::progress::{Progress, ReplicationState};
use crate::raft::{
    AppendRequest, AppendResponse, AppendResult, Entry, EntryPayload, Message, ProposeError, Raft,
    Role,
};

impl Raft {
    pub(super) fn become_leader(&mut self) {
        self.set_role(Role::Leader);
        self.set_leader(Some(self.config.id));
        self.votes.clear();
        self.last_leader_contact = Some(self.now);
        self.progress.clear();
        self.sync_progress_with_membership();
        self.rounds.start(self.now);
        self.heartbeat_deadline = self.now + self.config.heartbeat_interval;
        // Entries of earlier terms commit only through one of ours (Raft §5.4.2).
        self.append_local(EntryPayload::Blank);
    }

    /// Add progress for servers we must replicate to, drop it for those we no longer need to.
    /// Servers removed by a config that is not committed yet still get the log, so they learn
    /// of their removal.
    pub(super) fn sync_progress_with_membership(&mut self) {
        if self.role != Role::Leader {
            return;
        }
        let me = self.config.id;
        let targets = self.configs.replication_targets(self.commit);
        self.progress.retain(|id, _| targets.contains(id));
        for id in targets {
            if id != me && !self.progress.contains_key(&id) {
                let next = self.log.last_index().next();
                self.progress.insert(id, Progress::new(next, self.now));
            }
        }
    }

    pub(super) fn check_can_propose(&self) -> Result<(), ProposeError> {
        if self.role != Role::Leader {
            return Err(ProposeError::NotLeader {
                leader: self.leader,
            });
        }
        if self.transfer.is_some() {
            return Err(ProposeError::TransferInProgress);
        }
        Ok(())
    }

    /// Append an entry of our term to our log, persist it, and schedule replication.
    pub(super) fn append_local(&mut self, payload: EntryPayload) -> LogIndex {
        let index = self.log.last_index().next();
        let entry = Entry {
            index,
            term: self.term,
            payload,
        };
        if let EntryPayload::Membership(m) = &entry.payload {
            self.configs.push(index, m.clone());
            self.on_membership_changed();
        }
        self.log.push(entry.clone());
        self.stage_entries([entry]);
        self.replicate_pending = true;
        index
    }

    pub(super) fn broadcast_append(&mut self) {
        let ids: Vec<NodeId> = self.progress.keys().copied().collect();
        for id in ids {
            self.send_append(id);
        }
    }

    /// Send as many appends to `to` as its state and the in-flight window allow.
    pub(super) fn send_append(&mut self, to: NodeId) {
        loop {
            let Some(pr) = self.progress.get(&to) else {
                return;
            };
            if matches!(pr.state, ReplicationState::Snapshot { .. }) {
                return;
            }
            if pr.next_index <= self.log.base_index() {
                self.start_snapshot_send(to);
                return;
            }
            let is_probe = matches!(pr.state, ReplicationState::Probe { .. });
            let has_new = pr.next_index <= self.log.last_index();
            if !pr.can_send(self.config.max_inflight) || (!has_new && !is_probe) {
                return;
            }
            let prev = pr.next_index.prev();
            let Some(prev_term) = self.log.term_at(prev) else {
                self.start_snapshot_send(to);
                return;
            };
            let entries = self.log.slice(
                pr.next_index,
                self.config.max_append_entries,
                self.config.max_append_bytes,
            );
            let last = entries.last().map_or(prev, |e| e.index);
            let had_entries = !entries.is_empty();
            let req = AppendRequest {
                term: self.term,
                prev_log_index: prev,
                prev_log_term: prev_term,
                entries,
                leader_commit: self.commit,
                round: self.rounds.current(),
            };
            if let Some(pr) = self.progress.get_mut(&to) {
                pr.on_sent(last, had_entries);
            }
            self.send(to, Message::Append(req));
            if is_probe || !had_entries {
                return;
            }
        }
    }

    /// An empty append at the follower's match index: keeps its lease and carries the round.
    fn send_heartbeat(&mut self, to: NodeId) {
        let Some(pr) = self.progress.get(&to) else {
            return;
        };
        let prev = pr.match_index;
        let Some(prev_term) = self.log.term_at(prev) else {
            // What it has acked is compacted here: catch it up from there (snapshot).
            if let Some(pr) = self.progress.get_mut(&to) {
                pr.become_probe(prev.next(), self.now);
            }
            self.send_append(to);
            return;
        };
        let req = AppendRequest {
            term: self.term,
            prev_log_index: prev,
            prev_log_term: prev_term,
            entries: Vec::new(),
            leader_commit: self.commit,
            round: self.rounds.current(),
        };
        self.send(to, Message::Append(req));
    }

    /// One heartbeat round to every follower, retrying stalled ones.
    pub(super) fn broadcast_heartbeat(&mut self) {
        let stall = self.config.heartbeat_interval * 2;
        let ids: Vec<NodeId> = self.progress.keys().copied().collect();
        for id in ids {
            let Some(pr) = self.progress.get_mut(&id) else {
                continue;
            };
            match pr.state {
                ReplicationState::Probe { .. } => {
                    pr.state = ReplicationState::Probe { paused: false };
                    self.send_append(id);
                }
                ReplicationState::Snapshot { .. } => self.send_snapshot_chunk(id),
                ReplicationState::Replicate => {
                    if !pr.inflight.is_empty()
                        && self.now.saturating_since(pr.last_progress) >= stall
                    {
                        // Appends were lost: resend from what the follower has.
                        let next = pr.match_index.next();
                        pr.become_probe(next, self.now);
                        self.send_append(id);
                    } else {
                        self.send_heartbeat(id);
                    }
                }
            }
        }
    }

    pub(super) fn heartbeat_tick(&mut self) {
        self.heartbeat_deadline = self.now + self.config.heartbeat_interval;
        if self.config.check_quorum && !self.quorum_recently_active() {
            let term = self.term;
            self.become_follower(term, None);
            return;
        }
        self.rounds.advance(self.now, self.config.election_timeout);
        self.broadcast_heartbeat();
    }

    /// Check-quorum: a quorum of voters answered within an election timeout.
    fn quorum_recently_active(&self) -> bool {
        let horizon = self.config.election_timeout;
        let me = self.config.id;
        let membership = self.configs.current();
        let active = membership
            .voter_ids()
            .filter(|&id| {
                id == me
                    || self
                        .progress
                        .get(&id)
                        .is_some_and(|p| self.now.saturating_since(p.last_ack) < horizon)
            })
            .count();
        active >= membership.quorum()
    }

    pub(super) fn handle_append(&mut self, from: NodeId, req: AppendRequest) {
        if self.role != Role::Follower {
            let term = self.term;
            self.become_follower(term, Some(from));
        }
        self.set_leader(Some(from));
        self.last_leader_contact = Some(self.now);
        self.reset_election_timer(false);
        let result = self.append_entries(
            req.prev_log_index,
            req.prev_log_term,
            req.entries,
            req.leader_commit,
        );
        let resp = Message::AppendResponse(AppendResponse {
            term: self.term,
            round: req.round,
            result,
        });
        // A success promises the entries are durable: only after the write completes.
        self.send_when_durable(from, resp);
        self.apply_ready();
    }

    /// The follower side of AppendEntries (Raft Fig. 2 receiver rules 2–5).
    fn append_entries(
        &mut self,
        mut prev: LogIndex,
        mut prev_term: crate::ids::Term,
        mut entries: Vec<Entry>,
        leader_commit: LogIndex,
    ) -> AppendResult {
        let base = self.log.base_index();
        if prev < base {
            // Our snapshot covers a committed prefix; skip what it already holds.
            entries.retain(|e| e.index > base);
            prev = base;
            prev_term = self.log.term_at(base).unwrap_or_default();
            if entries
                .first()
                .is_some_and(|first| first.index != base.next())
            {
                return self.conflict(prev);
            }
        }
        if prev > self.log.last_index() || self.log.term_at(prev) != Some(prev_term) {
            return self.conflict(prev);
        }
        let last_new = entries.last().map_or(prev, |e| e.index);
        let mut fresh = Vec::new();
        for entry in entries {
            match self.log.term_at(entry.index) {
                Some(t) if t == entry.term && fresh.is_empty() => continue,
                Some(_) if fresh.is_empty() => {
                    if entry.index <= self.commit {
                        // A leader contradicting our committed log: refuse rather than lose data.
                        return self.conflict(prev);
                    }
                    self.truncate_log(entry.index);
                    fresh.push(entry);
                }
                _ => fresh.push(entry),
            }
        }
        if !fresh.is_empty() {
            for entry in &fresh {
                if let EntryPayload::Membership(m) = &entry.payload {
                    self.configs.push(entry.index, m.clone());
                }
                self.log.push(entry.clone());
            }
            let changed_config = fresh
                .iter()
                .any(|e| matches!(e.payload, EntryPayload::Membership(_)));
            self.stage_entries(fresh);
            if changed_config {
                self.on_membership_changed();
            }
        }
        let commit = leader_commit.min(last_new);
        if commit > self.commit {
            self.commit = commit;
            self.stage_commit();
        }
        AppendResult::Success {
            match_index: last_new,
        }
    }

    /// Drop our log from `from` on (a conflicting suffix), reverting configs it carried.
    fn truncate_log(&mut self, from: LogIndex) {
        self.log.truncate_from(from);
        self.stage_truncation(from);
        if self.configs.truncate_from(from) {
            self.on_membership_changed();
        }
    }

    /// A rejection with hints so the leader can skip a whole term at once.
    fn conflict(&self, prev: LogIndex) -> AppendResult {
        let last_index = self.log.last_index();
        if prev > last_index {
            return AppendResult::Conflict {
                last_index,
                conflict_term: None,
                conflict_index: last_index.next(),
            };
        }
        let conflict_term = self.log.term_at(prev);
        let conflict_index = match conflict_term {
            Some(term) => self.log.first_index_of_term_at(prev, term),
            None => last_index.next(),
        };
        AppendResult::Conflict {
            last_index,
            conflict_term,
            conflict_index,
        }
    }

    pub(super) fn handle_append_response(&mut self, from: NodeId, resp: AppendResponse) {
        if self.role != Role::Leader {
            return;
        }
        let now = self.now;
        let Some(pr) = self.progress.get_mut(&from) else {
            return;
        };
        pr.last_ack = now;
        pr.acked_round = pr.acked_round.max(resp.round);
        match resp.result {
            AppendResult::Success { match_index } => {
                let match_index = match_index.min(self.log.last_index());
                if matches!(pr.state, ReplicationState::Snapshot { .. }) {
                    return;
                }
                if pr.on_match(match_index, now) {
                    self.maybe_commit();
                    self.maybe_promote_learners();
                    self.maybe_send_timeout_now();
                }
                self.send_append(from);
            }
            AppendResult::Conflict {
                last_index,
                conflict_term,
                conflict_index,
            } => {
                if matches!(pr.state, ReplicationState::Snapshot { .. }) {
                    return;
                }
                let hinted = match conflict_term.and_then(|t| self.log.last_index_of_term(t)) {
                    Some(last_of_term) => last_of_term.next(),
                    None if conflict_term.is_some() => conflict_index,
                    None => last_index.next(),
                };
                let next = hinted.min(last_index.next());
                if let Some(pr) = self.progress.get_mut(&from) {
                    pr.become_probe(next, now);
                }
                self.send_append(from);
            }
        }
        self.check_reads();
    }
}
