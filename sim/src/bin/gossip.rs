//! Gossip benchmark: `gossip --nodes N --loss P --seed S [--no-lifeguard]`.
//! Prints exactly one line of figures (see `synod_sim::gossip::scenario`).

use synod_sim::gossip::scenario::{BenchOptions, run_benchmark};

fn parse_args() -> Result<BenchOptions, String> {
    let mut opts = BenchOptions {
        nodes: 100,
        loss: 0.0,
        seed: 1,
        lifeguard: true,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--nodes" => opts.nodes = value()?.parse().map_err(|e| format!("--nodes: {e}"))?,
            "--loss" => opts.loss = value()?.parse().map_err(|e| format!("--loss: {e}"))?,
            "--seed" => opts.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--no-lifeguard" => opts.lifeguard = false,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if opts.nodes < 2 {
        return Err("--nodes must be at least 2".into());
    }
    if !(0.0..1.0).contains(&opts.loss) {
        return Err("--loss must be in [0, 1)".into());
    }
    Ok(opts)
}

fn main() {
    match parse_args() {
        Ok(opts) => {
            let report = run_benchmark(&opts);
            if !report.formed {
                eprintln!("gossip: warning: the pool never fully formed; figures are suspect");
            }
            println!("{report}");
        }
        Err(e) => {
            eprintln!("gossip: {e}\nusage: gossip --nodes N --loss P --seed S [--no-lifeguard]");
            std::process::exit(2);
        }
    }
}
