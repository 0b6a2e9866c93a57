//! Commit and apply: the leader commits what a quorum holds durably (current-term entries
//! only, Raft §5.4.2); every node applies what is both committed and durable locally.

use crate::ids::LogIndex;
use crate::raft::{Action, Raft, Role};

impl Raft {
    /// The highest index a quorum of voters holds durably (our own log counts once persisted).
    fn quorum_match(&self) -> LogIndex {
        let me = self.config.id;
        let membership = self.configs.current();
        let mut matches: Vec<LogIndex> = membership
            .voter_ids()
            .map(|id| {
                if id == me {
                    self.log.durable()
                } else {
                    self.progress
                        .get(&id)
                        .map_or(LogIndex(0), |p| p.match_index)
                }
            })
            .collect();
        if matches.is_empty() {
            return LogIndex(0);
        }
        matches.sort_unstable_by(|a, b| b.cmp(a));
        matches[membership.quorum() - 1]
    }

    pub(super) fn maybe_commit(&mut self) {
        if self.role != Role::Leader {
            return;
        }
        let candidate = self.quorum_match();
        if candidate <= self.commit || self.log.term_at(candidate) != Some(self.term) {
            return;
        }
        let config_index = self.configs.current_index();
        let config_committed = config_index > self.commit && config_index <= candidate;
        self.commit = candidate;
        self.stage_commit();
        if config_committed {
            // Servers only the previous config had need no more entries.
            self.sync_progress_with_membership();
        }
        self.on_commit_advanced();
    }

    /// Effects of a new commit index on the leader: reads, apply, membership follow-ups.
    fn on_commit_advanced(&mut self) {
        self.check_reads();
        self.apply_ready();
        self.maybe_promote_learners();
        self.maybe_step_down_after_removal();
    }

    /// Hand the state machine every entry that is committed and locally durable.
    pub(super) fn apply_ready(&mut self) {
        let upto = self.commit.min(self.log.durable());
        if upto <= self.applied || self.applied < self.log.base_index() {
            // Nothing new, or a received snapshot is not restored yet.
            return;
        }
        let entries = self.log.range(self.applied.next(), upto);
        if let Some(last) = entries.last() {
            self.applied = last.index;
            self.actions.push_back(Action::Apply { entries });
        }
    }
}
