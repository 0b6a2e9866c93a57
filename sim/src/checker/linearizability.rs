//! Per-key linearizability of a KV history: Wing–Gong search with Lowe's memoisation (the
//! algorithm behind Knossos and Porcupine), against a model of one Consul key.
//!
//! Every written value is unique, so a read names the write it saw. An unanswered write may take
//! effect at any point after its call, or never: its return sits at infinity and the search stops
//! as soon as every answered operation is placed.
//!
//! Unanswered writes that no read ever saw are what makes the search explode (each may or may
//! not have happened: 2^k subsets). They are only distinguishable through the ModifyIndex they
//! leave behind, so they are folded into one reusable "unseen write" per CAS precondition,
//! available from the first such call on. That accepts a superset of the exact answer (never a
//! false alarm) while keeping every check that matters: lost or resurrected values, stale reads,
//! impossible CAS results, indexes going backwards.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use bytes::Bytes;

use super::history::{History, OpKind, Operation, Outcome};

/// Why a key's history is not linearizable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NonLinearizable {
    /// The key.
    pub key: String,
    /// A readable dump of the key's operations.
    pub detail: String,
}

impl std::fmt::Display for NonLinearizable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "key {:?} is not linearizable:\n{}",
            self.key, self.detail
        )
    }
}

/// Checks every key of `history` independently (linearizability is compositional).
pub fn check_history(history: &History) -> Result<(), NonLinearizable> {
    for (key, ops) in history.by_key() {
        check_key(key, &ops)?;
    }
    Ok(())
}

/// Search states explored before giving up on a key (a report, not a silent pass).
const SEARCH_BUDGET: usize = 5_000_000;

/// Stands for "some unanswered write nobody read" in the model state.
const UNSEEN_WRITE: usize = usize::MAX;

/// The model of one key: the write whose value it holds (by position in the key's history), that
/// write's ModifyIndex when known, and the highest known ModifyIndex so far (Raft indexes grow in
/// log order, which is the linearization order of writes).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct KeyState {
    current: Option<(usize, Option<u64>)>,
    last_index: u64,
}

/// Something the search may linearize.
#[derive(Clone, Debug)]
enum Step {
    /// One operation of the history.
    Op(usize),
    /// Any of the unanswered, never-read writes with this CAS precondition (`None`: a Set);
    /// reusable.
    UnseenWrite { expect: Option<u64> },
}

#[derive(Clone, Debug)]
struct Candidate {
    step: Step,
    call: u64,
    ret: u64,
    answered: bool,
}

/// Checks the history of one key.
pub fn check_key(key: &str, ops: &[&Operation]) -> Result<(), NonLinearizable> {
    let fail = |why: &str| NonLinearizable {
        key: key.to_string(),
        detail: format!("{why}\n{}", describe(ops)),
    };
    let Some(writers) = writers_by_value(ops) else {
        return Err(fail("two writes share a value"));
    };
    let model = Model {
        candidates: candidates(ops, &writers),
        ops,
        writers,
    };
    match model.search() {
        Some(true) => Ok(()),
        Some(false) => Err(fail("no linearization exists")),
        None => Err(fail("inconclusive: search budget exhausted")),
    }
}

/// Maps each written value to its write; `None` if two writes share a value (the model needs
/// unique values).
fn writers_by_value(ops: &[&Operation]) -> Option<BTreeMap<Bytes, usize>> {
    let mut writers = BTreeMap::new();
    for (i, op) in ops.iter().enumerate() {
        let value = match &op.kind {
            OpKind::Set { value } | OpKind::Cas { value, .. } => value,
            OpKind::Get => continue,
        };
        if writers.insert(value.clone(), i).is_some() {
            return None;
        }
    }
    Some(writers)
}

