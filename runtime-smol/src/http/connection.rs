//! One client connection: read, parse, answer in order (keep-alive and pipelining), with idle,
//! slow-header and slow-body timeouts. A client that goes away while its request is parked
//! (a blocking query) cancels it: the handler future is dropped.

use std::future::Future;
use std::io;
use std::net::Shutdown;
use std::pin::Pin;
use std::time::{Duration, Instant, SystemTime};

use async_net::TcpStream;
use futures_lite::{AsyncReadExt, AsyncWriteExt, future};
use smol::Timer;
use synod_core::api::http::{
    Framing, Method, ParseError, Progress, Request, RequestParser, Response, Version,
    reason_phrase, render,
};

use super::backend::Backend;
use super::date::http_date;
use super::router;
use super::server::Shared;

/// Largest single read.
const READ_CHUNK: usize = 16 * 1024;
/// Smallest read: enough for a typical request head. A fresh connection's buffer starts this
/// small (not at `READ_CHUNK`) because a short-lived 16 KiB block per connection fragments the
/// heap: the small allocations a parked query keeps land in its hole, and each parked query
/// then costs most of a block.
const MIN_READ: usize = 1024;
/// After an error answer, read and discard at most this much of what the client is still
/// sending, so closing does not reset the connection before it reads the answer.
const LINGER_BYTES: usize = 4 * 1024 * 1024;
const LINGER_TIME: Duration = Duration::from_secs(2);

/// Serves `stream` until the client closes, errs, times out or asks to close.
pub async fn serve<B: Backend>(shared: &Shared<B>, mut stream: TcpStream) {
    let config = &shared.config;
    let mut parser = RequestParser::new(config.limits);
    let mut buf: Vec<u8> = Vec::new();
    let mut idle_since = Instant::now();
    let mut request_started: Option<Instant> = None;
    loop {
        match parser.parse(&buf) {
            Ok(Progress::Done { request, consumed }) => {
                buf.drain(..consumed);
                let max_buffered = config.limits.max_head + config.limits.max_body;
                // Boxed: the connection's own future then stays small, and a parked query costs
                // only what its handler actually holds (a future passed by value into another is
                // laid out more than once).
                let handler = Box::pin(router::route(shared, &request));
                let Some(response) =
                    watch_client(handler, &mut stream, &mut buf, max_buffered).await
                else {
                    return;
                };
                let written =
                    write_response(&mut stream, &response, &request, config.write_timeout).await;
                if written.is_err() || !request.keep_alive {
                    return;
                }
                idle_since = Instant::now();
                request_started = None;
                continue;
            }
            Ok(Progress::NeedMore { send_continue }) => {
                if send_continue
                    && write_all(
                        &mut stream,
                        b"HTTP/1.1 100 Continue\r\n\r\n",
                        config.write_timeout,
                    )
                    .await
                    .is_err()
                {
                    return;
                }
            }
            Err(error) => {
                let response = parse_error_response(&error, parser.pending_path());
                let _ = write_error(&mut stream, &response, config.write_timeout).await;
                linger_close(&mut stream).await;
                return;
            }
        }
        if request_started.is_none() && !buf.is_empty() {
            request_started = Some(Instant::now());
        }
        let deadline = match request_started {
            None => idle_since + config.idle_timeout,
            Some(start) if parser.head_complete() => start + config.body_timeout,
            Some(start) => start + config.header_timeout,
        };
        // Timeouts and resets end the connection silently, as Go's server does.
        match read_until(&mut stream, &mut buf, deadline).await {
            Ok(n) if n > 0 => {
                if request_started.is_none() {
                    request_started = Some(Instant::now());
                }
            }
            _ => return,
        }
    }
}

enum Event {
    Answered(Response),
    Read(io::Result<usize>),
}

