//! Snapshots: compacting our own log, streaming a snapshot to a lagging follower in chunks,
//! and installing one received from the leader.

use bytes::{Bytes, BytesMut};

use crate::ids::{LogIndex, NodeId, Term};
use crate::raft::persist::AfterPersist;
use crate::raft::progress::ReplicationState;
use crate::raft::{
    Action, Message, Raft, Role, Snapshot, SnapshotChunk, SnapshotChunkResponse, SnapshotMeta,
};

/// A snapshot being received, chunk by chunk.
#[derive(Debug)]
pub(crate) struct IncomingSnapshot {
    meta: SnapshotMeta,
    data: BytesMut,
}

impl Raft {
    pub(super) fn take_snapshot(&mut self, last_index: LogIndex, data: Bytes) {
        let latest = self
            .snapshot
            .as_ref()
            .map_or(LogIndex(0), |s| s.meta.last_index);
        let newest = latest
            .max(self.log.base_index())
            .max(self.newest_pending_snapshot());
        if last_index > self.applied || last_index <= newest {
            return;
        }
        let Some(last_term) = self.log.term_at(last_index) else {
            return;
        };
        let meta = SnapshotMeta {
            last_index,
            last_term,
            membership: self.configs.at(last_index).clone(),
        };
        let snapshot = Snapshot { meta, data };
        // Keep a trailing stretch of log so a slightly lagging follower needs no snapshot.
        let through = LogIndex(last_index.0.saturating_sub(self.config.trailing_entries));
        let compact = self
            .log
            .term_at(through)
            .filter(|_| through > self.log.base_index())
            .map(|term| (through, term));
        self.stage_snapshot(snapshot.clone(), compact.map(|(index, _)| index));
        self.after_persist(AfterPersist::SnapshotTaken(snapshot, compact));
    }

    /// Our snapshot is durable: the log it covers (but the trailing entries) may go.
    pub(super) fn on_snapshot_taken(
        &mut self,
        snapshot: Snapshot,
        compact: Option<(LogIndex, Term)>,
    ) {
        if let Some((index, term)) = compact.filter(|(index, _)| *index > self.log.base_index()) {
            self.log.compact_through(index, term);
            self.configs.compact_through(index);
        }
        let newer = self
            .snapshot
            .as_ref()
            .is_none_or(|s| s.meta.last_index < snapshot.meta.last_index);
        if newer {
            self.snapshot = Some(snapshot);
        }
    }

    pub(super) fn start_snapshot_send(&mut self, to: NodeId) {
        let Some(snapshot) = self.snapshot.clone() else {
            return;
        };
        if let Some(pr) = self.progress.get_mut(&to) {
            pr.state = ReplicationState::Snapshot {
                snapshot,
                offset: 0,
            };
            pr.inflight.clear();
        }
        self.send_snapshot_chunk(to);
    }

    /// (Re)send the chunk the follower expects next.
    pub(super) fn send_snapshot_chunk(&mut self, to: NodeId) {
        let Some(pr) = self.progress.get(&to) else {
            return;
        };
        let ReplicationState::Snapshot { snapshot, offset } = &pr.state else {
            return;
        };
        let total = snapshot.data.len();
        let start = usize::try_from(*offset).unwrap_or(total).min(total);
        let end = start
            .saturating_add(self.config.snapshot_chunk_bytes.max(1))
            .min(total);
        let chunk = SnapshotChunk {
            term: self.term,
            meta: snapshot.meta.clone(),
            offset: start as u64,
            data: snapshot.data.slice(start..end),
            done: end == total,
        };
        self.send(to, Message::InstallSnapshot(chunk));
    }

    pub(super) fn handle_snapshot_response(&mut self, from: NodeId, resp: SnapshotChunkResponse) {
        if self.role != Role::Leader {
            return;
        }
        let now = self.now;
        let Some(pr) = self.progress.get_mut(&from) else {
            return;
        };
        pr.last_ack = now;
        let ReplicationState::Snapshot { snapshot, offset } = &mut pr.state else {
            return;
        };
        let last_index = snapshot.meta.last_index;
        if resp.last_index != last_index {
            return;
        }
        if resp.done {
            pr.become_probe(last_index.next(), now);
            pr.on_match(last_index, now);
            self.maybe_commit();
            self.maybe_promote_learners();
            self.maybe_send_timeout_now();
            self.send_append(from);
        } else if resp.next_offset > *offset || (resp.next_offset == 0 && *offset != 0) {
            // Progress, or the follower lost track. Anything else is a stale answer: ignore it
            // (the heartbeat resends a lost chunk), so duplicate streams do not multiply.
            *offset = resp.next_offset;
            self.send_snapshot_chunk(from);
        }
    }