/// The operations to place, with unanswered never-read writes folded per precondition.
fn candidates(ops: &[&Operation], writers: &BTreeMap<Bytes, usize>) -> Vec<Candidate> {
    let read: BTreeSet<usize> = ops
        .iter()
        .filter_map(|op| match &op.outcome {
            Outcome::Read(Some((value, _))) => writers.get(value).copied(),
            _ => None,
        })
        .collect();
    let mut unseen: BTreeMap<Option<u64>, u64> = BTreeMap::new();
    let mut out = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let answered = op.outcome != Outcome::Unknown;
        let expect = match op.kind {
            OpKind::Set { .. } => Some(None),
            OpKind::Cas { expect, .. } => Some(Some(expect)),
            OpKind::Get => None,
        };
        match expect {
            Some(expect) if !answered && !read.contains(&i) => {
                let first_call = unseen.entry(expect).or_insert(op.call);
                *first_call = (*first_call).min(op.call);
            }
            _ => out.push(Candidate {
                step: Step::Op(i),
                call: op.call,
                ret: op.ret,
                answered,
            }),
        }
    }
    out.extend(unseen.into_iter().map(|(expect, call)| Candidate {
        step: Step::UnseenWrite { expect },
        call,
        ret: u64::MAX,
        answered: false,
    }));
    out
}

fn describe(ops: &[&Operation]) -> String {
    let mut out = String::new();
    for op in ops {
        let ret = if op.ret == u64::MAX {
            "∞".to_string()
        } else {
            op.ret.to_string()
        };
        out.push_str(&format!(
            "  [{}, {}] client {} {:?} -> {:?}\n",
            op.call, ret, op.client, op.kind, op.outcome
        ));
    }
    out
}

struct Model<'a> {
    candidates: Vec<Candidate>,
    ops: &'a [&'a Operation],
    writers: BTreeMap<Bytes, usize>,
}

const NIL: usize = usize::MAX;

/// The call/return entries of the candidates as a doubly linked list in time order; entry 0 is
/// the head sentinel.
struct Entries {
    candidate: Vec<usize>,
    is_call: Vec<bool>,
    partner: Vec<usize>,
    prev: Vec<usize>,
    next: Vec<usize>,
}

impl Entries {
    fn new(candidates: &[Candidate]) -> Self {
        let mut events: Vec<(u64, bool, usize)> = Vec::with_capacity(candidates.len() * 2);
        for (i, c) in candidates.iter().enumerate() {
            events.push((c.call, true, i));
            events.push((c.ret, false, i));
        }
        // Ties only happen between returns at infinity; calls first keeps the order well-formed.
        events.sort_by_key(|&(time, is_call, c)| (time, !is_call, c));
        let n = events.len() + 1;
        let mut entries = Entries {
            candidate: vec![NIL; n],
            is_call: vec![false; n],
            partner: vec![NIL; n],
            prev: (0..n).map(|i| i.wrapping_sub(1)).collect(),
            next: (1..=n).map(|i| if i == n { NIL } else { i }).collect(),
        };
        let mut call_entry = vec![NIL; candidates.len()];
        for (pos, &(_, is_call, c)) in events.iter().enumerate() {
            let e = pos + 1;
            entries.candidate[e] = c;
            entries.is_call[e] = is_call;
            if is_call {
                call_entry[c] = e;
            } else {
                entries.partner[e] = call_entry[c];
                entries.partner[call_entry[c]] = e;
            }
        }
        entries
    }

    fn unlink(&mut self, e: usize) {
        let (p, n) = (self.prev[e], self.next[e]);
        self.next[p] = n;
        if n != NIL {
            self.prev[n] = p;
        }
    }

    fn relink(&mut self, e: usize) {
        let (p, n) = (self.prev[e], self.next[e]);
        self.next[p] = e;
        if n != NIL {
            self.prev[n] = e;
        }
    }

    /// Removes a call and its return (the operation is linearized).
    fn lift(&mut self, call: usize) {
        self.unlink(call);
        self.unlink(self.partner[call]);
    }

    /// Undoes [`Entries::lift`].
    fn unlift(&mut self, call: usize) {
        self.relink(self.partner[call]);
        self.relink(call);
    }
}

fn flip(bits: &mut [u64], i: usize) {
    bits[i / 64] ^= 1 << (i % 64);
}

