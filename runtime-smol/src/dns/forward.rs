//! A small pool of threads that forward UDP queries to the recursors, so a slow recursor holds
//! up a forwarding thread rather than one serving the zone.

use std::net::{SocketAddr, UdpSocket};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread;

use super::recursor::Recursors;
use crate::shell::log::Log;

/// Forwarded queries waiting for a thread; beyond this they get SERVFAIL at once.
const QUEUE: usize = 1024;

/// One query to forward and where its answer goes.
pub(crate) struct Job {
    pub(crate) query: Vec<u8>,
    pub(crate) servfail: Vec<u8>,
    pub(crate) socket: Arc<UdpSocket>,
    pub(crate) peer: SocketAddr,
}

/// The pool's intake.
#[derive(Clone)]
pub(crate) struct Forwarder {
    jobs: SyncSender<Job>,
}

impl Forwarder {
    /// Starts `threads` forwarding threads. They end when every [`Forwarder`] is dropped.
    pub(crate) fn start(recursors: Recursors, threads: usize, log: Log) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::sync_channel(QUEUE);
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..threads.max(1) {
            let (queue, recursors, log) = (queue.clone(), recursors.clone(), log.clone());
            thread::Builder::new()
                .name(format!("dns-forward-{i}"))
                .spawn(move || run(&queue, &recursors, &log))?;
        }
        Ok(Forwarder { jobs })
    }

    /// Queues `job`, answering SERVFAIL at once when the queue is full.
    pub(crate) fn submit(&self, job: Job) {
        if let Err(TrySendError::Full(job) | TrySendError::Disconnected(job)) =
            self.jobs.try_send(job)
        {
            let _ = job.socket.send_to(&job.servfail, job.peer);
        }
    }
}

fn run(queue: &Mutex<Receiver<Job>>, recursors: &Recursors, log: &Log) {
    loop {
        let job = {
            let queue = queue
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            match queue.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        let reply = match recursors.resolve(&job.query, false) {
            Ok(reply) => reply,
            Err(failures) => {
                log_failures(log, &failures);
                job.servfail
            }
        };
        let _ = job.socket.send_to(&reply, job.peer);
    }
}

/// Logs why every recursor failed for one query (debug: a dead upstream repeats per query).
pub(crate) fn log_failures(log: &Log, failures: &[super::recursor::RecurseFailure]) {
    for f in failures {
        log.debug(
            "agent.dns",
            format_args!("recurse failed: recursor={} error={}", f.recursor, f.reason),
        );
    }
}