    pub(super) fn handle_snapshot_chunk(&mut self, from: NodeId, chunk: SnapshotChunk) {
        if self.role != Role::Follower {
            let term = self.term;
            self.become_follower(term, Some(from));
        }
        self.set_leader(Some(from));
        self.last_leader_contact = Some(self.now);
        self.reset_election_timer(false);
        let last_index = chunk.meta.last_index;
        let respond = |next_offset: u64, done: bool, term| SnapshotChunkResponse {
            term,
            last_index,
            next_offset,
            done,
        };
        if last_index <= self.commit {
            // We already hold all of it; let the leader move on.
            let resp = respond(chunk.offset + chunk.data.len() as u64, true, self.term);
            self.send_when_durable(from, Message::InstallSnapshotResponse(resp));
            return;
        }
        let received = self
            .incoming_snapshot
            .as_ref()
            .filter(|s| s.meta == chunk.meta)
            .map(|s| s.data.len() as u64);
        match received {
            Some(len) if chunk.offset != len => {
                // A duplicate or a gap in a stream we follow: ask for exactly what we lack.
                let resp = respond(len, false, self.term);
                self.send(from, Message::InstallSnapshotResponse(resp));
                return;
            }
            Some(_) => {}
            None if chunk.offset == 0 => {
                self.incoming_snapshot = Some(IncomingSnapshot {
                    meta: chunk.meta.clone(),
                    data: BytesMut::new(),
                });
            }
            None => {
                // A stream we lost track of (or never saw the start of): restart at 0.
                let resp = respond(0, false, self.term);
                self.send(from, Message::InstallSnapshotResponse(resp));
                return;
            }
        }
        let Some(incoming) = self.incoming_snapshot.as_mut() else {
            return;
        };
        incoming.data.extend_from_slice(&chunk.data);
        let received = incoming.data.len() as u64;
        if !chunk.done {
            let resp = respond(received, false, self.term);
            self.send(from, Message::InstallSnapshotResponse(resp));
            return;
        }
        let Some(incoming) = self.incoming_snapshot.take() else {
            return;
        };
        let snapshot = Snapshot {
            meta: incoming.meta,
            data: incoming.data.freeze(),
        };
        self.install_snapshot(snapshot);
        let resp = respond(received, true, self.term);
        self.send_when_durable(from, Message::InstallSnapshotResponse(resp));
    }

    /// Persist a snapshot from the leader; keep our log after it only if it agrees.
    fn install_snapshot(&mut self, snapshot: Snapshot) {
        let meta = snapshot.meta.clone();
        let keeps_suffix = self.log.term_at(meta.last_index) == Some(meta.last_term);
        self.stage_snapshot(snapshot.clone(), Some(meta.last_index));
        if !keeps_suffix {
            self.staged.write.truncate_from = Some(self.log.base_index().next());
            self.clamp_durable(self.applied);
            self.log
                .reset_to(meta.last_index, meta.last_term, self.applied);
            let changed = *self.configs.current() != meta.membership;
            self.configs.reset(meta.last_index, meta.membership.clone());
            if changed {
                self.on_membership_changed();
            }
        }
        self.commit = self.commit.max(meta.last_index);
        self.stage_hard_state();
        self.after_persist(AfterPersist::SnapshotInstalled(snapshot));
    }

    /// A received snapshot is durable: restore the state machine from it.
    pub(super) fn on_snapshot_installed(&mut self, snapshot: Snapshot) {
        let meta = &snapshot.meta;
        if meta.last_index <= self.applied {
            return;
        }
        if meta.last_index > self.log.base_index() {
            self.log.compact_through(meta.last_index, meta.last_term);
            self.configs.compact_through(meta.last_index);
        }
        self.log.mark_durable(meta.last_index);
        self.applied = meta.last_index;
        self.actions
            .push_back(Action::RestoreSnapshot(snapshot.clone()));
        self.snapshot = Some(snapshot);
    }
}
