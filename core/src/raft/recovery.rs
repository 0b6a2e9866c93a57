//! Manual outage recovery (Consul's `raft/peers.json`): when a cluster lost its quorum for good,
//! an operator writes the surviving servers into a file on each of them; each appends that
//! configuration to its own durable log before it starts.
//!
//! Like Consul's, this is an operator's override and not safe in general: entries that were
//! never committed may end up committed or lost. What it does guarantee is that the appended
//! entry cannot be mistaken for another server's entry: its term is above every term this server
//! has seen, and every server given the same file appends the same configuration.

use crate::raft::durable_image::LogWriteError;
use crate::raft::{Entry, EntryPayload, HardState, LogWrite, Membership, Recovered};

impl Recovered {
    /// Appends `membership` as the latest configuration, in a new term with no vote, and returns
    /// the write that makes it durable (already applied to `self`).
    pub fn recover_membership(
        &mut self,
        membership: Membership,
    ) -> Result<LogWrite, LogWriteError> {
        if membership.voter_ids().next().is_none() {
            return Err(LogWriteError(
                "a recovered configuration needs at least one voter".to_owned(),
            ));
        }
        let last_term = self
            .entries
            .last()
            .map(|e| e.term)
            .or_else(|| self.snapshot.as_ref().map(|s| s.meta.last_term))
            .unwrap_or_default();
        let term = self.hard_state.term.max(last_term).next();
        let entry = Entry {
            index: self.next_index(),
            term,
            payload: EntryPayload::Membership(membership),
        };
        let write = LogWrite {
            entries: vec![entry],
            hard_state: Some(HardState {
                term,
                vote: None,
                commit: self.hard_state.commit,
            }),
            ..LogWrite::default()
        };
        self.apply(&write)?;
        Ok(write)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{LogIndex, NodeId, Term};

    fn entry(index: u64, term: u64) -> Entry {
        Entry {
            index: LogIndex(index),
            term: Term(term),
            payload: EntryPayload::Blank,
        }
    }

    fn two_servers() -> Membership {
        Membership::voters([(NodeId(1), "a:8300".into()), (NodeId(2), "b:8300".into())])
    }

    #[test]
    fn recovered_configuration_is_appended_in_a_term_above_any_seen() {
        let mut recovered = Recovered {
            hard_state: HardState {
                term: Term(5),
                vote: Some(NodeId(3)),
                commit: LogIndex(2),
            },
            snapshot: None,
            entries: vec![entry(1, 1), entry(2, 4), entry(3, 4)],
        };
        let write = recovered.recover_membership(two_servers()).unwrap();
        let appended = Entry {
            index: LogIndex(4),
            term: Term(6),
            payload: EntryPayload::Membership(two_servers()),
        };
        assert_eq!(
            write,
            LogWrite {
                entries: vec![appended.clone()],
                hard_state: Some(HardState {
                    term: Term(6),
                    vote: None,
                    commit: LogIndex(2),
                }),
                ..LogWrite::default()
            }
        );
        assert_eq!(recovered.entries.last(), Some(&appended));
        assert_eq!(recovered.hard_state.term, Term(6));
    }

    #[test]
    fn recovery_on_an_empty_log_starts_at_index_one() {
        let mut recovered = Recovered::default();
        let write = recovered.recover_membership(two_servers()).unwrap();
        assert_eq!(write.entries[0].index, LogIndex(1));
        assert_eq!(write.entries[0].term, Term(1));
    }

    #[test]
    fn a_configuration_without_voters_is_refused_and_changes_nothing() {
        let mut recovered = Recovered::default();
        let error = recovered
            .recover_membership(Membership::default())
            .unwrap_err();
        assert!(error.0.contains("at least one voter"), "{error}");
        assert_eq!(recovered, Recovered::default());
    }
}
