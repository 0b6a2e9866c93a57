//! WAL benchmark: raw append+fdatasync versus the WAL with one writer and with 64 concurrent
//! writers sharing fsyncs through the group committer.
//!
//! `cargo run --release -p synod-tests --bin wal_bench [-- --dir PATH]`

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use synod_core::ids::{IoToken, LogIndex, Term};
use synod_core::raft::{Entry, EntryPayload, LogWrite};
use synod_runtime_smol::storage::{GroupCommitter, Storage, StorageOptions};

/// Bytes per raw write, and roughly per WAL record.
const RECORD_BYTES: usize = 4096;
/// Entry payload so that the framed, encoded entry is about `RECORD_BYTES`.
const PAYLOAD_BYTES: usize = RECORD_BYTES - 32;
const WRITERS: usize = 64;
/// Each case stops at its time budget; together they stay under 20 s.
const SINGLE_BUDGET: Duration = Duration::from_secs(8);
const CONCURRENT_BUDGET: Duration = Duration::from_secs(6);
/// Raw and single-writer WAL operations alternate in rounds of this many, so both see the same
/// background disk load (the disk is shared).
const ROUND: usize = 5;

fn main() {
    let dir = bench_dir();
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create benchmark dir");
    println!("wal_bench in {}", dir.display());

    let (raw, single) = raw_and_single_writer(&dir);
    raw.print("raw append+fdatasync", "");
    let ratio = single.p50().as_secs_f64() / raw.p50().as_secs_f64();
    single.print(
        "wal 1 writer",
        &format!("p50/raw p50={ratio:.2} (target <= 1.30)"),
    );

    let (concurrent, fsyncs) = wal_concurrent_writers(&dir.join("concurrent"));
    let seconds = concurrent.elapsed.as_secs_f64();
    let per_fsync = concurrent.latencies.len() as f64 / fsyncs as f64;
    concurrent.print(
        &format!("wal {WRITERS} writers"),
        &format!(
            "fsyncs/s={:.0} entries/fsync={per_fsync:.1} (target >= 32) \
             entries/s vs raw ops/s={:.1}x",
            fsyncs as f64 / seconds,
            concurrent.per_second() / raw.per_second()
        ),
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn bench_dir() -> PathBuf {
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--dir" {
            return PathBuf::from(args.next().expect("--dir needs a path"));
        }
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("wal_bench")
}

/// Latencies of the durable operations of one case.
struct Run {
    latencies: Vec<Duration>,
    elapsed: Duration,
}

impl Run {
    fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        let rank = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1]
    }

    fn p50(&self) -> Duration {
        self.percentile(0.50)
    }

    fn print(&self, name: &str, extra: &str) {
        println!(
            "{name:<22} ops={:<7} ops/s={:<8.0} p50={:>8.1}us p99={:>8.1}us {extra}",
            self.latencies.len(),
            self.per_second(),
            self.p50().as_secs_f64() * 1e6,
            self.percentile(0.99).as_secs_f64() * 1e6,
        );
    }
}

/// Appends a block and fdatasyncs a plain file.
struct RawFile {
    file: File,
    block: Vec<u8>,
}

impl RawFile {
    fn create(path: &Path) -> Self {
        let file = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(path)
            .expect("create raw file");
        RawFile {
            file,
            block: vec![0x5a_u8; RECORD_BYTES],
        }
    }

    fn append_durably(&mut self) -> Duration {
        let t = Instant::now();
        self.file.write_all(&self.block).expect("raw write");
        self.file.sync_data().expect("raw fdatasync");
        t.elapsed()
    }
}

/// One writer submitting to the group committer and waiting for its token.
struct SingleWriter {
    committer: GroupCommitter,
    completions: Arc<Completions>,
    index: u64,
}

impl SingleWriter {
    fn append_durably(&mut self) -> Duration {
        self.index += 1;
        let write = append(self.index);
        let t = Instant::now();
        self.committer
            .submit(IoToken(self.index), write)
            .expect("submit");
        self.completions.wait(self.index);
        t.elapsed()
    }
}

