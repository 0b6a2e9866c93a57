//! One client connection to a server: a writer task and a reader task on the pool's executor,
//! requests pipelined and matched to their replies by id. Everything here is `Send`: the HTTP
//! API calls through it from its own executor.

use std::collections::BTreeMap;
use std::io;
use std::net::Shutdown;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_channel::{Receiver, Sender};
use async_net::TcpStream;
use bytes::Bytes;
use futures_lite::{AsyncReadExt, AsyncWriteExt, future};
use smol::{Executor, Timer};
use synod_core::wire::FrameDecoder;
use synod_core::wire::client_rpc::{
    RpcAnswer, RpcCall, RpcRequest, decode_rpc_reply, encode_client_hello, encode_rpc_request,
};

/// Frames queued for the writer at most; callers wait beyond that.
const OUTGOING_QUEUE: usize = 1024;
/// Largest reply frame accepted (a big KV listing fits).
const MAX_REPLY_FRAME: usize = 64 << 20;
/// Bytes read per syscall.
const READ_CHUNK: usize = 64 << 10;
/// Requests written per syscall at most when several are queued.
const MAX_BATCH_BYTES: usize = 1 << 20;

/// Why a call got no answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallError {
    /// The request never left: the connection was already closed.
    NotSent,
    /// The connection closed after the request was queued: the server may have acted on it.
    Lost,
    /// No answer within the call's timeout (the connection is then closed).
    TimedOut,
}

/// What the reader and the callers share.
struct Shared {
    /// Callers waiting for a reply, by request id.
    pending: Mutex<BTreeMap<u64, Sender<RpcAnswer>>>,
    /// Set (before `pending` is drained) once the connection is finished.
    closed: AtomicBool,
}

impl Shared {
    fn pending(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Sender<RpcAnswer>>> {
        // Plain map operations: a poisoned lock still holds a usable map.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Marks the connection finished and fails every waiting caller.
    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.pending().clear();
    }
}

/// A connection to one server. Dropping it closes the connection.
pub struct ServerConn {
    addr: String,
    outgoing: Sender<Bytes>,
    shared: Arc<Shared>,
    next_id: AtomicU64,
    /// When the pool last chose this connection (opened it, or kept it over a rebalance).
    chosen_at: Mutex<Instant>,
}

/// Removes a caller's pending entry however its call ends; a call abandoned while the server
/// may still be working on it (the caller went away) is cancelled there, so a parked wait does
/// not outlive its HTTP client.
struct PendingGuard<'a> {
    conn: &'a ServerConn,
    id: u64,
    sent: bool,
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        let unanswered = self.conn.shared.pending().remove(&self.id).is_some();
        if unanswered && self.sent && !self.conn.is_closed() {
            let id = self.conn.next_id.fetch_add(1, Ordering::Relaxed);
            let cancel = RpcCall::Cancel { id: self.id };
            // Best effort: with the queue full the server finishes the call and its answer is
            // dropped here.
            let _ = self
                .conn
                .outgoing
                .try_send(encode_rpc_request(&RpcRequest { id, call: cancel }));
        }
    }
}