impl Model<'_> {
    /// `Some(found)`, or `None` when the budget ran out first.
    fn search(&self) -> Option<bool> {
        let mut entries = Entries::new(&self.candidates);
        let mut remaining = self.candidates.iter().filter(|c| c.answered).count();
        let mut state = KeyState {
            current: None,
            last_index: 0,
        };
        let mut linearized = vec![0u64; self.candidates.len().div_ceil(64)];
        let mut seen: HashSet<(Vec<u64>, KeyState)> = HashSet::new();
        let mut stack: Vec<(usize, KeyState)> = Vec::new();
        let mut entry = entries.next[0];
        loop {
            if remaining == 0 {
                return Some(true);
            }
            if seen.len() > SEARCH_BUDGET {
                return None;
            }
            if entry != NIL && entries.is_call[entry] {
                let c = entries.candidate[entry];
                let candidate = &self.candidates[c];
                let reusable = matches!(candidate.step, Step::UnseenWrite { .. });
                if let Some(next_state) = self.step(&state, &candidate.step) {
                    if !reusable {
                        flip(&mut linearized, c);
                    }
                    if seen.insert((linearized.clone(), next_state.clone())) {
                        stack.push((entry, std::mem::replace(&mut state, next_state)));
                        if candidate.answered {
                            remaining -= 1;
                        }
                        if !reusable {
                            entries.lift(entry);
                        }
                        entry = entries.next[0];
                        continue;
                    }
                    if !reusable {
                        flip(&mut linearized, c);
                    }
                }
                entry = entries.next[entry];
            } else {
                // An answered operation returned before it could be placed: backtrack.
                let (call, previous) = stack.pop()?;
                let candidate = &self.candidates[entries.candidate[call]];
                state = previous;
                if candidate.answered {
                    remaining += 1;
                }
                if !matches!(candidate.step, Step::UnseenWrite { .. }) {
                    flip(&mut linearized, entries.candidate[call]);
                    entries.unlift(call);
                }
                entry = entries.next[call];
            }
        }
    }

    /// The key's state after `step` takes effect in `state`, or `None` if it cannot happen there.
    fn step(&self, state: &KeyState, step: &Step) -> Option<KeyState> {
        let op = match step {
            Step::Op(op) => *op,
            Step::UnseenWrite { expect } => {
                let possible = expect.is_none_or(|e| cas_may_match(state, e));
                return possible.then_some(KeyState {
                    current: Some((UNSEEN_WRITE, None)),
                    last_index: state.last_index,
                });
            }
        };
        let operation = self.ops[op];
        match (&operation.kind, &operation.outcome) {
            (OpKind::Get, Outcome::Read(found)) => self.read(state, found.as_ref()),
            (OpKind::Get, _) => None,
            (OpKind::Set { .. }, Outcome::Unknown) => Some(KeyState {
                current: Some((op, None)),
                last_index: state.last_index,
            }),
            (OpKind::Set { .. }, Outcome::Written { index, done: true }) => {
                write_at(state, op, *index)
            }
            (OpKind::Cas { expect, .. }, Outcome::Unknown) => cas_may_match(state, *expect)
                .then_some(KeyState {
                    current: Some((op, None)),
                    last_index: state.last_index,
                }),
            (OpKind::Cas { expect, .. }, Outcome::Written { index, done: true }) => {
                if cas_may_match(state, *expect) {
                    write_at(state, op, *index)
                } else {
                    None
                }
            }
            (OpKind::Cas { expect, .. }, Outcome::Written { done: false, .. }) => {
                cas_may_mismatch(state, *expect).then(|| state.clone())
            }
            (OpKind::Set { .. }, _) | (OpKind::Cas { .. }, Outcome::Read(_)) => None,
        }
    }

    fn read(&self, state: &KeyState, found: Option<&(Bytes, u64)>) -> Option<KeyState> {
        let Some((value, index)) = found else {
            return state.current.is_none().then(|| state.clone());
        };
        let writer = *self.writers.get(value)?;
        match state.current {
            Some((w, Some(known))) if w == writer && known == *index => Some(state.clone()),
            // The read reveals the ModifyIndex of a write whose answer was lost.
            Some((w, None)) if w == writer && *index > state.last_index => Some(KeyState {
                current: Some((w, Some(*index))),
                last_index: *index,
            }),
            _ => None,
        }
    }
}

/// A write with a known Raft index: later in the log than every write before it.
fn write_at(state: &KeyState, op: usize, index: u64) -> Option<KeyState> {
    (index > state.last_index).then_some(KeyState {
        current: Some((op, Some(index))),
        last_index: index,
    })
}

/// Whether a CAS expecting `expect` can succeed in `state`.
fn cas_may_match(state: &KeyState, expect: u64) -> bool {
    match state.current {
        None => expect == 0,
        Some((_, Some(index))) => index == expect,
        // The current write's index is unknown but later than every known one.
        Some((_, None)) => expect > state.last_index,
    }
}