/// Cases (a) and (b), interleaved. Each run's elapsed time is the time spent in its own ops.
fn raw_and_single_writer(dir: &Path) -> (Run, Run) {
    let mut raw = RawFile::create(&dir.join("raw.log"));
    let (committer, completions) = start_committer(&dir.join("single"));
    let mut wal = SingleWriter {
        committer,
        completions,
        index: 0,
    };
    let (mut raw_latencies, mut wal_latencies) = (Vec::new(), Vec::new());
    let start = Instant::now();
    while start.elapsed() < SINGLE_BUDGET {
        raw_latencies.extend((0..ROUND).map(|_| raw.append_durably()));
        wal_latencies.extend((0..ROUND).map(|_| wal.append_durably()));
    }
    wal.committer.shutdown().expect("WAL error");
    let run = |latencies: Vec<Duration>| Run {
        elapsed: latencies.iter().sum(),
        latencies,
    };
    (run(raw_latencies), run(wal_latencies))
}

fn entry(index: u64) -> Entry {
    Entry {
        index: LogIndex(index),
        term: Term(1),
        payload: EntryPayload::Command(vec![0xa5_u8; PAYLOAD_BYTES].into()),
    }
}

fn append(index: u64) -> LogWrite {
    LogWrite {
        entries: vec![entry(index)],
        ..LogWrite::default()
    }
}

/// Tokens reported durable, for writers to wait on.
#[derive(Default)]
struct Completions {
    done: Mutex<std::collections::BTreeSet<u64>>,
    wake: Condvar,
}

impl Completions {
    fn complete(&self, tokens: &[IoToken]) {
        let mut done = self.done.lock().expect("completions lock");
        done.extend(tokens.iter().map(|t| t.0));
        self.wake.notify_all();
    }

    fn wait(&self, token: u64) {
        let mut done = self.done.lock().expect("completions lock");
        while !done.remove(&token) {
            done = self.wake.wait(done).expect("completions lock");
        }
    }
}

fn start_committer(data_dir: &Path) -> (GroupCommitter, Arc<Completions>) {
    let (storage, _) = Storage::open(data_dir, StorageOptions::default()).expect("open WAL");
    let completions = Arc::new(Completions::default());
    let notify = Arc::clone(&completions);
    let committer = GroupCommitter::spawn(storage, move |tokens| notify.complete(tokens))
        .expect("start group committer");
    (committer, completions)
}

/// Returns the run and the number of fsyncs it took.
fn wal_concurrent_writers(data_dir: &Path) -> (Run, u64) {
    let (committer, completions) = start_committer(data_dir);
    // Entries get their index in submission order, as Raft would assign them.
    let committer = Arc::new(Mutex::new((committer, 0_u64)));
    let fsyncs_before = committer.lock().expect("committer lock").0.stats().fsyncs;
    let start = Instant::now();
    let threads: Vec<_> = (0..WRITERS)
        .map(|_| {
            let committer = Arc::clone(&committer);
            let completions = Arc::clone(&completions);
            std::thread::spawn(move || {
                let mut latencies = Vec::new();
                while start.elapsed() < CONCURRENT_BUDGET {
                    let t = Instant::now();
                    let index = {
                        let mut guard = committer.lock().expect("committer lock");
                        guard.1 += 1;
                        let index = guard.1;
                        guard
                            .0
                            .submit(IoToken(index), append(index))
                            .expect("submit");
                        index
                    };
                    completions.wait(index);
                    latencies.push(t.elapsed());
                }
                latencies
            })
        })
        .collect();
    let latencies: Vec<Duration> = threads
        .into_iter()
        .flat_map(|t| t.join().expect("writer thread"))
        .collect();
    let elapsed = start.elapsed();
    let (committer, _) = Arc::into_inner(committer)
        .expect("writers finished")
        .into_inner()
        .expect("committer lock");
    let fsyncs = committer.stats().fsyncs - fsyncs_before;
    committer.shutdown().expect("WAL error");
    (Run { latencies, elapsed }, fsyncs)
}
