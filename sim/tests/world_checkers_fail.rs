//! The checks are able to fail: a deliberately non-linearizable history and a deliberately broken
//! Raft state are both reported.

use bytes::Bytes;
use synod_core::ids::{LogIndex, NodeId, Term};
use synod_core::raft::Role;
use synod_sim::checker::{History, InvariantChecker, OpKind, Outcome, RaftView, check_history};

#[test]
fn lost_acknowledged_write_is_not_linearizable() {
    let mut h = History::new();
    let w = h.invoke(
        0,
        "k",
        OpKind::Set {
            value: Bytes::from_static(b"acked"),
        },
    );
    h.complete(
        w,
        Outcome::Written {
            index: 4,
            done: true,
        },
    );
    let r = h.invoke(1, "k", OpKind::Get);
    h.complete(r, Outcome::Read(None));
    let err = check_history(&h).unwrap_err();
    assert_eq!(err.key, "k");
}

#[test]
fn double_cas_win_on_one_index_is_not_linearizable() {
    let mut h = History::new();
    let a = h.invoke(
        0,
        "k",
        OpKind::Set {
            value: Bytes::from_static(b"a"),
        },
    );
    h.complete(
        a,
        Outcome::Written {
            index: 3,
            done: true,
        },
    );
    let c1 = h.invoke(
        1,
        "k",
        OpKind::Cas {
            value: Bytes::from_static(b"c1"),
            expect: 3,
        },
    );
    let c2 = h.invoke(
        2,
        "k",
        OpKind::Cas {
            value: Bytes::from_static(b"c2"),
            expect: 3,
        },
    );
    h.complete(
        c1,
        Outcome::Written {
            index: 5,
            done: true,
        },
    );
    h.complete(
        c2,
        Outcome::Written {
            index: 6,
            done: true,
        },
    );
    assert!(check_history(&h).is_err());
}

/// A hand-made node state.
struct Leader {
    id: u64,
    term: u64,
}

impl RaftView for Leader {
    fn id(&self) -> NodeId {
        NodeId(self.id)
    }
    fn role(&self) -> Role {
        Role::Leader
    }
    fn term(&self) -> Term {
        Term(self.term)
    }
    fn commit_index(&self) -> LogIndex {
        LogIndex(1)
    }
    fn applied_index(&self) -> LogIndex {
        LogIndex(1)
    }
    fn last_index(&self) -> LogIndex {
        LogIndex(1)
    }
    fn term_at(&self, index: LogIndex) -> Option<Term> {
        (index == LogIndex(1)).then_some(Term(1))
    }
}

#[test]
fn two_leaders_in_one_term_break_election_safety() {
    let mut checker = InvariantChecker::new();
    let (a, b) = (Leader { id: 1, term: 2 }, Leader { id: 2, term: 2 });
    checker.check_step(&a, &[&b]).unwrap();
    let violation = checker.check_step(&b, &[&a]).unwrap_err();
    assert!(violation.0.contains("two leaders in term 2"), "{violation}");
}
