//! Raft safety invariants, checked after every simulation step. Each check is one method; they
//! read nodes through [`RaftView`] so hand-made states can prove each check is able to fail.

use std::collections::BTreeMap;

use synod_core::ids::{LogIndex, NodeId, Term};
use synod_core::raft::{Raft, Role};

/// What the checks read from one node.
pub trait RaftView {
    /// The node's id.
    fn id(&self) -> NodeId;
    /// Current role.
    fn role(&self) -> Role;
    /// Current term.
    fn term(&self) -> Term;
    /// Highest committed index known.
    fn commit_index(&self) -> LogIndex;
    /// Highest applied index.
    fn applied_index(&self) -> LogIndex;
    /// Last index in the log.
    fn last_index(&self) -> LogIndex;
    /// Term of the entry at `index`, if it is in the log (or is the snapshot's last entry).
    fn term_at(&self, index: LogIndex) -> Option<Term>;
}

impl RaftView for Raft {
    fn id(&self) -> NodeId {
        Raft::id(self)
    }
    fn role(&self) -> Role {
        Raft::role(self)
    }
    fn term(&self) -> Term {
        Raft::term(self)
    }
    fn commit_index(&self) -> LogIndex {
        Raft::commit_index(self)
    }
    fn applied_index(&self) -> LogIndex {
        Raft::applied_index(self)
    }
    fn last_index(&self) -> LogIndex {
        Raft::last_index(self)
    }
    fn term_at(&self, index: LogIndex) -> Option<Term> {
        Raft::term_at(self, index)
    }
}

/// A broken invariant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation(pub String);

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn violation(message: String) -> Result<(), Violation> {
    Err(Violation(message))
}

/// Term, commit and applied last seen on one node, the floor they may not go below.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
struct Progress {
    term: Term,
    commit: LogIndex,
    applied: LogIndex,
}

/// An index known committed: its term, and the term in which the commit was first observed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct Committed {
    term: Term,
    observed_in: Term,
}

/// How far back from the end of two logs the per-step log-matching check looks; the whole log is
/// compared by [`InvariantChecker::check_log_matching_full`].
const LOG_MATCHING_WINDOW: u64 = 32;

/// Cross-step memory of the invariant checks.
#[derive(Clone, Debug, Default)]
pub struct InvariantChecker {
    leaders: BTreeMap<Term, NodeId>,
    committed: BTreeMap<LogIndex, Committed>,
    progress: BTreeMap<NodeId, Progress>,
    /// Per node, the commit index through which its entries were compared with `committed`.
    checked_commit: BTreeMap<NodeId, LogIndex>,
}

impl InvariantChecker {
    /// A checker that has seen nothing.
    pub fn new() -> Self {
        InvariantChecker::default()
    }

    /// Every per-step check for `node`, which just handled an input, against its peers.
    pub fn check_step<V: RaftView>(&mut self, node: &V, peers: &[&V]) -> Result<(), Violation> {
        self.check_index_order(node)?;
        self.check_monotonic(node)?;
        let newly_leader = self.check_election_safety(node)?;
        self.check_state_machine_safety(node)?;
        if newly_leader {
            self.check_leader_completeness(node)?;
        }
        for peer in peers {
            check_log_matching_window(node, *peer)?;
        }
        Ok(())
    }

    /// `node` restarted from a disk image whose hard state holds `durable_term` and
    /// `durable_commit`: its counters may start over from there, but not below.
    pub fn restarted<V: RaftView>(
        &mut self,
        node: &V,
        durable_term: Term,
        durable_commit: LogIndex,
    ) -> Result<(), Violation> {
        let id = node.id();
        if node.term() < durable_term {
            return violation(format!(
                "node {id} restarted at term {} below its durable term {durable_term}",
                node.term()
            ));
        }
        if node.commit_index() < durable_commit {
            return violation(format!(
                "node {id} restarted with commit {} below its durable commit {durable_commit}",
                node.commit_index()
            ));
        }
        self.checked_commit.remove(&id);
        self.progress.insert(
            id,
            Progress {
                term: node.term(),
                commit: node.commit_index(),
                applied: node.applied_index(),
            },
        );
        Ok(())
    }

    /// applied ≤ commit ≤ last.
    pub fn check_index_order<V: RaftView>(&self, node: &V) -> Result<(), Violation> {
        let (applied, commit, last) =
            (node.applied_index(), node.commit_index(), node.last_index());
        if applied > commit || commit > last {
            return violation(format!(
                "node {}: applied {applied} ≤ commit {commit} ≤ last {last} does not hold",
                node.id()
            ));
        }
        Ok(())
    }

    /// Term, commit and applied never go backwards on a running node.
    pub fn check_monotonic<V: RaftView>(&mut self, node: &V) -> Result<(), Violation> {
        let now = Progress {
            term: node.term(),
            commit: node.commit_index(),
            applied: node.applied_index(),
        };
        let before = self.progress.insert(node.id(), now).unwrap_or_default();
        if now.term < before.term || now.commit < before.commit || now.applied < before.applied {
            return violation(format!(
                "node {} went backwards: {before:?} -> {now:?}",
                node.id()
            ));
        }
        Ok(())
    }

