//! Leader failover as a client sees it: SIGKILL the leader of a [`ProcessCluster`], then write
//! through a surviving server every 10 ms until one write is acknowledged. The time from the
//! kill to that acknowledgement is the figure; every acknowledged write is kept so it can be
//! checked after all servers restart.

use std::thread;
use std::time::{Duration, Instant};

use crate::http_call::http_call;
use crate::process_cluster::ProcessCluster;

/// Acknowledged writes before the kill, so the leader has fresh entries to lose.
const WARM_WRITES: u64 = 5;
/// How long one write may take before it is abandoned and retried.
const WRITE_TIMEOUT: Duration = Duration::from_secs(1);
/// Pause between failed writes (a client writing every 10 ms).
const RETRY_PAUSE: Duration = Duration::from_millis(10);

/// Every write a server acknowledged: key and value.
pub type Acked = Vec<(String, String)>;

/// Writes `value` at `key` through server `i`; true when acknowledged.
pub fn put(cluster: &ProcessCluster, i: usize, key: &str, value: &str) -> bool {
    let target = format!("/v1/kv/{key}");
    matches!(
        http_call(cluster.http_addr(i), "PUT", &target, value, WRITE_TIMEOUT),
        Ok((200, body)) if body.trim() == "true"
    )
}

fn entry(trial: usize, seq: u64) -> (String, String) {
    (
        format!("failover/t{trial}/{seq}"),
        format!("trial {trial} write {seq}"),
    )
}

/// One trial: kill the leader, time the first acknowledged write through a survivor, then
/// restart the killed server and wait until all agree on a leader again.
pub fn failover_trial(
    cluster: &mut ProcessCluster,
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
        if !put(cluster, survivor, &key, &value) {
            return Err(format!("warm-up write {key} was not acknowledged"));
        }
        acked.push((key, value));
    }
    let killed_at = Instant::now();
    cluster.kill(leader);
    let mut seq = WARM_WRITES;
    let took = loop {
        let (key, value) = entry(trial, seq);
        seq += 1;
        if put(cluster, survivor, &key, &value) {
            acked.push((key, value));
            break killed_at.elapsed();
        }
        if killed_at.elapsed() > limit {
            return Err(format!(
                "no write acknowledged within {limit:?} of the kill"
            ));
        }
        thread::sleep(RETRY_PAUSE);
    };
    cluster
        .restart(leader)
        .map_err(|e| format!("restarting the killed leader: {e}"))?;
    cluster
        .wait_for_leader(limit)
        .ok_or("the restarted server did not rejoin")?;
    Ok(took)
}

/// Kills and restarts every server, then reads every acknowledged write back (default
/// consistency); the writes that are missing or different.
pub fn lost_after_full_restart(
    cluster: &mut ProcessCluster,
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
        let target = format!("/v1/kv/{key}?raw");
        match http_call(cluster.http_addr(leader), "GET", &target, "", limit) {
            Ok((200, body)) if body == *value => {}
            Ok((404, _)) | Ok((200, _)) => lost.push((key.clone(), value.clone())),
            Ok((status, body)) => return Err(format!("reading {key}: {status} {body}")),
            Err(e) => return Err(format!("reading {key}: {e}")),
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