/// Runs `handler` while watching the socket: pipelined bytes are buffered (up to `max_buffered`),
/// end-of-stream or an error drops the handler and yields `None`.
///
/// A parked handler (a blocking query) may wait for minutes, so while it does the connection
/// holds no read buffer: it peeks one byte to learn that the client sent more (or left), and
/// only then reads.
async fn watch_client(
    mut handler: Pin<Box<impl Future<Output = Response>>>,
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    max_buffered: usize,
) -> Option<Response> {
    // Most answers are ready on the first poll; only parked ones need the socket watched.
    if let Some(response) = future::poll_once(handler.as_mut()).await {
        return Some(response);
    }
    if buf.is_empty() {
        *buf = Vec::new();
    }
    loop {
        if buf.len() >= max_buffered {
            // Enough queued: stop reading (back-pressure) and just finish this request.
            return Some(handler.await);
        }
        let event = future::or(async { Event::Answered(handler.as_mut().await) }, async {
            Event::Read(stream.peek(&mut [0u8; 1]).await)
        })
        .await;
        match event {
            Event::Answered(response) => return Some(response),
            Event::Read(Ok(0) | Err(_)) => return None,
            Event::Read(Ok(_)) => match read_into(stream, buf).await {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            },
        }
    }
}

/// Reads once into `buf`; `Ok(0)` on end-of-stream, an error on timeout.
async fn read_until(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    deadline: Instant,
) -> io::Result<usize> {
    let filled = buf.len();
    let read = future::or(read_into(stream, buf), async {
        Timer::at(deadline).await;
        Err(io::ErrorKind::TimedOut.into())
    })
    .await;
    // A timed-out read was dropped before it could trim the room it made.
    buf.truncate(filled + *read.as_ref().unwrap_or(&0));
    read
}

/// Reads once, appending to `buf` (read straight into its spare room: no buffer lives in the
/// connection's future while it waits). Reads grow with the buffer, from `MIN_READ` to
/// `READ_CHUNK`, so large bodies still arrive in large reads.
async fn read_into(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<usize> {
    let filled = buf.len();
    let room = (buf.capacity() - filled).clamp(MIN_READ, READ_CHUNK);
    buf.resize(filled + room, 0);
    let read = stream.read(&mut buf[filled..]).await;
    buf.truncate(filled + *read.as_ref().unwrap_or(&0));
    read
}

async fn write_all(stream: &mut TcpStream, bytes: &[u8], timeout: Duration) -> io::Result<()> {
    future::or(stream.write_all(bytes), async {
        Timer::after(timeout).await;
        Err(io::ErrorKind::TimedOut.into())
    })
    .await
}

async fn write_response(
    stream: &mut TcpStream,
    response: &Response,
    request: &Request,
    timeout: Duration,
) -> io::Result<()> {
    let date = http_date(SystemTime::now());
    let framing = Framing {
        date: &date,
        keep_alive: request.keep_alive,
        http10: request.version == Version::Http10,
        head_only: request.method == Method::Head,
    };
    let mut out = Vec::with_capacity(256 + response.body.len());
    render(response, framing, &mut out);
    write_all(stream, &out, timeout).await
}

async fn write_error(
    stream: &mut TcpStream,
    response: &Response,
    timeout: Duration,
) -> io::Result<()> {
    let date = http_date(SystemTime::now());
    let framing = Framing {
        date: &date,
        keep_alive: false,
        http10: false,
        head_only: false,
    };
    let mut out = Vec::new();
    render(response, framing, &mut out);
    write_all(stream, &out, timeout).await
}

/// The answer to an unparsable request: Go's `<code> <reason>: <detail>` text, except Consul's own
/// wording for an oversize KV value.
fn parse_error_response(error: &ParseError, pending_path: Option<&str>) -> Response {
    let status = error.status();
    let message = match error {
        ParseError::BodyTooLarge { .. }
            if pending_path.is_some_and(|p| p.starts_with("/v1/kv/")) =>
        {
            format!(
                "{error} See https://developer.hashicorp.com/docs/agent/config/config-files#kv_max_value_size."
            )
        }
        ParseError::BodyTooLarge { .. } => error.to_string(),
        ParseError::HeadTooLarge => format!("{status} {}", reason_phrase(status)),
        _ => format!("{status} {}: {error}", reason_phrase(status)),
    };
    Response::text(status, &message)
}

/// Half-closes, then drains what the client still sends for a little while, so the answer is
/// read before the socket is dropped (closing with unread data makes the kernel send a reset).
async fn linger_close(stream: &mut TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let deadline = Instant::now() + LINGER_TIME;
    let mut drained = 0;
    let mut sink = Vec::new();
    while drained < LINGER_BYTES {
        sink.clear();
        match read_until(stream, &mut sink, deadline).await {
            Ok(n) if n > 0 => drained += n,
            _ => return,
        }
    }
}
