//! DNS over TCP (RFC 7766): length-prefixed messages, pipelined queries answered in order, an
//! idle timeout and a cap on open connections. One thread per connection: TCP DNS is rare
//! (truncated answers, zone tools), so threads are cheaper than a second event loop.

use std::io::{self, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use synod_core::api::dns::{Transport, Written};

use super::forward::log_failures;
use super::recursor::Recursors;
use super::responder::{Responder, Zone};
use crate::shell::log::Log;

/// Pause after a failed `accept`.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// Limits on TCP clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpLimits {
    /// A connection with no complete query for this long is closed.
    pub idle_timeout: Duration,
    /// Connections beyond this many are closed at once.
    pub max_connections: usize,
}

impl Default for TcpLimits {
    fn default() -> Self {
        TcpLimits {
            idle_timeout: Duration::from_secs(10),
            max_connections: 256,
        }
    }
}

/// What the acceptor hands each connection.
pub(crate) struct TcpContext {
    pub(crate) zone: Arc<Zone>,
    pub(crate) recursors: Option<Recursors>,
    pub(crate) limits: TcpLimits,
    pub(crate) stop: Arc<AtomicBool>,
    pub(crate) seeds: AtomicU64,
    pub(crate) open: AtomicUsize,
    pub(crate) log: Log,
}

/// Accepts connections until `stop` is set (and a connection wakes the thread).
pub(crate) fn accept(listener: TcpListener, context: Arc<TcpContext>) {
    for stream in listener.incoming() {
        if context.stop.load(Ordering::Acquire) {
            return;
        }
        let Ok(stream) = stream else {
            // Out of descriptors, most likely: back off instead of spinning on the error.
            thread::sleep(ACCEPT_BACKOFF);
            continue;
        };
        if context.open.fetch_add(1, Ordering::AcqRel) >= context.limits.max_connections {
            context.open.fetch_sub(1, Ordering::AcqRel);
            continue; // dropping the stream closes it
        }
        let ctx = context.clone();
        let spawned = thread::Builder::new()
            .name("dns-tcp".into())
            .spawn(move || {
                let _ = serve(stream, &ctx);
                ctx.open.fetch_sub(1, Ordering::AcqRel);
            });
        if spawned.is_err() {
            context.open.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// Answers queries on one connection until the client closes it, idles, or sends garbage.
fn serve(stream: TcpStream, ctx: &TcpContext) -> io::Result<()> {
    stream.set_read_timeout(Some(ctx.limits.idle_timeout))?;
    stream.set_write_timeout(Some(ctx.limits.idle_timeout))?;
    stream.set_nodelay(true)?;
    let seed = ctx.seeds.fetch_add(1, Ordering::Relaxed);
    let mut responder = Responder::new(ctx.zone.clone(), seed);
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut query = Vec::new();
    let mut reply = Vec::new();
    let mut framed = Vec::new();
    loop {
        let mut prefix = [0u8; 2];
        reader.read_exact(&mut prefix)?;
        query.resize(usize::from(u16::from_be_bytes(prefix)), 0);
        reader.read_exact(&mut query)?;
        match responder.answer(&query, Transport::Tcp, &mut reply) {
            Written::Reply => {}
            Written::Forward => {
                if let Some(recursors) = &ctx.recursors {
                    match recursors.resolve(&query, true) {
                        Ok(answer) => reply = answer,
                        // `reply` holds the SERVFAIL to fall back on.
                        Err(failures) => log_failures(&ctx.log, &failures),
                    }
                }
            }
            // Not a query we can answer at all: the stream may be out of sync, so close it.
            Written::Drop => return Ok(()),
        }
        let Ok(len) = u16::try_from(reply.len()) else {
            return Ok(());
        };
        framed.clear();
        framed.extend_from_slice(&len.to_be_bytes());
        framed.extend_from_slice(&reply);
        writer.write_all(&framed)?;
    }
}
