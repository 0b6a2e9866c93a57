//! Durability ordering: writes are staged, flushed as one `Action::Persist`, and whatever
//! depends on them (acks, vote grants, the candidate's own vote, snapshot restore) is held
//! until `handle_persisted` reports that exact token.

use crate::ids::{IoToken, LogIndex, NodeId, Term};
use crate::raft::{Action, LogWrite, Message, Raft, Role, Snapshot};

/// Something to do once a write is durable.
#[derive(Debug)]
pub(crate) enum AfterPersist {
    /// Send this message (an ack or grant that promises durable state).
    Send(NodeId, Message),
    /// The candidate's vote for itself in this term is durable: count it.
    SelfVote(Term),
    /// A snapshot this node took is durable: keep it and compact the log through the index.
    SnapshotTaken(Snapshot, Option<(LogIndex, Term)>),
    /// A snapshot received from the leader is durable: restore the state machine from it.
    SnapshotInstalled(Snapshot),
}

/// The write being assembled for the next `Action::Persist`.
#[derive(Debug, Default)]
pub(crate) struct Staged {
    pub(crate) write: LogWrite,
    pub(crate) hard_state_dirty: bool,
    /// Only the commit index moved: worth recording, but not worth an fsync of its own.
    pub(crate) commit_dirty: bool,
    pub(crate) log_dirty: bool,
    pub(crate) then: Vec<AfterPersist>,
}

impl Staged {
    fn is_empty(&self) -> bool {
        !self.hard_state_dirty && !self.log_dirty && self.write.is_empty()
    }
}

/// A persist handed to the driver and not yet reported durable.
#[derive(Debug)]
pub(crate) struct PendingWrite {
    token: IoToken,
    /// The log is durable through here once this write is (clamped when the log is truncated).
    log_through: Option<LogIndex>,
    then: Vec<AfterPersist>,
}

impl Raft {
    /// The newest snapshot staged or being written but not yet durable (zero if none). A
    /// snapshot taken now must be newer, or it would replace a newer one once both are written.
    pub(super) fn newest_pending_snapshot(&self) -> LogIndex {
        let staged = self.staged.write.snapshot.iter().map(|s| s.meta.last_index);
        let waiting = self
            .staged
            .then
            .iter()
            .chain(self.pending.iter().flat_map(|p| p.then.iter()))
            .filter_map(|then| match then {
                AfterPersist::SnapshotTaken(s, _) | AfterPersist::SnapshotInstalled(s) => {
                    Some(s.meta.last_index)
                }
                _ => None,
            });
        staged.chain(waiting).max().unwrap_or_default()
    }

    /// The hard state changed; it goes into the next persist.
    pub(super) fn stage_hard_state(&mut self) {
        self.staged.hard_state_dirty = true;
    }

    /// The commit index advanced. Commit is volatile in Raft (a restarted server learns it again
    /// from the leader), so it rides along with the next write instead of forcing one: a write
    /// per commit would double the fsyncs on the path of every client write.
    pub(super) fn stage_commit(&mut self) {
        self.staged.commit_dirty = true;
    }

    /// Entries were appended to the in-memory log; they go into the next persist.
    pub(super) fn stage_entries(&mut self, entries: impl IntoIterator<Item = crate::raft::Entry>) {
        self.staged.log_dirty = true;
        self.staged.write.entries.extend(entries);
    }

    /// The in-memory log lost its suffix from `from`; the disk must too, before new entries.
    pub(super) fn stage_truncation(&mut self, from: LogIndex) {
        if !self.staged.write.entries.is_empty() {
            // A write holds truncation before entries: seal the earlier entries first.
            self.flush();
        }
        let from = self
            .staged
            .write
            .truncate_from
            .map_or(from, |t| t.min(from));
        self.staged.write.truncate_from = Some(from);
        self.staged.log_dirty = true;
        self.clamp_durable(from.prev());
    }

    /// A snapshot to install; sealed in its own write ahead of anything later.
    pub(super) fn stage_snapshot(&mut self, snapshot: Snapshot, compact_through: Option<LogIndex>) {
        if !self.staged.is_empty() {
            self.flush();
        }
        self.staged.write.snapshot = Some(snapshot);
        self.staged.write.compact_through = compact_through;
        self.staged.log_dirty = true;
    }

    /// Run `then` after everything written so far is durable.
    pub(super) fn after_persist(&mut self, then: AfterPersist) {
        if !self.staged.is_empty() {
            self.staged.then.push(then);
        } else if let Some(last) = self.pending.back_mut() {
            last.then.push(then);
        } else {
            self.run_after_persist(then);
        }
    }

    /// Send `msg` once everything written so far is durable.
    pub(super) fn send_when_durable(&mut self, to: NodeId, msg: Message) {
        self.after_persist(AfterPersist::Send(to, msg));
    }

    /// No write after `index` that is in flight may count as durable log any more.
    pub(super) fn clamp_durable(&mut self, index: LogIndex) {
        for write in &mut self.pending {
            if let Some(through) = &mut write.log_through {
                *through = (*through).min(index);
            }
        }
    }

    /// Emit the staged write (and replicate new entries) before the driver sees the queue end.
    pub(super) fn flush(&mut self) {
        if self.replicate_pending {
            self.replicate_pending = false;
            if self.role == Role::Leader {
                self.broadcast_append();
            }
        }
        self.flush_reads();
        if self.staged.is_empty() {
            return;
        }
        let mut staged = std::mem::take(&mut self.staged);
        if staged.hard_state_dirty || staged.commit_dirty {
            staged.write.hard_state = Some(self.hard_state());
        }
        let token = IoToken(self.next_token);
        self.next_token += 1;
        let log_through = staged.log_dirty.then(|| self.log.last_index());
        self.pending.push_back(PendingWrite {
            token,
            log_through,
            then: staged.then,
        });
        self.actions.push_back(Action::Persist {
            token,
            write: staged.write,
        });
    }

    /// The driver reports `token` durable (and, completing in order, every earlier one).
    pub(super) fn complete_persist(&mut self, token: IoToken) {
        if !self.pending.iter().any(|w| w.token == token) {
            return;
        }
        while let Some(write) = self.pending.pop_front() {
            if let Some(through) = write.log_through {
                self.log.mark_durable(through);
            }
            for then in write.then {
                self.run_after_persist(then);
            }
            if write.token == token {
                break;
            }
        }
        if self.role == Role::Leader {
            self.maybe_commit();
        }
        self.apply_ready();
    }

    fn run_after_persist(&mut self, then: AfterPersist) {
        match then {
            AfterPersist::Send(to, msg) => self.send(to, msg),
            AfterPersist::SelfVote(term) => self.count_self_vote(term),
            AfterPersist::SnapshotTaken(snapshot, compact) => {
                self.on_snapshot_taken(snapshot, compact)
            }
            AfterPersist::SnapshotInstalled(snapshot) => self.on_snapshot_installed(snapshot),
        }
    }
}
