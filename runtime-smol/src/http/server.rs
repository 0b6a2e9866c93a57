//! The listener: accepts connections up to a cap and runs each on the server's own
//! multi-threaded executor (its own worker threads, so HTTP work never shares a thread with the
//! node's event loop and reads answered from the published view scale across cores). Dropping
//! [`Server::run`] stops the workers and every connection with them.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, Weak};
use std::thread;
use std::time::Duration;

use async_net::TcpListener;
use futures_lite::{AsyncWriteExt, future};
use smol::lock::Semaphore;
use smol::{Executor, Timer};
use synod_core::api::http::Limits;
use synod_core::rand::Rng;

use super::backend::Backend;
use super::blocking::QueryTimes;
use super::client_slots::{ClientSlots, OVER_LIMIT_RESPONSE};
use super::connection;

/// HTTP server settings.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Head and body limits (the body limit is Consul's `kv_max_value_size`).
    pub limits: Limits,
    /// Connections served at once; further ones are closed on accept.
    pub max_connections: usize,
    /// Connections served at once per client address (0: no limit); further ones get a 429
    /// and are closed (Consul's `limits.http_max_conns_per_client`).
    pub max_connections_per_client: usize,
    /// How long a keep-alive connection may sit between requests.
    pub idle_timeout: Duration,
    /// How long a client may take to send a request head (slow-client guard).
    pub header_timeout: Duration,
    /// How long a client may take to send a whole request, head and body.
    pub body_timeout: Duration,
    /// How long writing one response may take.
    pub write_timeout: Duration,
    /// Blocking-query bounds.
    pub query_times: QueryTimes,
    /// This server's datacenter; `?dc=` naming another one fails.
    pub datacenter: String,
    /// Seeds the blocking-query jitter generator.
    pub seed: u64,
    /// Whether `/ui/` serves the web UI.
    pub ui: bool,
    /// Worker threads serving connections (at least one).
    pub threads: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            limits: Limits::default(),
            // Parked blocking queries hold a connection each; 10,000 of them must fit.
            max_connections: 16_384,
            max_connections_per_client: 0,
            idle_timeout: Duration::from_secs(90),
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(30),
            query_times: QueryTimes::default(),
            datacenter: "dc1".to_owned(),
            seed: 0,
            ui: false,
            threads: thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// What every connection of one server shares.
#[derive(Debug)]
pub struct Shared<B> {
    /// The server behind the API.
    pub backend: Arc<B>,
    /// Settings.
    pub config: ServerConfig,
    /// Draws blocking-query jitter.
    pub rng: Mutex<Rng>,
}

/// A bound HTTP API listener.
#[derive(Debug)]
pub struct Server<B> {
    listener: TcpListener,
    shared: Arc<Shared<B>>,
}

impl<B: Backend> Server<B> {
    /// Binds `addr` (port 0 picks a free port; see [`Server::local_addr`]).
    pub async fn bind(addr: SocketAddr, backend: Arc<B>, config: ServerConfig) -> io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let rng = Mutex::new(Rng::new(config.seed));
        Ok(Server {
            listener,
            shared: Arc::new(Shared {
                backend,
                config,
                rng,
            }),
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until the returned future is dropped.
    pub async fn run(self) {
        let executor = Arc::new(Executor::new());
        // Closed when this future is dropped: the workers then return, and the executor (with
        // every connection task on it) goes once the last of them lets go of it.
        let (_stop, stopped) = async_channel::bounded::<()>(1);
        for n in 0..self.shared.config.threads.max(1) {
            let worker = Arc::clone(&executor);
            let stopped = stopped.clone();
            let spawned = thread::Builder::new()
                .name(format!("synod-http-{n}"))
                .spawn(move || smol::block_on(worker.run(stopped.recv())));
            if spawned.is_err() && n == 0 {
                // Not even one worker: serve on the caller's executor instead.
                executor.run(self.accept(Arc::downgrade(&executor))).await;
                return;
            }
        }
        executor
            .spawn(self.accept(Arc::downgrade(&executor)))
            .detach();
        future::pending::<()>().await;
    }

    /// Accepts connections forever, spawning each on `executor` (weak: the accept task lives on
    /// that executor and must not keep it alive).
    async fn accept(self, executor: Weak<Executor<'static>>) {
        let slots = Arc::new(Semaphore::new(self.shared.config.max_connections));
        let client_slots = ClientSlots::new(self.shared.config.max_connections_per_client);
        loop {
            let (mut stream, peer) = match self.listener.accept().await {
                Ok(accepted) => accepted,
                Err(_) => {
                    // Out of descriptors and the like: back off instead of spinning.
                    Timer::after(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let Some(executor) = executor.upgrade() else {
                return;
            };
            let Some(slot) = slots.try_acquire_arc() else {
                drop(stream);
                continue;
            };
            let Some(client_slot) = client_slots.try_acquire(peer.ip()) else {
                let write_timeout = self.shared.config.write_timeout;
                executor
                    .spawn(async move {
                        let refuse = stream.write_all(OVER_LIMIT_RESPONSE);
                        let _ = future::or(async { refuse.await.ok() }, async {
                            Timer::after(write_timeout).await;
                            None
                        })
                        .await;
                        drop(slot);
                    })
                    .detach();
                continue;
            };
            let shared = Arc::clone(&self.shared);
            executor
                .spawn(async move {
                    connection::serve(&shared, stream).await;
                    drop(client_slot);
                    drop(slot);
                })
                .detach();
        }
    }
}
