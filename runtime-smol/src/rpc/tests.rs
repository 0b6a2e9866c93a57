//! Client RPC end to end in one process: real TCP, the server handler over a
//! [`MemoryBackend`], the client pool in front.

use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use async_net::TcpListener;
use futures_lite::{AsyncReadExt, future};
use smol::LocalExecutor;
use synod_core::ids::LogIndex;
use synod_core::node::{ClientRequest, ClientResponse, Consistency};
use synod_core::state::kv_types::{KvCommand, KvCommandResult, KvQuery};
use synod_core::state::{CommandResult, Query};
use synod_core::wire::FrameDecoder;
use synod_core::wire::client_rpc::{RpcAnswer, RpcCall, client_hello_version};

use super::{PoolError, PoolSettings, Retry, RpcPool, client_conn_handler};
use crate::http::backend::{Backend, Status};
use crate::http::memory_backend::MemoryBackend;
use crate::shell::log::{Level, Log};
use crate::shell::smol_env::SmolEnv;
use crate::shell::{Env, Listener};

const TIMEOUT: Duration = Duration::from_secs(5);

/// A client RPC server on its own executor: dropping the executor kills it (connections
/// included), like a crashed process.
struct TestServer {
    addr: String,
    executor: Rc<LocalExecutor<'static>>,
    backend: Arc<MemoryBackend>,
}

impl TestServer {
    async fn start() -> TestServer {
        let executor = Rc::new(LocalExecutor::new());
        let env = SmolEnv::new(executor.clone());
        let listener = env
            .listen("127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("listen");
        let addr = listener.local_addr().expect("bound").to_string();
        let backend = Arc::new(MemoryBackend::new(Status::default()));
        let log = Log::new(Level::Error, SystemTime::now);
        let handler = client_conn_handler(env.clone(), backend.clone(), log);
        executor
            .spawn(async move {
                loop {
                    let Ok(mut conn) = listener.accept().await else {
                        return;
                    };
                    // What the shell's peer listener does: the first frame decides.
                    let mut decoder = FrameDecoder::default();
                    let mut buf = [0u8; 4096];
                    let hello = loop {
                        if let Ok(Some(frame)) = decoder.pop() {
                            break frame;
                        }
                        match crate::shell::Conn::read(&mut conn, &mut buf).await {
                            Ok(n) if n > 0 => decoder.push(&buf[..n]),
                            _ => return,
                        }
                    };
                    let version = client_hello_version(&hello).expect("a client hello");
                    handler(conn, version, decoder);
                }
            })
            .detach();
        TestServer {
            addr,
            executor,
            backend,
        }
    }

    /// Runs the server's tasks while `task` runs.
    async fn serving<T>(&self, task: impl Future<Output = T>) -> T {
        self.executor.run(task).await
    }
}

/// A TCP relay to `target` whose death (drop) cuts its connections, as a crashed server's
/// kernel does. Relays one connection at a time: the pool keeps only one.
struct CrashableRelay {
    addr: String,
    executor: LocalExecutor<'static>,
}

impl CrashableRelay {
    async fn start(target: String) -> CrashableRelay {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let executor = LocalExecutor::new();
        executor
            .spawn(async move {
                while let Ok((client, _)) = listener.accept().await {
                    let Ok(server) = async_net::TcpStream::connect(target.as_str()).await else {
                        return;
                    };
                    let up = futures_lite::io::copy(client.clone(), server.clone());
                    let down = futures_lite::io::copy(server, client);
                    let _ = future::zip(up, down).await;
                }
            })
            .detach();
        CrashableRelay { addr, executor }
    }

