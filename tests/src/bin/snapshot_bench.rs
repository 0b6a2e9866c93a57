//! What the state machine costs the node loop as it grows (KV keys shaped like the `kvput.lua`
//! benchmark's): time to encode a snapshot, to take the published read view, and to apply a
//! write while the previous view is still held by readers (the tables then copy the path they
//! change).
//!
//! `cargo run --release -p synod-tests --bin snapshot_bench`

use std::time::Instant;

use bytes::Bytes;
use synod_core::state::State;
use synod_core::state::kv_types::KvCommand;

fn main() {
    let mut state = State::new();
    let mut index = 1;
    for target in [10_000u64, 50_000, 100_000, 200_000, 400_000] {
        let applying = Instant::now();
        let first = index;
        let mut published = state.view();
        while index <= target {
            index += 1;
            let command = KvCommand::Set {
                key: format!("bench/t{}/k{:09}", index % 2, index),
                value: Bytes::from_static(b"vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"),
                flags: 0,
            };
            state.apply(index, &command.into());
            // What the shell does after every applied batch (here: every write).
            published = state.view();
        }
        let per_write = applying.elapsed() / u32::try_from(index - first).unwrap_or(1);
        drop(published);
        let started = Instant::now();
        let bytes = state.snapshot();
        let encode = started.elapsed();
        let started = Instant::now();
        let view = state.view();
        let publish = started.elapsed();
        println!(
            "{target:>7} keys: apply+publish {:>5.1} µs/write, snapshot {:>6.1} ms ({:.1} MB), \
             view {:>5.1} µs (index {})",
            per_write.as_secs_f64() * 1e6,
            encode.as_secs_f64() * 1e3,
            bytes.len() as f64 / 1e6,
            publish.as_secs_f64() * 1e6,
            view.index(),
        );
    }
}
