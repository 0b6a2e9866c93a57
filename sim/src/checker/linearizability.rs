//! Per-key linearizability of a KV history: Wing–Gong search with Lowe's memoisation (the
//! algorithm behind Knossos and Porcupine), against a model of one Consul key.
//!
//! Every written value is unique, so a read names the write it saw. An unanswered write may take
//! effect at any point after its call, or never: its return sits at infinity and the search stops
//! as soon as every answered operation is placed.

use std::collections::{BTreeMap, HashSet};

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

/// The model of one key: the write whose value it holds (by position in the key's history), that
/// write's ModifyIndex when known, and the highest known ModifyIndex so far (Raft indexes grow in
/// log order, which is the linearization order of writes).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct KeyState {
    current: Option<(usize, Option<u64>)>,
    last_index: u64,
}

/// Checks the history of one key.
pub fn check_key(key: &str, ops: &[&Operation]) -> Result<(), NonLinearizable> {
    let writers = writers_by_value(ops);
    let fail = || NonLinearizable {
        key: key.to_string(),
        detail: describe(ops),
    };
    let Some(writers) = writers else {
        return Err(fail());
    };
    let model = Model { ops, writers };
    if model.search() { Ok(()) } else { Err(fail()) }
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
    ops: &'a [&'a Operation],
    writers: BTreeMap<Bytes, usize>,
}

const NIL: usize = usize::MAX;

/// The call/return entries of a history as a doubly linked list in time order; entry 0 is the
/// head sentinel.
struct Entries {
    op: Vec<usize>,
    is_call: Vec<bool>,
    partner: Vec<usize>,
    prev: Vec<usize>,
    next: Vec<usize>,
}

impl Entries {
    fn new(ops: &[&Operation]) -> Self {
        let mut events: Vec<(u64, bool, usize)> = Vec::with_capacity(ops.len() * 2);
        for (i, op) in ops.iter().enumerate() {
            events.push((op.call, true, i));
            events.push((op.ret, false, i));
        }
        // Ties only happen between returns at infinity; calls first keeps the order well-formed.
        events.sort_by_key(|&(time, is_call, op)| (time, !is_call, op));
        let n = events.len() + 1;
        let mut entries = Entries {
            op: vec![NIL; n],
            is_call: vec![false; n],
            partner: vec![NIL; n],
            prev: (0..n).map(|i| i.wrapping_sub(1)).collect(),
            next: (1..=n).map(|i| if i == n { NIL } else { i }).collect(),
        };
        let mut call_entry = vec![NIL; ops.len()];
        for (pos, &(_, is_call, op)) in events.iter().enumerate() {
            let e = pos + 1;
            entries.op[e] = op;
            entries.is_call[e] = is_call;
            if is_call {
                call_entry[op] = e;
            } else {
                entries.partner[e] = call_entry[op];
                entries.partner[call_entry[op]] = e;
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

impl Model<'_> {
    fn answered(&self, op: usize) -> bool {
        self.ops[op].outcome != Outcome::Unknown
    }

    fn search(&self) -> bool {
        let mut entries = Entries::new(self.ops);
        let mut remaining = (0..self.ops.len()).filter(|&i| self.answered(i)).count();
        let mut state = KeyState {
            current: None,
            last_index: 0,
        };
        let mut linearized = vec![0u64; self.ops.len().div_ceil(64)];
        let mut seen: HashSet<(Vec<u64>, KeyState)> = HashSet::new();
        let mut stack: Vec<(usize, KeyState)> = Vec::new();
        let mut entry = entries.next[0];
        loop {
            if remaining == 0 {
                return true;
            }
            if entry != NIL && entries.is_call[entry] {
                let op = entries.op[entry];
                if let Some(next_state) = self.step(&state, op) {
                    linearized[op / 64] |= 1 << (op % 64);
                    if seen.insert((linearized.clone(), next_state.clone())) {
                        stack.push((entry, std::mem::replace(&mut state, next_state)));
                        if self.answered(op) {
                            remaining -= 1;
                        }
                        entries.lift(entry);
                        entry = entries.next[0];
                        continue;
                    }
                    linearized[op / 64] &= !(1 << (op % 64));
                }
                entry = entries.next[entry];
            } else {
                // An answered operation returned before it could be placed: backtrack.
                let Some((call, previous)) = stack.pop() else {
                    return false;
                };
                let op = entries.op[call];
                state = previous;
                linearized[op / 64] &= !(1 << (op % 64));
                if self.answered(op) {
                    remaining += 1;
                }
                entries.unlift(call);
                entry = entries.next[call];
            }
        }
    }

    /// The key's state after `op` takes effect in `state`, or `None` if it cannot happen there.
    fn step(&self, state: &KeyState, op: usize) -> Option<KeyState> {
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
        let c = h.invoke(
            1,
            "k",
            OpKind::Cas {
                value: v("c"),
                expect: 9,
            },
        );
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
        let c = h.invoke(
            1,
            "k",
            OpKind::Cas {
                value: v("c"),
                expect: 4,
            },
        );
        h.complete(c, written(7));
        assert!(check_history(&h).is_err());
    }

    #[test]
    fn cas_zero_creates_only_when_absent() {
        let mut ok = History::new();
        let c = ok.invoke(
            0,
            "k",
            OpKind::Cas {
                value: v("c"),
                expect: 0,
            },
        );
        ok.complete(c, written(3));
        let d = ok.invoke(
            1,
            "k",
            OpKind::Cas {
                value: v("d"),
                expect: 0,
            },
        );
        ok.complete(
            d,
            Outcome::Written {
                index: 4,
                done: false,
            },
        );
        assert_eq!(check_history(&ok), Ok(()));

        let mut bad = History::new();
        let c = bad.invoke(
            0,
            "k",
            OpKind::Cas {
                value: v("c"),
                expect: 0,
            },
        );
        bad.complete(c, written(3));
        let d = bad.invoke(
            1,
            "k",
            OpKind::Cas {
                value: v("d"),
                expect: 0,
            },
        );
        bad.complete(d, written(4));
        assert!(check_history(&bad).is_err());
    }

    #[test]
    fn failed_cas_on_matching_index_is_rejected() {
        let mut h = History::new();
        let a = set(&mut h, 0, "a");
        h.complete(a, written(5));
        let c = h.invoke(
            1,
            "k",
            OpKind::Cas {
                value: v("c"),
                expect: 5,
            },
        );
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