    /// At most one leader per term. Returns whether `node` is a leader not seen before.
    pub fn check_election_safety<V: RaftView>(&mut self, node: &V) -> Result<bool, Violation> {
        if node.role() != Role::Leader {
            return Ok(false);
        }
        match self.leaders.get(&node.term()) {
            Some(&other) if other != node.id() => Err(Violation(format!(
                "two leaders in term {}: {other} and {}",
                node.term(),
                node.id()
            ))),
            Some(_) => Ok(false),
            None => {
                self.leaders.insert(node.term(), node.id());
                Ok(true)
            }
        }
    }

    /// No two nodes commit different entries at one index: every newly committed index is
    /// compared with the global record, which it extends.
    pub fn check_state_machine_safety<V: RaftView>(&mut self, node: &V) -> Result<(), Violation> {
        let commit = node.commit_index();
        let checked = self
            .checked_commit
            .insert(node.id(), commit)
            .unwrap_or_default();
        for i in checked.0.saturating_add(1)..=commit.0 {
            let index = LogIndex(i);
            let Some(term) = node.term_at(index) else {
                continue;
            };
            match self.committed.get(&index) {
                Some(known) if known.term != term => {
                    return violation(format!(
                        "node {} committed term {term} at index {index}, but term {} was \
                         committed there before",
                        node.id(),
                        known.term
                    ));
                }
                Some(_) => {}
                None => {
                    let observed_in = node.term();
                    self.committed
                        .insert(index, Committed { term, observed_in });
                }
            }
        }
        Ok(())
    }

    /// A new leader's log holds every entry committed in an earlier term.
    pub fn check_leader_completeness<V: RaftView>(&self, leader: &V) -> Result<(), Violation> {
        let term = leader.term();
        for (index, committed) in &self.committed {
            if committed.observed_in >= term {
                continue;
            }
            match leader.term_at(*index) {
                Some(t) if t == committed.term => {}
                // Compacted into the leader's snapshot, which only covers committed entries.
                None if *index <= leader.last_index() => {}
                found => {
                    return violation(format!(
                        "leader {} of term {term} lacks committed entry {index} (term {}); it \
                         has {found:?}",
                        leader.id(),
                        committed.term
                    ));
                }
            }
        }
        Ok(())
    }

    /// Log matching over both logs entirely (expensive: run now and then, and at the end).
    pub fn check_log_matching_full<V: RaftView>(a: &V, b: &V) -> Result<(), Violation> {
        check_log_matching_range(a, b, LogIndex(1))
    }
}

/// Log matching near the end of the logs, where appends and truncations happen.
fn check_log_matching_window<V: RaftView>(a: &V, b: &V) -> Result<(), Violation> {
    let top = a.last_index().min(b.last_index());
    check_log_matching_range(
        a,
        b,
        LogIndex(top.0.saturating_sub(LOG_MATCHING_WINDOW).max(1)),
    )
}