/// Whether a CAS expecting `expect` can fail in `state`.
fn cas_may_mismatch(state: &KeyState, expect: u64) -> bool {
    match state.current {
        None => expect != 0,
        Some((_, Some(index))) => index != expect,
        Some((_, None)) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &'static str) -> Bytes {
        Bytes::from_static(s.as_bytes())
    }

    fn set(h: &mut History, client: usize, value: &'static str) -> usize {
        h.invoke(client, "k", OpKind::Set { value: v(value) })
    }

    fn cas(h: &mut History, client: usize, value: &'static str, expect: u64) -> usize {
        h.invoke(
            client,
            "k",
            OpKind::Cas {
                value: v(value),
                expect,
            },
        )
    }

    fn written(index: u64) -> Outcome {
        Outcome::Written { index, done: true }
    }

    fn read(value: &'static str, index: u64) -> Outcome {
        Outcome::Read(Some((v(value), index)))
    }

    #[test]
    fn sequential_writes_and_reads_are_linearizable() {
        let mut h = History::new();
        let w = set(&mut h, 0, "a");
        h.complete(w, written(5));
        let r = h.invoke(1, "k", OpKind::Get);
        h.complete(r, read("a", 5));
        assert_eq!(check_history(&h), Ok(()));
    }

    #[test]
    fn stale_read_after_completed_write_is_rejected() {
        let mut h = History::new();
        let a = set(&mut h, 0, "a");
        h.complete(a, written(5));
        let b = set(&mut h, 0, "b");
        h.complete(b, written(6));
        let r = h.invoke(1, "k", OpKind::Get);
        h.complete(r, read("a", 5));
        assert!(check_history(&h).is_err());
    }

    #[test]
    fn concurrent_read_may_see_either_side_of_a_write() {
        let mut h = History::new();
        let a = set(&mut h, 0, "a");
        h.complete(a, written(5));
        let b = set(&mut h, 0, "b");
        let r1 = h.invoke(1, "k", OpKind::Get);
        let r2 = h.invoke(2, "k", OpKind::Get);
        h.complete(r1, read("b", 6));
        h.complete(r2, read("a", 5));
        h.complete(b, written(6));
        // r2 may be ordered before b, r1 after it.
        assert_eq!(check_history(&h), Ok(()));
    }

    #[test]
    fn reads_that_go_back_in_time_are_rejected() {
        let mut h = History::new();
        let a = set(&mut h, 0, "a");
        h.complete(a, written(5));
        let b = set(&mut h, 0, "b");
        let r1 = h.invoke(1, "k", OpKind::Get);
        h.complete(r1, read("b", 6));
        let r2 = h.invoke(2, "k", OpKind::Get);
        h.complete(r2, read("a", 5));
        h.complete(b, written(6));
        assert!(check_history(&h).is_err());
    }

    #[test]
    fn unanswered_write_may_take_effect_later_and_reveal_its_index() {
        let mut h = History::new();
        let a = set(&mut h, 0, "a");
        h.complete(a, written(5));
        set(&mut h, 0, "lost");
        let r1 = h.invoke(1, "k", OpKind::Get);
        h.complete(r1, read("a", 5));
        let r2 = h.invoke(1, "k", OpKind::Get);
        h.complete(r2, read("lost", 9));
        let c = cas(&mut h, 1, "c", 9);
        h.complete(c, written(11));
        assert_eq!(check_history(&h), Ok(()));
    }

    #[test]
    fn unanswered_write_may_never_take_effect() {
        let mut h = History::new();
        set(&mut h, 0, "lost");
        let r = h.invoke(1, "k", OpKind::Get);
        h.complete(r, Outcome::Read(None));
        assert_eq!(check_history(&h), Ok(()));
    }

    #[test]
    fn unanswered_write_cannot_take_effect_before_its_call() {
        let mut h = History::new();
        let r = h.invoke(1, "k", OpKind::Get);
        h.complete(r, read("late", 3));
        set(&mut h, 0, "late");
        assert!(check_history(&h).is_err());
    }

    #[test]
    fn cas_succeeds_only_on_the_current_modify_index() {
        let mut h = History::new();
        let a = set(&mut h, 0, "a");
        h.complete(a, written(5));
        let c = cas(&mut h, 1, "c", 4);
        h.complete(c, written(7));
        assert!(check_history(&h).is_err());
    }

    #[test]
    fn cas_zero_creates_only_when_absent() {
        let mut ok = History::new();
        let c = cas(&mut ok, 0, "c", 0);
        ok.complete(c, written(3));
        let d = cas(&mut ok, 1, "d", 0);
        ok.complete(
            d,
            Outcome::Written {
                index: 4,
                done: false,
            },
        );
        assert_eq!(check_history(&ok), Ok(()));

        let mut bad = History::new();
        let c = cas(&mut bad, 0, "c", 0);
        bad.complete(c, written(3));
        let d = cas(&mut bad, 1, "d", 0);
        bad.complete(d, written(4));
        assert!(check_history(&bad).is_err());
    }

    #[test]
    fn failed_cas_on_matching_index_is_rejected() {
        let mut h = History::new();
        let a = set(&mut h, 0, "a");
        h.complete(a, written(5));
        let c = cas(&mut h, 1, "c", 5);
        h.complete(
            c,
            Outcome::Written {
                index: 6,
                done: false,
            },
        );
        assert!(check_history(&h).is_err());
    }

    #[test]
    fn write_indexes_must_grow_in_real_time_order() {
        let mut h = History::new();
        let a = set(&mut h, 0, "a");
        h.complete(a, written(8));
        let b = set(&mut h, 0, "b");
        h.complete(b, written(6));
        assert!(check_history(&h).is_err());
    }

    #[test]
    fn read_of_a_value_never_written_is_rejected() {
        let mut h = History::new();
        let r = h.invoke(1, "k", OpKind::Get);
        h.complete(r, read("ghost", 2));
        assert!(check_history(&h).is_err());
    }

    #[test]
    fn keys_are_checked_independently() {
        let mut h = History::new();
        let a = h.invoke(0, "x", OpKind::Set { value: v("a") });
        h.complete(a, written(5));
        let r = h.invoke(1, "y", OpKind::Get);
        h.complete(r, Outcome::Read(None));
        assert_eq!(check_history(&h), Ok(()));
    }

    #[test]
    fn unseen_unanswered_write_explains_a_failed_cas() {
        let mut h = History::new();
        let a = set(&mut h, 0, "a");
        h.complete(a, written(5));
        set(&mut h, 1, "never-read");
        let c = cas(&mut h, 2, "c", 5);
        h.complete(
            c,
            Outcome::Written {
                index: 9,
                done: false,
            },
        );
        assert_eq!(check_history(&h), Ok(()));
    }

    #[test]
    fn unseen_unanswered_writes_cannot_bring_back_an_old_value() {
        let mut h = History::new();
        let a = set(&mut h, 0, "a");
        h.complete(a, written(5));
        set(&mut h, 1, "lost1");
        set(&mut h, 2, "lost2");
        let b = set(&mut h, 0, "b");
        h.complete(b, written(8));
        let r = h.invoke(3, "k", OpKind::Get);
        h.complete(r, read("a", 5));
        assert!(check_history(&h).is_err());
    }

    #[test]
    fn hundreds_of_interleaved_unanswered_writes_stay_tractable() {
        let mut h = History::new();
        let mut index = 0;
        for round in 0..300u64 {
            let value = Bytes::from(format!("lost{round}"));
            h.invoke(1, "k", OpKind::Set { value });
            let value = Bytes::from(format!("ok{round}"));
            let w = h.invoke(
                0,
                "k",
                OpKind::Set {
                    value: value.clone(),
                },
            );
            index += 2;
            h.complete(w, written(index));
            let r = h.invoke(2, "k", OpKind::Get);
            h.complete(r, Outcome::Read(Some((value, index))));
        }
        assert_eq!(check_history(&h), Ok(()));
    }

    #[test]
    fn many_concurrent_unanswered_writes_stay_tractable() {
        let mut h = History::new();
        let values: Vec<&'static str> = vec![
            "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11",
        ];
        for (i, value) in values.iter().enumerate() {
            set(&mut h, i, value);
        }
        let r = h.invoke(99, "k", OpKind::Get);
        h.complete(r, read("v7", 40));
        assert_eq!(check_history(&h), Ok(()));
    }
}
