//! A client agent's way to the servers: one connection at a time to a server learned from LAN
//! gossip, kept while it works, replaced by the next server when it fails, and moved to the next
//! server after a while so clients spread over servers that joined later (Consul's clients do
//! the same). Calls that may have reached a server before its connection failed are retried
//! elsewhere only when repeating them is harmless.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use smol::Executor;
use synod_core::wire::client_rpc::{RpcAnswer, RpcCall};

use super::conn::{CallError, ServerConn};

/// Where the pool learns the servers' RPC addresses (`ip:port`), e.g. from gossip tags.
pub type ServerSource = Arc<dyn Fn() -> Vec<String> + Send + Sync>;

/// Connection settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolSettings {
    /// Giving up on connecting to one server after this long.
    pub connect_timeout: Duration,
    /// Where this client starts in the server list: clients with different offsets spread over
    /// the servers instead of all picking the first.
    pub rotation: usize,
    /// How long a working connection is kept before the pool moves to the next server.
    pub rebalance_after: Duration,
}

/// Whether a call may be repeated on another server after its connection failed once the
/// request was sent.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Retry {
    /// Reads, status, waits: repeating them changes nothing.
    Idempotent,
    /// Writes: the first server may have applied it; report the outcome as unknown.
    AtMostOnce,
}

/// Why the pool could not get an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PoolError {
    /// No server is known, or none could be reached.
    NoServers,
    /// The request reached a server whose connection then failed; it may have taken effect.
    Unanswered,
}

/// Shared between clones of one pool.
struct Inner {
    servers: ServerSource,
    settings: PoolSettings,
    current: Mutex<Option<Arc<ServerConn>>>,
    executor: Arc<Executor<'static>>,
}

/// The client's connections to the servers. Cheap to clone.
#[derive(Clone)]
pub struct RpcPool {
    inner: Arc<Inner>,
}

impl RpcPool {
    /// A pool over the servers `servers` names, and the future that runs its connections
    /// (spawn it; the pool's connections stop working once it is dropped).
    pub fn new(
        servers: ServerSource,
        settings: PoolSettings,
    ) -> (RpcPool, impl Future<Output = ()> + 'static) {
        let executor = Arc::new(Executor::new());
        let pool = RpcPool {
            inner: Arc::new(Inner {
                servers,
                settings,
                current: Mutex::new(None),
                executor: executor.clone(),
            }),
        };
        let run = async move { executor.run(futures_lite::future::pending::<()>()).await };
        (pool, run)
    }

    /// The address of the server the pool is connected to, if any.
    pub fn connected_to(&self) -> Option<String> {
        self.current()
            .filter(|conn| !conn.is_closed())
            .map(|conn| conn.addr().to_owned())
    }

    /// Sends `call` to a server — the connected one first, then the others in turn — and
    /// waits up to `timeout` per attempt.
    pub async fn call(
        &self,
        call: RpcCall,
        timeout: Duration,
        retry: Retry,
    ) -> Result<RpcAnswer, PoolError> {
        let mut candidates = self.candidates();
        // The connected server may have left the gossip list; it still gets the first try.
        let mut attempts = candidates.len() + 1;
        while attempts > 0 {
            attempts -= 1;
            let Some(conn) = self.connection(&mut candidates).await else {
                return Err(PoolError::NoServers);
            };
            match conn.call(call.clone(), timeout).await {
                Ok(answer) => return Ok(answer),
                Err(CallError::NotSent) => {}
                Err(CallError::Lost | CallError::TimedOut) if retry == Retry::Idempotent => {}
                Err(CallError::Lost | CallError::TimedOut) => {
                    self.forget(&conn);
                    return Err(PoolError::Unanswered);
                }
            }
            self.forget(&conn);
        }
        Err(PoolError::NoServers)
    }

    /// The open connection, or a new one to the first of `candidates` that accepts (removing
    /// the ones tried). `None` when no candidate is left.
    async fn connection(&self, candidates: &mut Vec<String>) -> Option<Arc<ServerConn>> {
        if let Some(conn) = self.current().filter(|conn| !conn.is_closed()) {
            candidates.retain(|addr| addr != conn.addr());
            if conn.chosen_for() < self.inner.settings.rebalance_after || candidates.is_empty() {
                return Some(conn);
            }
            return Some(self.rebalance(conn, candidates).await);
        }
        while !candidates.is_empty() {
            let addr = candidates.remove(0);
            let settings = &self.inner.settings;
            let opened =
                ServerConn::open(&addr, settings.connect_timeout, &self.inner.executor).await;
            if let Ok(conn) = opened {
                let conn = Arc::new(conn);
                let mut current = self.lock_current();
                // Another caller may have connected meanwhile: keep theirs, drop ours.
                if let Some(theirs) = current.as_ref().filter(|c| !c.is_closed()) {
                    return Some(theirs.clone());
                }
                *current = Some(conn.clone());
                return Some(conn);
            }
        }
        None
    }

    /// Moves from `conn` to the server after it (in address order, wrapping) among
    /// `candidates`; keeps `conn` for another period when that one does not accept. Calls still
    /// running on `conn` finish there: it closes once the last of them lets go of it.
    async fn rebalance(
        &self,
        conn: Arc<ServerConn>,
        candidates: &mut Vec<String>,
    ) -> Arc<ServerConn> {
        conn.choose_again();
        let mut ordered = candidates.clone();
        ordered.sort();
        let Some(next) = ordered
            .iter()
            .find(|addr| addr.as_str() > conn.addr())
            .or_else(|| ordered.first())
            .cloned()
        else {
            return conn;
        };
        candidates.retain(|addr| *addr != next);
        let settings = &self.inner.settings;
        let Ok(fresh) =
            ServerConn::open(&next, settings.connect_timeout, &self.inner.executor).await
        else {
            return conn;
        };
        let fresh = Arc::new(fresh);
        let mut current = self.lock_current();
        match current.as_ref() {
            // Another caller replaced it meanwhile: use theirs.
            Some(theirs) if !Arc::ptr_eq(theirs, &conn) && !theirs.is_closed() => theirs.clone(),
            _ => {
                *current = Some(fresh.clone());
                fresh
            }
        }
    }

    /// The known servers, starting at this pool's rotation.
    fn candidates(&self) -> Vec<String> {
        let mut servers = (self.inner.servers)();
        servers.sort();
        servers.dedup();
        if !servers.is_empty() {
            let start = self.inner.settings.rotation % servers.len();
            servers.rotate_left(start);
        }
        servers
    }

    /// Drops `conn` as the current connection (closing it).
    fn forget(&self, conn: &Arc<ServerConn>) {
        conn.close();
        let mut current = self.lock_current();
        if current.as_ref().is_some_and(|c| Arc::ptr_eq(c, conn)) {
            *current = None;
        }
    }

    fn current(&self) -> Option<Arc<ServerConn>> {
        self.lock_current().clone()
    }

    fn lock_current(&self) -> std::sync::MutexGuard<'_, Option<Arc<ServerConn>>> {
        // Holds a plain Option: a poisoned lock is still usable.
        self.inner
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}
