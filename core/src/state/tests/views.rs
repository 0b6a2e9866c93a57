//! The published view: a frozen copy of the tables that later applies do not disturb.

use super::{get, set};
use crate::state::State;
use crate::state::kv_types::KvQuery;

#[test]
fn a_view_keeps_the_tables_as_of_its_index_while_the_state_moves_on() {
    let mut state = State::new();
    state.apply(2, &set("a", "1"));
    let view = state.view();
    state.apply(3, &set("a", "2"));
    state.apply(4, &set("b", "3"));

    assert_eq!(view.index(), 2);
    let (found, index) = view.query(&KvQuery::Get { key: "a".into() }.into());
    let (now, now_index) = state.query(&KvQuery::Get { key: "a".into() }.into());
    assert_eq!(index, 2);
    assert_eq!(now_index, 3);
    assert_ne!(found, now);
    assert!(view.kv().get("b").is_none());
    assert_eq!(get(&state, "b").1, 4);
}

#[test]
fn a_view_answers_every_read_as_the_state_it_was_taken_from() {
    let mut state = State::new();
    for (i, key) in ["x/1", "x/2", "y"].iter().enumerate() {
        state.apply(2 + i as u64, &set(key, "v"));
    }
    let view = state.view();
    for query in [
        KvQuery::Get { key: "x/1".into() },
        KvQuery::List {
            prefix: "x/".into(),
        },
        KvQuery::Keys {
            prefix: String::new(),
            separator: Some("/".into()),
        },
    ] {
        let query = query.into();
        assert_eq!(view.query(&query), state.query(&query));
    }
    assert_eq!(view.catalog(), state.catalog());
}
