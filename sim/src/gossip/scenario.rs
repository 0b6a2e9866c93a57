//! The benchmark scenario behind `bin/gossip`: join a pool, measure user-event convergence,
//! crash detection, false positives with one slow node, and bandwidth.

use super::{Cluster, NetConfig, NodeId};
use std::collections::BTreeMap;
use std::fmt;
use synod_core::gossip::{Config, Event};
use synod_core::rand::Rng;
use synod_core::time::{Duration, Instant};

/// What to simulate.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchOptions {
    /// Pool size.
    pub nodes: usize,
    /// Datagram loss probability.
    pub loss: f64,
    /// Run seed.
    pub seed: u64,
    /// Lifeguard on (memberlist default) or classic SWIM.
    pub lifeguard: bool,
}

/// The figures one run produces.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchReport {
    /// Pool size.
    pub nodes: usize,
    /// Datagram loss probability.
    pub loss: f64,
    /// Median over several user events of the time until 99.9 % of nodes have it.
    pub convergence_p999_s: f64,
    /// Median over (crashed node, observer) pairs of the time to mark the crash failed.
    pub detect_p50_s: f64,
    /// Time until the last observer marked a crashed node failed (worst crash).
    pub detect_max_s: f64,
    /// `MemberFailed` reports about members that were neither crashed nor the slowed node.
    pub false_positives: u64,
    /// Bytes sent per live node per second after the pool formed.
    pub bytes_per_node_per_s: f64,
    /// Whether every node saw the whole pool before measuring.
    pub formed: bool,
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "gossip: nodes={} loss={} convergence_p999_s={:.2} detect_p50_s={:.2} detect_max_s={:.2} false_positives={} bytes_per_node_per_s={:.0}",
            self.nodes,
            self.loss,
            self.convergence_p999_s,
            self.detect_p50_s,
            self.detect_max_s,
            self.false_positives,
            self.bytes_per_node_per_s
        )
    }
}

const JOIN_SPACING: Duration = Duration::from_millis(20);
const FORM_DEADLINE: Duration = Duration::from_secs(180);
const EVENTS: usize = 5;
const EVENT_WINDOW: Duration = Duration::from_secs(6);
const DETECT_DEADLINE: Duration = Duration::from_secs(180);
const SLOW_PHASE: Duration = Duration::from_secs(60);

/// What the observer records while the scenario runs.
#[derive(Default)]
struct Tracker {
    counting: bool,
    slow: Option<NodeId>,
    crashed_at: BTreeMap<NodeId, Instant>,
    /// First time each observer marked each crashed node failed.
    detected: BTreeMap<(NodeId, NodeId), Instant>,
    false_positives: u64,
    receipts: BTreeMap<String, Vec<Instant>>,
}

impl Tracker {
    fn observe(&mut self, now: Instant, observer: NodeId, event: &Event) {
        match event {
            Event::MemberFailed(m) => {
                let Some(subject) = node_index(&m.name) else {
                    return;
                };
                if self.crashed_at.contains_key(&subject) {
                    self.detected.entry((subject, observer)).or_insert(now);
                } else if self.counting && Some(subject) != self.slow {
                    self.false_positives += 1;
                }
            }
            Event::UserEvent(e) => self.receipts.entry(e.name.clone()).or_default().push(now),
            _ => {}
        }
    }
}

fn node_index(name: &str) -> Option<NodeId> {
    name.strip_prefix("node-")?.parse().ok()
}

