//! The server side of client RPC: a connection the peer listener recognised by its hello is
//! served here. Each request runs as its own task against the server's [`Backend`] (writes and
//! reads go through the node, which forwards them to the leader itself), so a parked blocking
//! wait never holds up the requests behind it; replies go back in completion order.

use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_channel::{Receiver, Sender};
use bytes::Bytes;
use futures_lite::future;
use smol::lock::Semaphore;
use synod_core::wire::FrameDecoder;
use synod_core::wire::client_rpc::{
    CLIENT_RPC_VERSION, RpcAnswer, RpcCall, RpcReply, RpcRequest, decode_rpc_request,
    encode_rpc_reply,
};

use super::convert::{peer_from_wire, raft_configuration_to_wire, status_to_wire};
use crate::http::backend::Backend;
use crate::shell::log::Log;
use crate::shell::timing::with_deadline;
use crate::shell::{ClientConnHandler, Conn, Env};

/// Requests of one connection running at once (parked blocking queries count); beyond it the
/// connection is not read until one finishes.
const MAX_IN_FLIGHT: usize = 65_536;
/// Longest a blocking wait may park (Consul's 10 min maximum plus its jitter).
const MAX_WAIT: Duration = Duration::from_secs(11 * 60);
/// A reply write that takes longer means the client is gone.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes read per syscall.
const READ_CHUNK: usize = 64 << 10;
/// Replies written per syscall at most when several are ready.
const MAX_BATCH_BYTES: usize = 1 << 20;

/// The handler a server's shell gives client connections to: each is served against `backend`
/// on `env`'s executor. A client announcing another protocol version is disconnected.
pub fn client_conn_handler<E: Env, B: Backend>(
    env: E,
    backend: Arc<B>,
    log: Log,
) -> ClientConnHandler<E> {
    Rc::new(move |conn, version, decoder| {
        if version != CLIENT_RPC_VERSION {
            log.warn(
                "agent.server.rpc",
                format_args!(
                    "closing client connection: unsupported client RPC version {version} \
                     (this server speaks {CLIENT_RPC_VERSION})"
                ),
            );
            return;
        }
        let serve = serve_client(
            env.clone(),
            conn,
            decoder,
            Arc::clone(&backend),
            log.clone(),
        );
        env.spawn(serve);
    })
}

/// What the connection task does next.
enum Next {
    Reply(u64, Bytes),
    Read(std::io::Result<usize>),
}

/// Serves one client connection until it closes or breaks framing. Dropping out of this
/// function ends every request still running for it.
async fn serve_client<E: Env, B: Backend>(
    env: E,
    mut conn: E::Conn,
    mut decoder: FrameDecoder,
    backend: Arc<B>,
    log: Log,
) {
    // Unbounded: at most MAX_IN_FLIGHT replies exist at once (one per running request).
    let (replies_in, replies) = async_channel::unbounded::<(u64, Bytes)>();
    // Running requests by id; dropping a request's sender stops it (cancel, or this task ends).
    let mut running: BTreeMap<u64, Sender<()>> = BTreeMap::new();
    let slots = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let mut buf = vec![0u8; READ_CHUNK];
    let mut batch = Vec::new();
    loop {
        // Requests already buffered (including any that arrived with the hello).
        loop {
            let frame = match decoder.pop() {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(error) => {
                    log.warn(
                        "agent.server.rpc",
                        format_args!("closing client connection: {error}"),
                    );
                    return;
                }
            };
            let RpcRequest { id, call } = match decode_rpc_request(&frame) {
                Ok(request) => request,
                Err(error) => {
                    log.warn(
                        "agent.server.rpc",
                        format_args!("closing client connection: bad request: {error}"),
                    );
                    return;
                }
            };
            if let RpcCall::Cancel { id: abandoned } = call {
                running.remove(&abandoned);
                continue;
            }
            let slot = slots.acquire_arc().await;
            let (stop, stopped) = async_channel::bounded::<()>(1);
            running.insert(id, stop);
            let task = answer_request(Arc::clone(&backend), id, call, replies_in.clone(), stopped);
            env.spawn(async move {
                task.await;
                drop(slot);
            });
        }
        let next = future::or(
            async {
                match replies.recv().await {
                    Ok((id, reply)) => Next::Reply(id, reply),
                    // This task holds a sender: the channel cannot close while it runs.
                    Err(_) => future::pending().await,
                }
            },
            async { Next::Read(conn.read(&mut buf).await) },
        )
        .await;
        match next {
            Next::Reply(id, first) => {
                running.remove(&id);
                batch.clear();
                batch.extend_from_slice(&first);
                while batch.len() < MAX_BATCH_BYTES {
                    let Ok((id, more)) = replies.try_recv() else {
                        break;
                    };
                    running.remove(&id);
                    batch.extend_from_slice(&more);
                }
                let deadline = env.now() + WRITE_TIMEOUT;
                if !matches!(
                    with_deadline(&env, deadline, conn.write_all(&batch)).await,
                    Some(Ok(()))
                ) {
                    return;
                }
            }
            Next::Read(Ok(0) | Err(_)) => return,
            Next::Read(Ok(n)) => decoder.push(buf.get(..n).unwrap_or_default()),
        }
    }
}

/// Runs one request and queues its reply, unless it is stopped first (cancelled by the client,
/// or its connection closed).
async fn answer_request<B: Backend>(
    backend: Arc<B>,
    id: u64,
    call: RpcCall,
    replies: Sender<(u64, Bytes)>,
    stopped: Receiver<()>,
) {
    let work = async { Some(answer(backend.as_ref(), call).await) };
    let stop = async {
        let _ = stopped.recv().await;
        None
    };
    if let Some(answer) = future::or(work, stop).await {
        let reply = encode_rpc_reply(&RpcReply { id, answer });
        let _ = replies.send((id, reply)).await;
    }
}

/// The backend's answer to `call`.
pub(crate) async fn answer<B: Backend>(backend: &B, call: RpcCall) -> RpcAnswer {
    match call {
        RpcCall::Request(request) => RpcAnswer::Response(backend.request(request).await),
        RpcCall::Status => RpcAnswer::Status(status_to_wire(backend.status().await)),
        RpcCall::Wait {
            query,
            min_index,
            timeout_ms,
        } => {
            let timeout = Duration::from_millis(timeout_ms).min(MAX_WAIT);
            backend
                .wait(&query, min_index, Instant::now() + timeout)
                .await;
            RpcAnswer::Waited
        }
        RpcCall::RaftConfiguration => RpcAnswer::RaftConfiguration(raft_configuration_to_wire(
            backend.raft_configuration().await,
        )),
        RpcCall::RemoveRaftPeer(peer) => {
            RpcAnswer::Removed(backend.remove_raft_peer(peer_from_wire(peer)).await)
        }
        // Handled by the connection task; reaching here would mean a bug, and waiting forever
        // is the harmless answer (no reply is owed).
        RpcCall::Cancel { .. } => future::pending().await,
    }
}
