//! The production environment: smol's reactor, timers and a local executor.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Instant as StdInstant;

use async_net::{TcpListener, TcpStream};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use smol::LocalExecutor;
use synod_core::time::{Duration, Instant};

use super::env::{Conn, Env, Listener};

/// [`Env`] over smol. `now()` counts from the moment the environment was created.
#[derive(Clone)]
pub struct SmolEnv {
    start: StdInstant,
    executor: Rc<LocalExecutor<'static>>,
}

impl SmolEnv {
    /// An environment spawning onto `executor` (which the caller runs).
    pub fn new(executor: Rc<LocalExecutor<'static>>) -> Self {
        SmolEnv {
            start: StdInstant::now(),
            executor,
        }
    }
}

impl Env for SmolEnv {
    type Conn = SmolConn;
    type Listener = SmolListener;

    fn now(&self) -> Instant {
        let micros = u64::try_from(self.start.elapsed().as_micros()).unwrap_or(u64::MAX);
        Instant::from_micros(micros)
    }

    fn sleep_until(&self, deadline: Instant) -> impl Future<Output = ()> {
        let at = self
            .start
            .checked_add(Duration::from_micros(deadline.as_micros()));
        async move {
            match at {
                Some(at) => {
                    async_io::Timer::at(at).await;
                }
                // Too far to represent: it never comes.
                None => futures_lite::future::pending().await,
            }
        }
    }

    fn spawn(&self, task: impl Future<Output = ()> + 'static) {
        self.executor.spawn(task).detach();
    }

    fn connect(&self, addr: &str) -> impl Future<Output = io::Result<SmolConn>> {
        let addr = addr.to_string();
        async move {
            let stream = TcpStream::connect(addr.as_str()).await?;
            // Raft messages are small and latency-bound.
            stream.set_nodelay(true)?;
            Ok(SmolConn(stream))
        }
    }

    async fn listen(&self, addr: SocketAddr) -> io::Result<SmolListener> {
        TcpListener::bind(addr).await.map(SmolListener)
    }
}

/// A smol TCP stream.
#[derive(Debug)]
pub struct SmolConn(TcpStream);

impl Conn for SmolConn {
    async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).await
    }

    async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.write_all(buf).await
    }
}

/// A smol TCP listener.
#[derive(Debug)]
pub struct SmolListener(TcpListener);

impl Listener for SmolListener {
    type Conn = SmolConn;

    async fn accept(&self) -> io::Result<SmolConn> {
        let (stream, _) = self.0.accept().await?;
        stream.set_nodelay(true)?;
        Ok(SmolConn(stream))
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}
