//! Failure detection of a killed member with memberlist's LAN defaults, on loopback.
//!
//! Each driver runs on its own thread with its own executor (as separate agents would). Per
//! run: the pool forms, one member is killed without leaving, and we time how long until
//! every survivor marks it `failed`. Serf's own figure on this machine is 5–6 s.
//!
//! `cargo run -p synod-runtime-smol --bin serf_bench -- [--nodes 3] [--runs 5]`

use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use smol::LocalExecutor;
use synod_runtime_smol::serf::{self, Config, MemberStatus, SerfConfig, SerfHandle};
use synod_runtime_smol::shell::smol_env::SmolEnv;

/// How often the survivors' member lists are checked.
const POLL: Duration = Duration::from_millis(5);
/// A run that has not detected the failure by then is reported as a miss.
const GIVE_UP: Duration = Duration::from_secs(60);

/// One driver on its own thread; dropping `stop` kills it.
struct Agent {
    handle: SerfHandle,
    stop: async_channel::Sender<()>,
    thread: thread::JoinHandle<()>,
}

impl Agent {
    fn kill(self) {
        drop(self.stop);
        // The thread only ends after dropping its driver; a panic there is already printed.
        let _ = self.thread.join();
    }
}

fn spawn_agent(name: String) -> Agent {
    let (ready_tx, ready_rx) = mpsc::channel();
    let (stop, stopped) = async_channel::bounded::<()>(1);
    let thread = thread::spawn(move || {
        let executor = Rc::new(LocalExecutor::new());
        let bind: SocketAddr = ([127, 0, 0, 1], 0).into();
        let config = SerfConfig::new(bind, name, Config::lan());
        let (handle, driver) = match serf::start(SmolEnv::new(executor.clone()), config) {
            Ok(started) => started,
            Err(e) => panic!("cannot bind a loopback gossip port: {e}"),
        };
        let task = executor.spawn(driver);
        if ready_tx.send(handle).is_err() {
            return;
        }
        // Runs until the bench drops `stop`, then drops the driver task: a crash, no leave.
        let _ = smol::block_on(executor.run(stopped.recv()));
        drop(task);
    });
    let handle = match ready_rx.recv() {
        Ok(handle) => handle,
        Err(_) => panic!("agent thread died during start-up"),
    };
    Agent {
        handle,
        stop,
        thread,
    }
}

fn status_of(handle: &SerfHandle, name: &str) -> Option<MemberStatus> {
    handle
        .members()
        .into_iter()
        .find(|m| m.name == name)
        .map(|m| m.status)
}

/// Polls until `done` holds or `limit` passes; the time it took, if it held.
fn wait_for(limit: Duration, mut done: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return Some(start.elapsed());
        }
        thread::sleep(POLL);
    }
    None
}

/// One run: the time until the first survivor and until every survivor saw the victim failed.
fn one_run(run: usize, nodes: usize) -> Option<(Duration, Duration)> {
    let agents: Vec<Agent> = (0..nodes)
        .map(|i| spawn_agent(format!("bench-{run}-{i}")))
        .collect();
    let seed = agents[0].handle.local_addr();
    for agent in &agents[1..] {
        if let Err(e) = smol::block_on(agent.handle.join(&[seed])) {
            eprintln!("run {run}: join failed: {e}");
            return None;
        }
    }
    let formed = wait_for(Duration::from_secs(10), || {
        agents.iter().all(|a| {
            a.handle
                .members()
                .iter()
                .filter(|m| m.status == MemberStatus::Alive)
                .count()
                == nodes
        })
    });
    if formed.is_none() {
        eprintln!("run {run}: the pool did not form");
        return None;
    }
    // Kill at a varying point of the probe cycle.
    thread::sleep(Duration::from_millis(1000 + 337 * run as u64 % 1000));
    let mut agents = agents;
    let victim = agents.pop()?;
    let victim_name = victim.handle.local_name().to_owned();
    let killed_at = Instant::now();
    victim.kill();
    let mut first_seen: Vec<Option<Duration>> = vec![None; agents.len()];
    let all = wait_for(GIVE_UP, || {
        for (seen, agent) in first_seen.iter_mut().zip(&agents) {
            if seen.is_none()
                && status_of(&agent.handle, &victim_name) == Some(MemberStatus::Failed)
            {
                *seen = Some(killed_at.elapsed());
            }
        }
        first_seen.iter().all(Option::is_some)
    });
    for agent in agents {
        agent.kill();
    }
    let first = first_seen.iter().flatten().min().copied()?;
    let all = all.map(|_| first_seen.iter().flatten().max().copied())??;
    Some((first, all))
}

fn arg(args: &[String], flag: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let nodes = arg(&args, "--nodes", 3).max(2);
    let runs = arg(&args, "--runs", 5).max(1);
    let mut all = Vec::new();
    let mut first = Vec::new();
    let mut misses = 0;
    for run in 0..runs {
        match one_run(run, nodes) {
            Some((f, a)) => {
                println!(
                    "run {run}: first survivor {:.2} s, every survivor {:.2} s",
                    secs(f),
                    secs(a)
                );
                first.push(secs(f));
                all.push(secs(a));
            }
            None => misses += 1,
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let min = all.iter().copied().fold(f64::INFINITY, f64::min);
    let max = all.iter().copied().fold(0.0, f64::max);
    println!(
        "serf_bench: nodes={nodes} runs={runs} misses={misses} detect_all_mean_s={:.2} \
         detect_all_min_s={min:.2} detect_all_max_s={max:.2} detect_first_mean_s={:.2} \
         (memberlist LAN defaults; serf on this machine: 5-6 s)",
        mean(&all),
        mean(&first)
    );
}
