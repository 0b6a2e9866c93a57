//! What a snapshot of the state machine costs the node loop that takes it: time to encode the
//! state at several sizes (KV keys shaped like the `kvput.lua` benchmark's), and time to take
//! the published read view.
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
        while index <= target {
            index += 1;
            let command = KvCommand::Set {
                key: format!("bench/t{}/k{:09}", index % 2, index),
                value: Bytes::from_static(b"vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"),
                flags: 0,
            };
            state.apply(index, &command.into());
        }
        let started = Instant::now();
        let bytes = state.snapshot();
        let encode = started.elapsed();
        let started = Instant::now();
        let view = state.view();
        let publish = started.elapsed();
        println!(
            "{target:>7} keys: snapshot {:>6.1} ms ({:.1} MB), view {:>5.1} µs (index {})",
            encode.as_secs_f64() * 1e3,
            bytes.len() as f64 / 1e6,
            publish.as_secs_f64() * 1e6,
            view.index(),
        );
    }
}