/// Runs the whole scenario.
pub fn run_benchmark(opts: &BenchOptions) -> BenchReport {
    let config = Config {
        lifeguard: opts.lifeguard,
        ..Config::lan()
    };
    let net = NetConfig {
        loss: opts.loss,
        ..NetConfig::default()
    };
    let mut rng = Rng::new(opts.seed ^ 0x5eed);
    let mut cluster = Cluster::new(opts.seed, net);
    let mut t = Tracker::default();
    let n = opts.nodes.max(2);

    // Form the pool: each node joins through a random earlier one.
    cluster.add_node(config.clone(), None);
    for i in 1..n {
        cluster.add_node(config.clone(), None);
        let seed = rng.below(i as u64) as NodeId;
        cluster.run_for(JOIN_SPACING, &mut |now, o, e| t.observe(now, o, e));
        cluster.join(i, &[seed], &mut |now, o, e| t.observe(now, o, e));
    }
    let formed = run_until_formed(&mut cluster, &mut t, n);
    cluster.run_for(Duration::from_secs(5), &mut |now, o, e| {
        t.observe(now, o, e)
    });
    t.counting = true;
    let start = cluster.now();
    let sent_before: u64 = (0..n).map(|i| cluster.bytes_sent(i)).sum();

    let convergence = measure_convergence(&mut cluster, &mut t, &mut rng, n);
    let (detect_p50, detect_max) = measure_detection(&mut cluster, &mut t, &mut rng, n);

    // One healthy node handles everything it receives late, by more than the minimum
    // suspicion timeout, so a classic SWIM node times its own suspicions out before refutations
    // reach it.
    let slow = pick_healthy(&cluster, &mut rng, n, None);
    t.slow = Some(slow);
    cluster.set_inbound_delay(slow, config.suspicion_min(n).mul_f64(1.5));
    cluster.run_for(SLOW_PHASE, &mut |now, o, e| t.observe(now, o, e));
    cluster.set_inbound_delay(slow, Duration::ZERO);
    cluster.run_for(Duration::from_secs(10), &mut |now, o, e| {
        t.observe(now, o, e)
    });

    let end = cluster.now();
    let sent: u64 = (0..n).map(|i| cluster.bytes_sent(i)).sum::<u64>() - sent_before;
    let node_seconds: f64 = (0..n)
        .map(|i| {
            let stop = t.crashed_at.get(&i).copied().unwrap_or(end);
            (stop - start).as_secs_f64()
        })
        .sum();
    BenchReport {
        nodes: opts.nodes,
        loss: opts.loss,
        convergence_p999_s: convergence,
        detect_p50_s: detect_p50,
        detect_max_s: detect_max,
        false_positives: t.false_positives,
        bytes_per_node_per_s: sent as f64 / node_seconds.max(1e-9),
        formed,
    }
}

fn run_until_formed(cluster: &mut Cluster, t: &mut Tracker, n: usize) -> bool {
    let deadline = cluster.now() + FORM_DEADLINE;
    while cluster.now() < deadline {
        cluster.run_for(Duration::from_secs(1), &mut |now, o, e| {
            t.observe(now, o, e)
        });
        if (0..n).all(|i| cluster.live_members(i) == n) {
            return true;
        }
    }
    false
}

/// Median over user events of the time until ceil(99.9 %) of live nodes received it.
fn measure_convergence(cluster: &mut Cluster, t: &mut Tracker, rng: &mut Rng, n: usize) -> f64 {
    let needed = ((n as f64) * 0.999).ceil() as usize;
    let mut samples = Vec::with_capacity(EVENTS);
    for e in 0..EVENTS {
        let origin = rng.below(n as u64) as NodeId;
        let name = format!("bench-{e}");
        let sent_at = cluster.now();
        // The payload is tiny and the name short: the event always fits.
        let _ = cluster.user_event(origin, &name, b"x", &mut |now, o, ev| t.observe(now, o, ev));
        cluster.run_for(EVENT_WINDOW, &mut |now, o, ev| t.observe(now, o, ev));
        let mut times = t.receipts.remove(&name).unwrap_or_default();
        times.sort();
        let reached = times
            .get(needed.saturating_sub(1))
            .map_or(EVENT_WINDOW, |at| *at - sent_at);
        samples.push(reached.as_secs_f64());
    }
    median(&mut samples)
}

/// Crashes nodes one at a time and waits until every live node marked each one failed.
fn measure_detection(
    cluster: &mut Cluster,
    t: &mut Tracker,
    rng: &mut Rng,
    n: usize,
) -> (f64, f64) {
    let crashes = if n >= 20 { 3 } else { 1 };
    let mut samples = Vec::new();
    let mut worst: f64 = 0.0;
    for _ in 0..crashes {
        let victim = pick_healthy(cluster, rng, n, None);
        let crashed_at = cluster.now();
        cluster.crash(victim);
        t.crashed_at.insert(victim, crashed_at);
        let observers: Vec<NodeId> = (0..n).filter(|i| !cluster.is_crashed(*i)).collect();
        let deadline = crashed_at + DETECT_DEADLINE;
        while cluster.now() < deadline
            && !observers
                .iter()
                .all(|o| t.detected.contains_key(&(victim, *o)))
        {
            cluster.run_for(Duration::from_millis(250), &mut |now, o, e| {
                t.observe(now, o, e)
            });
        }
        for o in &observers {
            let at = t.detected.get(&(victim, *o)).copied().unwrap_or(deadline);
            let s = (at - crashed_at).as_secs_f64();
            worst = worst.max(s);
            samples.push(s);
        }
        cluster.run_for(Duration::from_secs(2), &mut |now, o, e| {
            t.observe(now, o, e)
        });
    }
    (median(&mut samples), worst)
}

fn pick_healthy(cluster: &Cluster, rng: &mut Rng, n: usize, not: Option<NodeId>) -> NodeId {
    loop {
        let i = rng.below(n as u64) as NodeId;
        if !cluster.is_crashed(i) && Some(i) != not {
            return i;
        }
    }
}

fn median(samples: &mut [f64]) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}
