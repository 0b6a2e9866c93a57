//! Leader failover as a client sees it: SIGKILL the leader of a 3-server cluster, then start a
//! write through a surviving server every 10 ms (each on its own, so one stuck on the dead
//! leader does not hold back the next) until one is acknowledged. The time from the kill to
//! that acknowledgement is the figure; every acknowledged write, late ones included, is kept so
//! it can be checked after all servers restart. The same driver runs synod ([`ProcessCluster`]) and etcd
//! ([`crate::etcd_cluster::EtcdCluster`]).
//!
//! [`ProcessCluster`]: crate::process_cluster::ProcessCluster

use std::io;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Acknowledged writes before the kill, so the leader has fresh entries to lose.
const WARM_WRITES: u64 = 5;
/// A new write starts this often after the kill (a client writing every 10 ms).
const WRITE_EVERY: Duration = Duration::from_millis(10);

/// Every write a server acknowledged: key and value.
pub type Acked = Vec<(String, String)>;

/// What the driver needs from a cluster under test.
pub trait Cluster {
    /// How many servers it has.
    fn size(&self) -> usize;
    /// Waits until every running server agrees on a running leader; its index.
    fn wait_for_leader(&self, limit: Duration) -> Option<usize>;
    /// SIGKILLs server `i`.
    fn kill(&mut self, i: usize);
    /// Starts server `i` again on its data and ports.
    fn restart(&mut self, i: usize) -> io::Result<()>;
    /// Writes `value` at `key` through server `i`; true when acknowledged (one attempt,
    /// bounded in time).
    fn put(&self, i: usize, key: &str, value: &str) -> bool;
    /// Reads `key` through server `i` with the default (linearizable) consistency.
    fn get(&self, i: usize, key: &str, limit: Duration) -> Result<Option<String>, String>;
}

fn entry(trial: usize, seq: u64) -> (String, String) {
    (
        format!("failover/t{trial}/{seq}"),
        format!("trial {trial} write {seq}"),
    )
}

/// One trial: kill the leader, time the first acknowledged write through a survivor, then
/// restart the killed server and wait until all agree on a leader again.
pub fn failover_trial<C: Cluster + Sync>(
    cluster: &mut C,
    trial: usize,
    acked: &mut Acked,
    limit: Duration,
) -> Result<Duration, String> {
    let leader = cluster
        .wait_for_leader(limit)
        .ok_or("no leader before the kill")?;
    let survivor = (leader + 1) % cluster.size();
    for seq in 0..WARM_WRITES {
        let (key, value) = entry(trial, seq);
        if !cluster.put(survivor, &key, &value) {
            return Err(format!("warm-up write {key} was not acknowledged"));
        }
        acked.push((key, value));
    }
    let killed_at = Instant::now();
    cluster.kill(leader);
    let shared: &C = cluster;
    let took = thread::scope(|scope| {
        let (acks, acked_writes) = mpsc::channel();
        let mut first = None;
        let mut seq = WARM_WRITES;
        while first.is_none() && killed_at.elapsed() <= limit {
            let (key, value) = entry(trial, seq);
            seq += 1;
            let acks = acks.clone();
            scope.spawn(move || {
                if shared.put(survivor, &key, &value) {
                    // The receiver outlives every writer: it drains them below.
                    let _ = acks.send((key, value, Instant::now()));
                }
            });
            if let Ok((key, value, at)) = acked_writes.recv_timeout(WRITE_EVERY) {
                first = Some(at.saturating_duration_since(killed_at));
                acked.push((key, value));
            }
        }
        drop(acks);
        // Writes still in flight may be acknowledged late: they must survive too.
        acked.extend(acked_writes.into_iter().map(|(key, value, _)| (key, value)));
        first
    });
    let took = took.ok_or(format!(
        "no write acknowledged within {limit:?} of the kill"
    ))?;
    cluster
        .restart(leader)
        .map_err(|e| format!("restarting the killed leader: {e}"))?;
    cluster
        .wait_for_leader(limit)
        .ok_or("the restarted server did not rejoin")?;
    Ok(took)
}

/// Kills and restarts every server, then reads every acknowledged write back; the writes
/// that are missing or different.
pub fn lost_after_full_restart(
    cluster: &mut (impl Cluster + Sync),
    acked: &Acked,
    limit: Duration,
) -> Result<Acked, String> {
    for i in 0..cluster.size() {
        cluster.kill(i);
    }
    for i in 0..cluster.size() {
        cluster
            .restart(i)
            .map_err(|e| format!("restarting server {i}: {e}"))?;
    }
    let leader = cluster
        .wait_for_leader(limit)
        .ok_or("no leader after the full restart")?;
    let mut lost = Vec::new();
    for (key, value) in acked {
        if cluster.get(leader, key, limit)?.as_ref() != Some(value) {
            lost.push((key.clone(), value.clone()));
        }
    }
    Ok(lost)
}

/// The nearest-rank `p` percentile (0 < p ≤ 1) of `samples`, which it sorts.
pub fn percentile(samples: &mut [f64], p: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples.sort_by(f64::total_cmp);
    let rank = (p * samples.len() as f64).ceil() as usize;
    samples[rank.clamp(1, samples.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_is_nearest_rank() {
        let mut samples = vec![5.0, 1.0, 4.0, 2.0, 3.0];
        assert_eq!(percentile(&mut samples, 0.5), 3.0);
        assert_eq!(percentile(&mut samples, 0.99), 5.0);
        assert_eq!(percentile(&mut samples, 0.2), 1.0);
        assert!(percentile(&mut [], 0.5).is_nan());
    }
}
