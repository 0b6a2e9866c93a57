//! Single-server membership changes (thesis §4.1): a configuration takes effect as soon as it is
//! in the log, one uncommitted change at a time, learners promoted once caught up.

use std::collections::BTreeSet;

use crate::ids::{LogIndex, NodeId};
use crate::raft::{
    EntryPayload, Event, Membership, Message, ProposeError, Raft, Role, ServerInfo, Suffrage,
};

/// Every configuration in the log (and the snapshot's), oldest first; the last is in effect.
#[derive(Debug)]
pub(crate) struct ConfigLog {
    configs: Vec<(LogIndex, Membership)>,
}

impl ConfigLog {
    pub(crate) fn new(base_index: LogIndex, base: Membership) -> Self {
        ConfigLog {
            configs: vec![(base_index, base)],
        }
    }

    pub(crate) fn push(&mut self, index: LogIndex, membership: Membership) {
        self.configs.push((index, membership));
    }

    pub(crate) fn current(&self) -> &Membership {
        &self.current_entry().1
    }

    pub(crate) fn current_index(&self) -> LogIndex {
        self.current_entry().0
    }

    fn current_entry(&self) -> &(LogIndex, Membership) {
        // Never empty: `new` puts a base configuration and truncation keeps it.
        &self.configs[self.configs.len() - 1]
    }

    /// The configuration as of `index`.
    pub(crate) fn at(&self, index: LogIndex) -> &Membership {
        self.configs
            .iter()
            .rev()
            .find(|(i, _)| *i <= index)
            .map_or(&self.configs[0].1, |(_, m)| m)
    }

    /// Drop configs at index ≥ `from` (their entries were truncated). Returns whether the
    /// configuration in effect changed.
    pub(crate) fn truncate_from(&mut self, from: LogIndex) -> bool {
        let before = self.configs.len();
        while self.configs.len() > 1 && self.current_index() >= from {
            self.configs.pop();
        }
        self.configs.len() != before
    }

    /// A snapshot through `index` now holds everything before: keep only what is still needed.
    pub(crate) fn compact_through(&mut self, index: LogIndex) {
        let base = self.at(index).clone();
        self.configs.retain(|(i, _)| *i > index);
        self.configs.insert(0, (index, base));
    }

    /// Replace everything with a snapshot's configuration.
    pub(crate) fn reset(&mut self, index: LogIndex, membership: Membership) {
        self.configs = vec![(index, membership)];
    }

    /// Servers the leader replicates to: the current config, plus the previous one while the
    /// current is uncommitted (so a removed server still learns of its removal).
    pub(crate) fn replication_targets(&self, commit: LogIndex) -> BTreeSet<NodeId> {
        let mut targets: BTreeSet<NodeId> = self.current().servers.keys().copied().collect();
        if self.current_index() > commit && self.configs.len() > 1 {
            let previous = &self.configs[self.configs.len() - 2].1;
            targets.extend(previous.servers.keys().copied());
        }
        targets
    }
}

impl Raft {
    /// Whether this node was in a configuration and the current one no longer has it.
    pub(super) fn was_removed(&self) -> bool {
        let me = self.config.id;
        !self.configs.current().servers.contains_key(&me)
            && self
                .configs
                .configs
                .iter()
                .any(|(_, m)| m.servers.contains_key(&me))
    }

    /// The configuration in effect changed (appended or truncated).
    pub(super) fn on_membership_changed(&mut self) {
        let current = self.configs.current().clone();
        self.emit(Event::MembershipChanged(current.clone()));
        let me = self.config.id;
        let member = current.servers.contains_key(&me);
        if member {
            self.removed = false;
        } else if self.was_removed() && !self.removed && self.role != Role::Leader {
            // A leader keeps leading until its removal commits; others stop at once.
            self.removed = true;
            self.emit(Event::Removed);
        }
        if self.role == Role::Leader {
            self.sync_progress_with_membership();
        }
    }

    fn membership_change_allowed(&self) -> Result<(), ProposeError> {
        self.check_can_propose()?;
        // Until our own term has a committed entry, a config appended by an earlier leader may
        // still be uncommitted in other logs; changing again could create disjoint majorities
        // (Ongaro, raft-dev 2015: the single-server change bug).
        if self.configs.current_index() > self.commit || !self.committed_in_current_term() {
            return Err(ProposeError::MembershipChangePending);
        }
        Ok(())
    }

    pub(super) fn propose_add_server(
        &mut self,
        id: NodeId,
        addr: String,
    ) -> Result<LogIndex, ProposeError> {
        self.membership_change_allowed()?;
        let mut next = self.configs.current().clone();
        if next.servers.contains_key(&id) {
            return Err(ProposeError::InvalidMembershipChange(
                "server is already a member",
            ));
        }
        let info = ServerInfo {
            addr,
            suffrage: Suffrage::Learner,
        };
        next.servers.insert(id, info);
        Ok(self.append_local(EntryPayload::Membership(next)))
    }

    pub(super) fn propose_remove_server(&mut self, id: NodeId) -> Result<LogIndex, ProposeError> {
        self.membership_change_allowed()?;
        let mut next = self.configs.current().clone();
        if next.servers.remove(&id).is_none() {
            return Err(ProposeError::InvalidMembershipChange(
                "server is not a member",
            ));
        }
        if next.voter_ids().next().is_none() {
            return Err(ProposeError::InvalidMembershipChange(
                "cannot remove the last voter",
            ));
        }
        Ok(self.append_local(EntryPayload::Membership(next)))
    }

    /// Promote the first learner within `catch_up_margin` of our log (one change at a time).
    pub(super) fn maybe_promote_learners(&mut self) {
        if self.membership_change_allowed().is_err() {
            return;
        }
        let last = self.log.last_index().0;
        let margin = self.config.catch_up_margin;
        let caught_up = self
            .configs
            .current()
            .servers
            .iter()
            .find_map(|(id, info)| {
                let matched = self.progress.get(id).map_or(0, |p| p.match_index.0);
                (info.suffrage == Suffrage::Learner && matched > 0 && matched + margin >= last)
                    .then_some(*id)
            });
        if let Some(id) = caught_up {
            let mut next = self.configs.current().clone();
            if let Some(info) = next.servers.get_mut(&id) {
                info.suffrage = Suffrage::Voter;
            }
            self.append_local(EntryPayload::Membership(next));
        }
    }

    /// A leader whose own removal committed hands over by stepping down.
    pub(super) fn maybe_step_down_after_removal(&mut self) {
        let me = self.config.id;
        if self.role == Role::Leader
            && !self.configs.current().servers.contains_key(&me)
            && self.configs.current_index() <= self.commit
        {
            // Hand over at once to the most caught-up voter instead of waiting for a timeout.
            let successor = self
                .configs
                .current()
                .voter_ids()
                .filter_map(|id| self.progress.get(&id).map(|p| (p.match_index, id)))
                .max();
            if let Some((_, to)) = successor {
                let term = self.term;
                self.send(to, Message::TimeoutNow { term });
            }
            let term = self.term;
            self.become_follower(term, None);
            self.removed = true;
            self.emit(Event::Removed);
        }
    }
}
