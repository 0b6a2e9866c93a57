//! Simulation speed: simulated seconds per wall second for a 5-node cluster under a steady client
//! workload with no faults.

use std::time::Instant;

use synod_core::time::Duration;
use synod_sim::world::options::PartitionMode;
use synod_sim::world::{Options, run_options};

fn steady_five_nodes(seed: u64) -> Options {
    let mut options = Options::from_seed(seed);
    options.nodes = 5;
    options.network.loss = 0.0;
    options.network.duplicate = 0.0;
    options.network.reorder = 0.0;
    options.network.partition_mode = PartitionMode::None;
    options.crash.crash_probability = 0.0;
    options.crash.crash_after_vote = 0.0;
    options.workload.clients = 4;
    options.workload.keys = 4;
    options.workload.think_max = Duration::from_millis(20);
    options.safety_duration = Duration::from_secs(60);
    options
}

fn main() {
    let mut simulated = 0.0;
    let mut ops = 0;
    let mut steps = 0;
    let started = Instant::now();
    for seed in 0..5 {
        let report = run_options(steady_five_nodes(seed));
        if let Some(f) = &report.failure {
            eprintln!("seed {seed} failed: {}", f.reason);
            std::process::exit(1);
        }
        simulated += report.stats.simulated_us as f64 / 1e6;
        ops += report.stats.ops;
        steps += report.stats.steps;
    }
    let wall = started.elapsed().as_secs_f64();
    println!("sim_speed: 5 nodes, 4 clients, 5 runs");
    println!("simulated {simulated:.1} s in {wall:.2} s wall");
    println!("speed: {:.0}x real time", simulated / wall);
    println!(
        "events: {:.0}/s, client ops: {:.0}/s",
        steps as f64 / wall,
        ops as f64 / wall
    );
}
