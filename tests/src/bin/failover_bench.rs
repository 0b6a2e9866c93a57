//! Leader failover of a 3-server cluster: `trials` times, SIGKILL the leader and time the first
//! write acknowledged through a surviving server; then restart every server and check that no
//! acknowledged write was lost. Runs synod and, with `--etcd`, etcd 3.4 (started by
//! `/work/shared/peers/etcd.sh` in the same run) the same way; prints one line per system and
//! the ratio.
//!
//! `cargo build --release -p synod-runtime-smol --bin synod &&
//!  cargo run --release -p synod-tests --bin failover_bench -- [--trials 20] [--etcd]`

use std::path::PathBuf;
use std::time::Duration;

use synod_tests::etcd_cluster::EtcdCluster;
use synod_tests::failover::{Acked, Cluster, failover_trial, lost_after_full_restart, percentile};
use synod_tests::process_cluster::ProcessCluster;

/// Bound on forming the cluster, on one failover and on the final restart.
const LIMIT: Duration = Duration::from_secs(60);
/// The shared peers' etcd script.
const ETCD_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/peers/etcd.sh");

struct Options {
    synod: PathBuf,
    trials: usize,
    work: PathBuf,
    /// Also measure etcd.
    etcd: bool,
    /// Leave the data dirs and agent logs behind for inspection.
    keep: bool,
}

fn parse_args() -> Result<Options, String> {
    let mut opts = Options {
        synod: PathBuf::from("target/release/synod"),
        trials: 20,
        work: std::env::temp_dir().join(format!("synod-failover-{}", std::process::id())),
        etcd: false,
        keep: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--synod" => opts.synod = PathBuf::from(value()?),
            "--trials" => opts.trials = value()?.parse().map_err(|e| format!("--trials: {e}"))?,
            "--work" => opts.work = PathBuf::from(value()?),
            "--etcd" => opts.etcd = true,
            "--keep" => opts.keep = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(opts)
}

/// One system's figures.
struct Figures {
    median: f64,
    p99: f64,
    max: f64,
    acknowledged: usize,
    lost: usize,
}

fn measure(
    name: &str,
    cluster: &mut (impl Cluster + Sync),
    trials: usize,
) -> Result<Figures, String> {
    let mut acked = Acked::new();
    let mut samples = Vec::with_capacity(trials);
    for trial in 0..trials {
        let took = failover_trial(cluster, trial, &mut acked, LIMIT)?;
        eprintln!("{name} trial {trial}: first acknowledged write {took:.3?} after the kill");
        samples.push(took.as_secs_f64());
    }
    let lost = lost_after_full_restart(cluster, &acked, LIMIT)?;
    Ok(Figures {
        median: percentile(&mut samples, 0.5),
        p99: percentile(&mut samples, 0.99),
        max: samples.last().copied().unwrap_or(f64::NAN),
        acknowledged: acked.len(),
        lost: lost.len(),
    })
}

fn line(system: &str, trials: usize, f: &Figures) -> String {
    format!(
        "failover: system={system} trials={trials} median_s={:.3} p99_s={:.3} max_s={:.3} acknowledged={} lost={}",
        f.median, f.p99, f.max, f.acknowledged, f.lost
    )
}

fn run(opts: &Options) -> Result<Vec<String>, String> {
    let _ = std::fs::remove_dir_all(&opts.work);
    let mut lines = Vec::new();
    let synod = {
        let mut cluster = ProcessCluster::start(&opts.synod, &opts.work.join("synod"), 3, LIMIT)
            .map_err(|e| format!("starting the synod cluster: {e}"))?;
        measure("synod", &mut cluster, opts.trials)?
    };
    lines.push(line("synod", opts.trials, &synod));
    if opts.etcd {
        let peers = opts.work.join("peers");
        let mut cluster = EtcdCluster::start(ETCD_SCRIPT.as_ref(), &peers, LIMIT)
            .map_err(|e| format!("starting the etcd cluster: {e}"))?;
        let etcd = measure("etcd", &mut cluster, opts.trials)?;
        drop(cluster);
        lines.push(line("etcd", opts.trials, &etcd));
        lines.push(format!(
            "failover: synod/etcd median_ratio={:.2} p99_ratio={:.2}",
            synod.median / etcd.median,
            synod.p99 / etcd.p99
        ));
    }
    if opts.keep {
        eprintln!("logs and data kept under {}", opts.work.display());
    } else {
        let _ = std::fs::remove_dir_all(&opts.work);
    }
    Ok(lines)
}

fn main() {
    match parse_args().and_then(|opts| run(&opts)) {
        Ok(lines) => {
            for line in lines {
                println!("{line}");
            }
        }
        Err(e) => {
            eprintln!("failover_bench: {e}");
            std::process::exit(1);
        }
    }
}
