//! Leader failover of a 3-server synod cluster: `trials` times, SIGKILL the leader and time
//! the first write acknowledged through a surviving server; then restart every server and
//! check that no acknowledged write was lost. Prints one line of figures.
//!
//! `cargo build --release -p synod-runtime-smol --bin synod &&
//!  cargo run --release -p synod-tests --bin failover_bench -- [--synod target/release/synod] [--trials 20]`

use std::path::PathBuf;
use std::time::Duration;

use synod_tests::failover::{Acked, failover_trial, lost_after_full_restart, percentile};
use synod_tests::process_cluster::ProcessCluster;

/// Bound on forming the cluster, on one failover and on the final restart.
const LIMIT: Duration = Duration::from_secs(60);

struct Options {
    synod: PathBuf,
    trials: usize,
    work: PathBuf,
}

fn parse_args() -> Result<Options, String> {
    let mut opts = Options {
        synod: PathBuf::from("target/release/synod"),
        trials: 20,
        work: std::env::temp_dir().join(format!("synod-failover-{}", std::process::id())),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--synod" => opts.synod = PathBuf::from(value()?),
            "--trials" => opts.trials = value()?.parse().map_err(|e| format!("--trials: {e}"))?,
            "--work" => opts.work = PathBuf::from(value()?),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(opts)
}

fn run(opts: &Options) -> Result<String, String> {
    let _ = std::fs::remove_dir_all(&opts.work);
    let mut cluster = ProcessCluster::start(&opts.synod, &opts.work, 3, LIMIT)
        .map_err(|e| format!("starting the cluster: {e}"))?;
    let mut acked = Acked::new();
    let mut samples = Vec::with_capacity(opts.trials);
    for trial in 0..opts.trials {
        let took = failover_trial(&mut cluster, trial, &mut acked, LIMIT)?;
        eprintln!("trial {trial}: first acknowledged write {took:.3?} after the kill");
        samples.push(took.as_secs_f64());
    }
    let lost = lost_after_full_restart(&mut cluster, &acked, LIMIT)?;
    drop(cluster);
    let _ = std::fs::remove_dir_all(&opts.work);
    let median = percentile(&mut samples, 0.5);
    let p99 = percentile(&mut samples, 0.99);
    let max = samples.last().copied().unwrap_or(f64::NAN);
    Ok(format!(
        "failover: system=synod trials={} median_s={median:.3} p99_s={p99:.3} max_s={max:.3} acknowledged={} lost={}",
        opts.trials,
        acked.len(),
        lost.len()
    ))
}

fn main() {
    let outcome = parse_args().and_then(|opts| run(&opts));
    match outcome {
        Ok(line) => println!("{line}"),
        Err(e) => {
            eprintln!("failover_bench: {e}");
            std::process::exit(1);
        }
    }
}