impl ServerConn {
    /// Connects to `addr` within `timeout`, says hello and starts the connection's reader and
    /// writer on `executor`.
    pub async fn open(
        addr: &str,
        timeout: Duration,
        executor: &Executor<'static>,
    ) -> io::Result<ServerConn> {
        let connect = async {
            let stream = TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            Ok(stream)
        };
        let timed_out = async {
            Timer::after(timeout).await;
            Err(io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))
        };
        let stream = future::or(connect, timed_out).await?;
        let (outgoing, frames) = async_channel::bounded(OUTGOING_QUEUE);
        // The hello goes first: queued before any caller can queue a request.
        outgoing
            .try_send(encode_client_hello())
            .map_err(|_| io::Error::other("fresh queue refused the hello"))?;
        let shared = Arc::new(Shared {
            pending: Mutex::new(BTreeMap::new()),
            closed: AtomicBool::new(false),
        });
        executor
            .spawn(write_frames(stream.clone(), frames.clone(), shared.clone()))
            .detach();
        executor
            .spawn(read_replies(stream, frames, shared.clone()))
            .detach();
        Ok(ServerConn {
            addr: addr.to_owned(),
            outgoing,
            shared,
            next_id: AtomicU64::new(1),
            chosen_at: Mutex::new(Instant::now()),
        })
    }

    /// How long since the pool last chose this connection.
    pub fn chosen_for(&self) -> Duration {
        self.chosen_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .elapsed()
    }

    /// Restarts [`Self::chosen_for`] (the pool keeps this connection for another period).
    pub fn choose_again(&self) {
        *self
            .chosen_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Instant::now();
    }

    /// The server's RPC address.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Whether the connection is finished (closed by either side or broken).
    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::SeqCst) || self.outgoing.is_closed()
    }

    /// Closes the connection; calls waiting on it fail with [`CallError::Lost`].
    pub fn close(&self) {
        self.outgoing.close();
        self.shared.close();
    }

    /// Sends `call` and waits up to `timeout` for its answer.
    pub async fn call(&self, call: RpcCall, timeout: Duration) -> Result<RpcAnswer, CallError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (reply, answer) = async_channel::bounded(1);
        self.shared.pending().insert(id, reply);
        let mut guard = PendingGuard {
            conn: self,
            id,
            sent: false,
        };
        // Checked after registering: a close before it is seen here, a close after it drains
        // our entry (see `Shared::close`).
        if self.is_closed() {
            return Err(CallError::NotSent);
        }
        let frame = encode_rpc_request(&RpcRequest { id, call });
        if self.outgoing.send(frame).await.is_err() {
            return Err(CallError::NotSent);
        }
        guard.sent = true;
        let answered = async { answer.recv().await.map_err(|_| CallError::Lost) };
        let timed_out = async {
            Timer::after(timeout).await;
            Err(CallError::TimedOut)
        };
        let result = future::or(answered, timed_out).await;
        if result == Err(CallError::TimedOut) {
            // A server that does not answer in time is treated as gone, so callers move on.
            self.close();
        }
        result
    }
}

impl Drop for ServerConn {
    fn drop(&mut self) {
        self.close();
    }
}

/// Writes queued frames until the queue closes or a write fails, then shuts the socket so the
/// reader ends too.
async fn write_frames(mut stream: TcpStream, frames: Receiver<Bytes>, shared: Arc<Shared>) {
    let mut batch = Vec::new();
    while let Ok(first) = frames.recv().await {
        batch.clear();
        batch.extend_from_slice(&first);
        while batch.len() < MAX_BATCH_BYTES {
            let Ok(more) = frames.try_recv() else { break };
            batch.extend_from_slice(&more);
        }
        if stream.write_all(&batch).await.is_err() {
            break;
        }
    }
    frames.close();
    shared.close();
    let _ = stream.shutdown(Shutdown::Both);
}

/// Routes replies to their callers until the connection ends or the server breaks framing.
async fn read_replies(mut stream: TcpStream, frames: Receiver<Bytes>, shared: Arc<Shared>) {
    let mut decoder = FrameDecoder::new(MAX_REPLY_FRAME);
    let mut buf = vec![0u8; READ_CHUNK];
    'read: loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        decoder.push(buf.get(..n).unwrap_or_default());
        loop {
            let reply = match decoder.pop() {
                Ok(Some(payload)) => decode_rpc_reply(&payload),
                Ok(None) => break,
                Err(_) => break 'read,
            };
            let Ok(reply) = reply else { break 'read };
            let waiting = shared.pending().remove(&reply.id);
            if let Some(waiting) = waiting {
                // The caller may have given up; nothing to do then.
                let _ = waiting.try_send(reply.answer);
            }
        }
    }
    // Ends the writer (it sees the queue closed) and fails every waiting caller.
    frames.close();
    shared.close();
}
