//! Sockets: one UDP socket for probes and gossip, one TCP listener on the same port for
//! push-pull. Every stream carries exactly one length-prefixed frame
//! ([`synod_core::wire::frame_payload`]) and is then closed; replies travel on a stream of
//! their own, opened by the other side.

use std::future::Future;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use async_channel::Sender;
use async_io::Async;
use async_net::{TcpListener, TcpStream};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use synod_core::wire::{FrameDecoder, frame_payload};

use super::stats::{Counters, bump};
use crate::shell::Env;
use crate::shell::smol_env::SmolEnv;
use crate::shell::timing::with_deadline;

/// How many times a free port is looked for when binding port 0.
const PORT_ATTEMPTS: usize = 32;
/// Pause after a failed accept (e.g. out of file descriptors) so the loop cannot spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// Read size for incoming streams.
const READ_CHUNK: usize = 16 * 1024;

/// One complete frame read from an incoming stream.
#[derive(Debug)]
pub(crate) struct Inbound {
    pub(crate) from: SocketAddr,
    pub(crate) bytes: Vec<u8>,
}

/// Binds UDP and TCP on the same address. Port 0 picks a port free for both.
pub(crate) fn bind(addr: SocketAddr) -> io::Result<(Async<UdpSocket>, TcpListener)> {
    let tcp_bind = |addr| Async::<std::net::TcpListener>::bind(addr).map(TcpListener::from);
    if addr.port() != 0 {
        let udp = Async::<UdpSocket>::bind(addr)?;
        return Ok((udp, tcp_bind(addr)?));
    }
    let mut last = io::Error::new(io::ErrorKind::AddrInUse, "no port free for UDP and TCP");
    for _ in 0..PORT_ATTEMPTS {
        let udp = Async::<UdpSocket>::bind(addr)?;
        let mut both = udp.get_ref().local_addr()?;
        both.set_ip(addr.ip());
        match tcp_bind(both) {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Runs `task` for at most `limit` on `env`'s clock: `None` if time ran out first.
async fn with_timeout<T>(
    env: &SmolEnv,
    limit: Duration,
    task: impl Future<Output = T>,
) -> Option<T> {
    with_deadline(env, env.now() + limit, task).await
}

/// Connects to `to`, writes `bytes` as one frame and closes. True when it was all written.
pub(crate) async fn send_stream(
    env: SmolEnv,
    to: SocketAddr,
    bytes: Vec<u8>,
    limit: Duration,
    counters: Arc<Counters>,
) -> bool {
    let attempt = async {
        let mut stream = TcpStream::connect(to).await?;
        stream.set_nodelay(true)?;
        stream.write_all(&frame_payload(&bytes)).await?;
        stream.close().await
    };
    let delivered = matches!(with_timeout(&env, limit, attempt).await, Some(Ok(())));
    bump(if delivered {
        &counters.streams_sent
    } else {
        &counters.stream_failures
    });
    delivered
}

/// Accepts streams forever, reading each on its own task and passing complete frames to `out`.
pub(crate) async fn accept_streams(
    listener: TcpListener,
    env: SmolEnv,
    out: Sender<Inbound>,
    limit: Duration,
    max_frame: usize,
    counters: Arc<Counters>,
) {
    loop {
        let (stream, from) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(_) => {
                async_io::Timer::after(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let out = out.clone();
        let counters = counters.clone();
        let task_env = env.clone();
        env.spawn(async move {
            match with_timeout(&task_env, limit, read_frame(stream, max_frame)).await {
                Some(Ok(bytes)) => {
                    bump(&counters.streams_received);
                    // A closed channel means the driver is gone: nothing left to tell.
                    let _ = out.send(Inbound { from, bytes }).await;
                }
                Some(Err(StreamError::Frame)) => bump(&counters.decode_errors),
                Some(Err(StreamError::Io)) | None => bump(&counters.stream_failures),
            }
        });
    }
}

/// Why an incoming stream yielded no frame.
enum StreamError {
    /// The connection broke or ended before a whole frame arrived.
    Io,
    /// The length prefix or version byte was invalid (or the frame too large).
    Frame,
}

/// Reads the one frame a stream carries.
async fn read_frame(mut stream: TcpStream, max_frame: usize) -> Result<Vec<u8>, StreamError> {
    let mut decoder = FrameDecoder::new(max_frame);
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        match decoder.pop() {
            Ok(Some(payload)) => return Ok(payload.to_vec()),
            Ok(None) => {}
            Err(_) => return Err(StreamError::Frame),
        }
        let n = stream.read(&mut buf).await.map_err(|_| StreamError::Io)?;
        if n == 0 {
            return Err(StreamError::Io);
        }
        decoder.push(&buf[..n]);
    }
}