/// If both logs hold an entry with the same index and term, they agree on every entry below it
/// (where both still hold one).
fn check_log_matching_range<V: RaftView>(a: &V, b: &V, from: LogIndex) -> Result<(), Violation> {
    let top = a.last_index().min(b.last_index());
    let mut matching_above = None;
    for i in (from.0..=top.0).rev() {
        let index = LogIndex(i);
        let (ta, tb) = (a.term_at(index), b.term_at(index));
        match (ta, tb, matching_above) {
            (Some(x), Some(y), Some(above)) if x != y => {
                return violation(format!(
                    "log matching: nodes {} and {} agree at index {above} but differ at {index} \
                     (terms {x} and {y})",
                    a.id(),
                    b.id()
                ));
            }
            (Some(x), Some(y), None) if x == y => matching_above = Some(index),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-made node state.
    #[derive(Clone, Debug)]
    struct FakeNode {
        id: u64,
        role: Role,
        term: u64,
        commit: u64,
        applied: u64,
        /// Term of each entry, from index 1.
        log: Vec<u64>,
    }

    impl FakeNode {
        fn follower(id: u64, log: &[u64]) -> Self {
            FakeNode {
                id,
                role: Role::Follower,
                term: log.last().copied().unwrap_or(0),
                commit: 0,
                applied: 0,
                log: log.to_vec(),
            }
        }
        fn leader(id: u64, term: u64, log: &[u64]) -> Self {
            FakeNode {
                role: Role::Leader,
                term,
                ..FakeNode::follower(id, log)
            }
        }
        fn committed(mut self, commit: u64) -> Self {
            self.commit = commit;
            self.applied = commit;
            self
        }
    }

    impl RaftView for FakeNode {
        fn id(&self) -> NodeId {
            NodeId(self.id)
        }
        fn role(&self) -> Role {
            self.role
        }
        fn term(&self) -> Term {
            Term(self.term)
        }
        fn commit_index(&self) -> LogIndex {
            LogIndex(self.commit)
        }
        fn applied_index(&self) -> LogIndex {
            LogIndex(self.applied)
        }
        fn last_index(&self) -> LogIndex {
            LogIndex(self.log.len() as u64)
        }
        fn term_at(&self, index: LogIndex) -> Option<Term> {
            let i = usize::try_from(index.0).ok()?.checked_sub(1)?;
            self.log.get(i).map(|t| Term(*t))
        }
    }

    #[test]
    fn two_leaders_in_one_term_are_detected() {
        let mut c = InvariantChecker::new();
        assert_eq!(
            c.check_election_safety(&FakeNode::leader(1, 3, &[1, 3])),
            Ok(true)
        );
        assert_eq!(
            c.check_election_safety(&FakeNode::leader(1, 3, &[1, 3])),
            Ok(false)
        );
        assert!(
            c.check_election_safety(&FakeNode::leader(2, 3, &[1, 3]))
                .is_err()
        );
    }

    #[test]
    fn leaders_of_different_terms_are_fine() {
        let mut c = InvariantChecker::new();
        assert_eq!(
            c.check_election_safety(&FakeNode::leader(1, 3, &[1])),
            Ok(true)
        );
        assert_eq!(
            c.check_election_safety(&FakeNode::leader(2, 4, &[1])),
            Ok(true)
        );
    }

    #[test]
    fn diverging_prefix_below_a_matching_entry_breaks_log_matching() {
        let a = FakeNode::follower(1, &[1, 1, 2, 3]);
        let b = FakeNode::follower(2, &[1, 2, 2, 3]);
        assert!(InvariantChecker::check_log_matching_full(&a, &b).is_err());
        assert!(check_log_matching_window(&a, &b).is_err());
    }

    #[test]
    fn logs_diverging_only_at_the_tail_match() {
        let a = FakeNode::follower(1, &[1, 1, 2, 2]);
        let b = FakeNode::follower(2, &[1, 1, 3]);
        assert_eq!(InvariantChecker::check_log_matching_full(&a, &b), Ok(()));
    }

    #[test]
    fn committing_different_terms_at_one_index_is_detected() {
        let mut c = InvariantChecker::new();
        let a = FakeNode::follower(1, &[1, 1, 2]).committed(3);
        let b = FakeNode::follower(2, &[1, 1, 3]).committed(3);
        assert_eq!(c.check_state_machine_safety(&a), Ok(()));
        assert!(c.check_state_machine_safety(&b).is_err());
    }

    #[test]
    fn leader_missing_an_earlier_committed_entry_is_detected() {
        let mut c = InvariantChecker::new();
        let old = FakeNode::leader(1, 2, &[1, 2, 2]).committed(3);
        c.check_state_machine_safety(&old).unwrap();
        assert_eq!(
            c.check_leader_completeness(&FakeNode::leader(2, 3, &[1, 2, 2, 3])),
            Ok(())
        );
        assert!(
            c.check_leader_completeness(&FakeNode::leader(3, 3, &[1, 2]))
                .is_err()
        );
    }

    #[test]
    fn commit_above_last_index_is_detected() {
        let c = InvariantChecker::new();
        let mut n = FakeNode::follower(1, &[1, 1]).committed(2);
        assert_eq!(c.check_index_order(&n), Ok(()));
        n.commit = 3;
        assert!(c.check_index_order(&n).is_err());
        n.commit = 1;
        assert!(c.check_index_order(&n).is_err(), "applied 2 above commit 1");
    }

    #[test]
    fn going_backwards_is_detected_except_across_a_restart() {
        let mut c = InvariantChecker::new();
        let n = FakeNode::follower(1, &[1, 1, 1]).committed(3);
        c.check_monotonic(&n).unwrap();
        let rebooted = FakeNode::follower(1, &[1, 1, 1]).committed(2);
        assert!(c.clone().check_monotonic(&rebooted).is_err());
        assert_eq!(c.restarted(&rebooted, Term(1), LogIndex(2)), Ok(()));
        assert_eq!(c.check_monotonic(&rebooted), Ok(()));
    }

    #[test]
    fn restart_below_the_durable_commit_is_detected() {
        let mut c = InvariantChecker::new();
        let rebooted = FakeNode::follower(1, &[1, 1, 1]).committed(1);
        assert!(c.restarted(&rebooted, Term(1), LogIndex(2)).is_err());
    }

    #[test]
    fn check_step_runs_every_check() {
        let mut c = InvariantChecker::new();
        let a = FakeNode::leader(1, 2, &[1, 2]).committed(2);
        let b = FakeNode::leader(2, 2, &[1, 2]);
        c.check_step(&a, &[&b]).unwrap();
        let err = c.check_step(&b, &[&a]).unwrap_err();
        assert!(err.0.contains("two leaders"), "{err}");
    }
}
