//! VOPR: runs simulated worlds seed by seed and reports every failing seed with its replay command.
//!
//! `vopr --seeds N [--first-seed S]`, `vopr --seed S [--trace-hash]`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::ExitCode;
use std::time::Instant;

use synod_sim::world::{Options, Report, run_seed};

enum Command {
    Sweep { first: u64, count: u64 },
    One { seed: u64, trace_hash: bool },
}

const USAGE: &str = "usage: vopr --seeds N [--first-seed S] | vopr --seed S [--trace-hash]";

fn parse(args: &[String]) -> Result<Command, String> {
    let mut seeds = None;
    let mut first = 0;
    let mut seed = None;
    let mut trace_hash = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut number = |name: &str| -> Result<u64, String> {
            let value = it.next().ok_or(format!("{name} needs a value"))?;
            value
                .parse()
                .map_err(|_| format!("{name}: not a number: {value}"))
        };
        match arg.as_str() {
            "--seeds" => seeds = Some(number("--seeds")?),
            "--first-seed" => first = number("--first-seed")?,
            "--seed" => seed = Some(number("--seed")?),
            "--trace-hash" => trace_hash = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    match (seed, seeds) {
        (Some(seed), None) => Ok(Command::One { seed, trace_hash }),
        (None, Some(count)) => Ok(Command::Sweep { first, count }),
        _ => Err(USAGE.to_string()),
    }
}

/// Runs one seed, turning a panic into a failure.
fn run_caught(seed: u64) -> Result<Report, String> {
    catch_unwind(AssertUnwindSafe(|| run_seed(seed))).map_err(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "non-string panic".to_string());
        format!("panic: {message}")
    })
}

fn outcome(result: &Result<Report, String>) -> Option<String> {
    match result {
        Ok(report) => report
            .failure
            .as_ref()
            .map(|f| format!("at {} µs: {}", f.at_us, f.reason)),
        Err(panic) => Some(panic.clone()),
    }
}

fn replay(seed: u64) -> String {
    format!("cargo run --release -p synod-sim --bin vopr -- --seed {seed}")
}

fn sweep(first: u64, count: u64) -> ExitCode {
    // Panics are reported per seed; keep the default hook from printing each one too.
    std::panic::set_hook(Box::new(|_| {}));
    let started = Instant::now();
    let mut failures = 0u64;
    for seed in first..first.saturating_add(count) {
        if let Some(reason) = outcome(&run_caught(seed)) {
            failures += 1;
            let first_line = reason.lines().next().unwrap_or_default();
            println!(
                "seed {seed} FAILED: {first_line}\n  replay: {}",
                replay(seed)
            );
        }
    }
    println!("wall time {:.1} s", started.elapsed().as_secs_f64());
    println!("vopr: {count} seeds, {failures} failures");
    if failures > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn one(seed: u64, trace_hash: bool) -> ExitCode {
    if !trace_hash {
        println!("seed {seed}\n{:#?}", Options::from_seed(seed));
    }
    let started = Instant::now();
    let result = run_caught(seed);
    let wall = started.elapsed().as_secs_f64();
    if let Ok(report) = &result {
        if trace_hash {
            println!("trace-hash: {:016x}", report.trace_hash);
        } else {
            let s = &report.stats;
            println!("{s:#?}");
            println!(
                "simulated {:.1} s in {wall:.2} s wall ({:.0}x)",
                s.simulated_us as f64 / 1e6,
                s.simulated_us as f64 / 1e6 / wall.max(1e-9)
            );
        }
    }
    match outcome(&result) {
        Some(reason) => {
            println!("seed {seed} FAILED: {reason}\n  replay: {}", replay(seed));
            ExitCode::FAILURE
        }
        None => {
            if !trace_hash {
                println!("seed {seed} passed");
            }
            ExitCode::SUCCESS
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse(&args) {
        Ok(Command::Sweep { first, count }) => sweep(first, count),
        Ok(Command::One { seed, trace_hash }) => one(seed, trace_hash),
        Err(e) => {
            eprintln!("{e}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