    /// Runs the relay while `task` runs.
    async fn relaying<T>(&self, task: impl Future<Output = T>) -> T {
        self.executor.run(task).await
    }
}

fn pool_over(addrs: Vec<String>, rotation: usize) -> (RpcPool, impl Future<Output = ()>) {
    pool_rebalancing(addrs, rotation, Duration::from_secs(3600))
}

fn pool_rebalancing(
    addrs: Vec<String>,
    rotation: usize,
    rebalance_after: Duration,
) -> (RpcPool, impl Future<Output = ()>) {
    let source = Arc::new(move || addrs.clone());
    RpcPool::new(
        source,
        PoolSettings {
            connect_timeout: Duration::from_secs(1),
            rotation,
            rebalance_after,
        },
    )
}

fn put(key: &str) -> RpcCall {
    RpcCall::Request(ClientRequest::Write(
        KvCommand::Set {
            key: key.into(),
            value: bytes::Bytes::from_static(b"v"),
            flags: 0,
        }
        .into(),
    ))
}

fn written(index: u64) -> Result<RpcAnswer, PoolError> {
    Ok(RpcAnswer::Response(ClientResponse::Written {
        index: LogIndex(index),
        result: CommandResult::Kv(KvCommandResult::Done(true)),
    }))
}

fn kv_get(key: &str) -> Query {
    KvQuery::Get { key: key.into() }.into()
}

/// Runs `test` on a fresh local executor that also runs the pool's connections.
fn run<F: Future<Output = ()>>(test: impl FnOnce(Rc<LocalExecutor<'static>>) -> F) {
    let local = Rc::new(LocalExecutor::new());
    smol::block_on(local.run(test(local.clone())));
}

#[test]
fn a_call_is_answered_by_the_server() {
    run(|local| async move {
        let server = TestServer::start().await;
        let (pool, connections) = pool_over(vec![server.addr.clone()], 0);
        local.spawn(connections).detach();
        let answer = server.serving(pool.call(put("a"), TIMEOUT, Retry::AtMostOnce));
        assert_eq!(answer.await, written(2));
        assert_eq!(pool.connected_to(), Some(server.addr.clone()));
    });
}

#[test]
fn no_known_server_is_no_servers() {
    run(|local| async move {
        let (pool, connections) = pool_over(Vec::new(), 0);
        local.spawn(connections).detach();
        let answer = pool.call(RpcCall::Status, TIMEOUT, Retry::Idempotent).await;
        assert_eq!(answer, Err(PoolError::NoServers));
    });
}

#[test]
fn unreachable_servers_are_no_servers() {
    run(|local| async move {
        // Bound then closed: connecting is refused.
        let closed = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = closed.local_addr().expect("addr").to_string();
        drop(closed);
        let (pool, connections) = pool_over(vec![addr], 0);
        local.spawn(connections).detach();
        let answer = pool.call(RpcCall::Status, TIMEOUT, Retry::Idempotent).await;
        assert_eq!(answer, Err(PoolError::NoServers));
    });
}

#[test]
fn the_pool_fails_over_when_its_server_dies() {
    run(|local| async move {
        let first = TestServer::start().await;
        let second = TestServer::start().await;
        let relay = CrashableRelay::start(first.addr.clone()).await;
        // The relay (the first server, as the client sees it) sorts first: rotation 0 picks it.
        let mut addrs = vec![relay.addr.clone(), second.addr.clone()];
        addrs.sort();
        let rotation = addrs.iter().position(|a| *a == relay.addr).expect("listed");
        let (pool, connections) = pool_over(addrs, rotation);
        local.spawn(connections).detach();
        let call = pool.call(put("a"), TIMEOUT, Retry::AtMostOnce);
        let answer = first.serving(relay.relaying(call)).await;
        assert_eq!(answer, written(2));
        assert_eq!(pool.connected_to(), Some(relay.addr.clone()));
        drop(relay);
        // A read sent before the client noticed the cut is repeated on the other server...
        let read = RpcCall::Request(ClientRequest::Read {
            query: kv_get("a"),
            consistency: Consistency::Default,
        });
        let answer = second
            .serving(pool.call(read, TIMEOUT, Retry::Idempotent))
            .await;
        assert!(
            matches!(answer, Ok(RpcAnswer::Response(ClientResponse::Read { .. }))),
            "{answer:?}"
        );
        assert_eq!(pool.connected_to(), Some(second.addr.clone()));
        // ...which then takes the writes.
        let answer = second.serving(pool.call(put("b"), TIMEOUT, Retry::AtMostOnce));
        assert_eq!(answer.await, written(2));
    });
}

#[test]
fn a_write_whose_connection_breaks_after_sending_is_not_repeated() {
    run(|local| async move {
        // Reads the hello and the request, then hangs up without answering.
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        local
            .spawn(async move {
                while let Ok((mut stream, _)) = listener.accept().await {
                    let mut buf = [0u8; 256];
                    let _ = stream.read(&mut buf).await;
                    smol::Timer::after(Duration::from_millis(50)).await;
                    drop(stream);
                }
            })
            .detach();
        let (pool, connections) = pool_over(vec![addr], 0);
        local.spawn(connections).detach();
        let write = pool.call(put("a"), TIMEOUT, Retry::AtMostOnce).await;
        assert_eq!(write, Err(PoolError::Unanswered));
        // A read is repeated instead; with no other server left, there is none to ask.
        let read = pool.call(RpcCall::Status, TIMEOUT, Retry::Idempotent).await;
        assert_eq!(read, Err(PoolError::NoServers));
    });
}

#[test]
fn a_parked_wait_does_not_hold_up_later_requests_and_wakes_on_a_write() {
    run(|local| async move {
        let server = TestServer::start().await;
        let (pool, connections) = pool_over(vec![server.addr.clone()], 0);
        local.spawn(connections).detach();
        let scenario = async {
            let read = RpcCall::Request(ClientRequest::Read {
                query: kv_get("k"),
                consistency: Consistency::Default,
            });
            let Ok(RpcAnswer::Response(ClientResponse::Read { index, .. })) =
                pool.call(read, TIMEOUT, Retry::Idempotent).await
            else {
                panic!("the read is answered");
            };
            let started = Instant::now();
            let wait = pool.call(
                RpcCall::Wait {
                    query: kv_get("k"),
                    min_index: index,
                    timeout_ms: 30_000,
                },
                Duration::from_secs(35),
                Retry::Idempotent,
            );
            let writes = async {
                // Unrelated writes are answered while the wait stays parked.
                smol::Timer::after(Duration::from_millis(100)).await;
                assert_eq!(
                    pool.call(put("other"), TIMEOUT, Retry::AtMostOnce).await,
                    written(2)
                );
                assert_eq!(server.backend.parked_queries(), 1);
                pool.call(put("k"), TIMEOUT, Retry::AtMostOnce).await
            };
            let (waited, wrote) = future::zip(wait, writes).await;
            assert_eq!(waited, Ok(RpcAnswer::Waited));
            assert_eq!(wrote, written(3));
            assert!(started.elapsed() < Duration::from_secs(5));
        };
        server.serving(scenario).await;
    });
}

#[test]
fn status_is_the_servers() {
    run(|local| async move {
        let server = TestServer::start().await;
        let status = Status {
            leader: Some("127.0.0.9:8300".into()),
            peers: vec!["127.0.0.9:8300".into()],
            known_leader: true,
            last_contact: Duration::from_millis(3),
        };
        server.backend.set_status(status.clone());
        let (pool, connections) = pool_over(vec![server.addr.clone()], 0);
        local.spawn(connections).detach();
        let answer = server.serving(pool.call(RpcCall::Status, TIMEOUT, Retry::Idempotent));
        let Ok(RpcAnswer::Status(wire)) = answer.await else {
            panic!("a status answer");
        };
        assert_eq!(super::status_from_wire(wire), status);
        assert_eq!(server.backend.status().await, status);
    });
}

#[test]
fn a_wait_its_caller_abandons_is_released_on_the_server() {
    run(|local| async move {
        let server = TestServer::start().await;
        let (pool, connections) = pool_over(vec![server.addr.clone()], 0);
        local.spawn(connections).detach();
        let scenario = async {
            let wait = pool.call(
                RpcCall::Wait {
                    query: kv_get("k"),
                    min_index: 1,
                    timeout_ms: 60_000,
                },
                Duration::from_secs(65),
                Retry::Idempotent,
            );
            // The caller goes away while the wait is parked on the server.
            let gave_up = future::or(async { Some(wait.await) }, async {
                smol::Timer::after(Duration::from_millis(200)).await;
                None
            });
            assert_eq!(gave_up.await, None);
            let deadline = Instant::now() + Duration::from_secs(5);
            while server.backend.parked_queries() > 0 {
                assert!(Instant::now() < deadline, "the wait stays parked");
                smol::Timer::after(Duration::from_millis(10)).await;
            }
            // The connection stays usable.
            assert_eq!(
                pool.call(put("k"), TIMEOUT, Retry::AtMostOnce).await,
                written(2)
            );
        };
        server.serving(scenario).await;
    });
}

#[test]
fn the_pool_moves_through_every_server_as_it_rebalances() {
    run(|local| async move {
        let servers = [
            TestServer::start().await,
            TestServer::start().await,
            TestServer::start().await,
        ];
        let mut addrs: Vec<String> = servers.iter().map(|s| s.addr.clone()).collect();
        addrs.sort();
        let (pool, connections) = pool_rebalancing(addrs.clone(), 0, Duration::from_millis(50));
        local.spawn(connections).detach();
        let scenario = async {
            let mut visited = Vec::new();
            for _ in 0..4 {
                let answer = pool.call(RpcCall::Status, TIMEOUT, Retry::Idempotent).await;
                assert!(matches!(answer, Ok(RpcAnswer::Status(_))), "{answer:?}");
                visited.push(pool.connected_to().expect("connected"));
                smol::Timer::after(Duration::from_millis(80)).await;
            }
            visited
        };
        // Boxed: three executors' futures nested inline overflow a test thread's stack.
        let third = Box::pin(servers[2].serving(scenario));
        let second = Box::pin(servers[1].serving(third));
        let visited = servers[0].serving(second).await;
        let expected = [&addrs[0], &addrs[1], &addrs[2], &addrs[0]].map(String::clone);
        assert_eq!(visited, expected);
    });
}
