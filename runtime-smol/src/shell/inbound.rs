//! Inbound peer connections: accept, split the stream into frames, hand them to the loop.
//! A connection opening with a client hello is client RPC, not Raft: it goes to the
//! [`ClientConnHandler`] instead.

use std::rc::Rc;

use async_channel::Sender;
use bytes::Bytes;
use synod_core::wire::FrameDecoder;
use synod_core::wire::client_rpc::client_hello_version;

use super::config::ShellConfig;
use super::env::{Conn, Env, Listener};
use super::log::Log;
use super::timing::with_deadline;

const READ_CHUNK: usize = 64 << 10;

/// Takes over a connection whose first frame is a client hello: gets the connection, the
/// protocol version the hello announced and the decoder holding whatever followed the hello.
pub type ClientConnHandler<E> = Rc<dyn Fn(<E as Env>::Conn, u16, FrameDecoder)>;

/// Accepts peer connections until the loop stops taking frames.
pub(crate) async fn accept_peers<E: Env>(
    env: E,
    listener: E::Listener,
    frames: Sender<Bytes>,
    config: ShellConfig,
    log: Log,
    clients: Option<ClientConnHandler<E>>,
) {
    while !frames.is_closed() {
        match listener.accept().await {
            Ok(conn) => {
                let reader = read_frames(
                    env.clone(),
                    conn,
                    frames.clone(),
                    config.clone(),
                    log.clone(),
                    clients.clone(),
                );
                env.spawn(reader);
            }
            Err(error) => {
                log.warn(
                    "agent.server.rpc",
                    format_args!("failed to accept connection: error={error}"),
                );
                // Usually out of file descriptors: pause instead of spinning.
                env.sleep_until(env.now() + config.min_backoff).await;
            }
        }
    }
}

/// Reads one connection to its end (or until it is idle too long or breaks framing).
async fn read_frames<E: Env>(
    env: E,
    mut conn: E::Conn,
    frames: Sender<Bytes>,
    config: ShellConfig,
    log: Log,
    clients: Option<ClientConnHandler<E>>,
) {
    let mut decoder = FrameDecoder::new(config.max_frame);
    let mut buf = vec![0u8; READ_CHUNK];
    let mut first_frame = true;
    loop {
        let deadline = env.now() + config.idle_timeout;
        let n = match with_deadline(&env, deadline, conn.read(&mut buf)).await {
            Some(Ok(0)) | Some(Err(_)) => return,
            Some(Ok(n)) => n,
            None => {
                log.debug(
                    "agent.server.rpc",
                    format_args!("closing idle inbound connection"),
                );
                return;
            }
        };
        decoder.push(buf.get(..n).unwrap_or_default());
        loop {
            match decoder.pop() {
                Ok(Some(frame)) => {
                    if std::mem::take(&mut first_frame)
                        && let Some(clients) = &clients
                        && let Some(version) = client_hello_version(&frame)
                    {
                        clients(conn, version, decoder);
                        return;
                    }
                    if frames.send(frame).await.is_err() {
                        return;
                    }
                }
                Ok(None) => break,
                Err(error) => {
                    log.warn(
                        "agent.server.rpc",
                        format_args!("closing peer connection: {error}"),
                    );
                    return;
                }
            }
        }
    }
}
