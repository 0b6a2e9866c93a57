//! The HTTP API's [`Backend`] on a client agent: every request goes over client RPC to a
//! server (the pool picks one and fails over); gossip endpoints are answered locally.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_channel::Sender;
use futures_lite::future;
use smol::Timer;
use synod_core::node::{ClientError, ClientRequest, ClientResponse, Consistency};
use synod_core::state::Query;
use synod_core::state::catalog::types::CatalogQuery;
use synod_core::wire::client_rpc::{RpcAnswer, RpcCall};

use super::ExitRequest;
use super::client_report::client_self;
use super::formation::{ServerMember, server_member};
use super::gossip_api;
use super::local::LocalAgent;
use super::reload::ReloadHandle;
use super::self_report::AgentIdentity;
use crate::http::agent_members::MemberInfo;
use crate::http::agent_self::AgentSelf;
use crate::http::backend::{Backend, Status};
use crate::http::errors::HttpError;
use crate::http::operator::{PeerSelector, RaftConfiguration};
use crate::rpc::{
    PoolError, Retry, RpcPool, peer_to_wire, raft_configuration_from_wire, status_from_wire,
};
use crate::serf::SerfHandle;

/// How long a server may take to answer a request or a status call.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Slack on top of a blocking wait's own timeout before the server counts as unresponsive.
const WAIT_GRACE: Duration = Duration::from_secs(5);
/// A failed wait returns after this pause (or its deadline), so a caller re-reading against
/// a broken cluster does not spin.
const WAIT_RETRY_PAUSE: Duration = Duration::from_millis(200);
/// How long a server may take to remove a Raft peer (it waits up to 10 s for the commit).
const REMOVAL_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a request is held and retried while the servers know no leader (an election in
/// progress), like Consul's `rpc_hold_timeout`.
const RPC_HOLD_TIMEOUT: Duration = Duration::from_secs(7);
/// First pause between those retries; doubles up to `MAX_HOLD_PAUSE`.
const FIRST_HOLD_PAUSE: Duration = Duration::from_millis(50);
/// Longest pause between those retries.
const MAX_HOLD_PAUSE: Duration = Duration::from_millis(400);
/// How long a server's status is reused for the `X-Consul-*` headers of further reads.
const STATUS_TTL: Duration = Duration::from_millis(100);

/// A client agent's backend: servers over RPC, gossip locally.
#[derive(Clone)]
pub struct ClientBackend {
    pool: RpcPool,
    identity: AgentIdentity,
    serf: SerfHandle,
    /// Where `leave` asks the agent to shut down.
    exit: Sender<ExitRequest>,
    /// The last server status and when it was fetched.
    status: Arc<Mutex<Option<(Instant, Status)>>>,
    /// Where `PUT /v1/agent/reload` asks for a config reload.
    reload: ReloadHandle,
    /// The agent's own services and checks (set once started).
    local: Option<LocalAgent>,
}

impl ClientBackend {
    pub(crate) fn new(
        pool: RpcPool,
        identity: AgentIdentity,
        serf: SerfHandle,
        exit: Sender<ExitRequest>,
        reload: ReloadHandle,
    ) -> Self {
        ClientBackend {
            pool,
            identity,
            serf,
            exit,
            status: Arc::new(Mutex::new(None)),
            reload,
            local: None,
        }
    }

    /// This backend serving the agent endpoints through `local`.
    pub(super) fn with_local(self, local: LocalAgent) -> Self {
        ClientBackend {
            local: Some(local),
            ..self
        }
    }

    /// A catalog read any server answers from what it has applied (no leader needed): what
    /// DNS on a client should answer from, one query per question (`ServiceHealth` for
    /// `<service>.service.consul`, `NodeServices` for `<node>.node.consul`), as Consul's client
    /// agents do with `AllowStale`.
    pub async fn stale_catalog_read(&self, query: CatalogQuery) -> ClientResponse {
        self.request(ClientRequest::Read {
            query: query.into(),
            consistency: Consistency::Stale,
        })
        .await
    }

    fn cached_status(&self) -> Option<Status> {
        let cached = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        cached
            .as_ref()
            .filter(|(at, _)| at.elapsed() < STATUS_TTL)
            .map(|(_, status)| status.clone())
    }

    fn known_servers(&self) -> Vec<ServerMember> {
        live_servers(&self.serf, &self.identity.datacenter)
    }
}

/// Servers of datacenter `dc` that gossip lists alive.
pub(crate) fn live_servers(serf: &SerfHandle, dc: &str) -> Vec<ServerMember> {
    serf.members()
        .iter()
        .filter(|m| m.status.is_live())
        .filter_map(|m| server_member(m, dc))
        .collect()
}

/// Runs `attempt` again, with growing pauses, while it fails only because no leader is known
/// or ready (such a failure had no effect, so repeating a write is safe), for up to `hold`.
async fn hold_while_leaderless<F, A>(mut attempt: A, hold: Duration) -> ClientResponse
where
    A: FnMut() -> F,
    F: Future<Output = ClientResponse>,
{
    let give_up = Instant::now() + hold;
    let mut pause = FIRST_HOLD_PAUSE;
    loop {
        let response = attempt().await;
        let leaderless = matches!(
            response,
            ClientResponse::Failed(ClientError::NotLeader { .. } | ClientError::NotReady)
        );
        if !leaderless || Instant::now() + pause > give_up {
            return response;
        }
        Timer::after(pause).await;
        pause = (pause * 2).min(MAX_HOLD_PAUSE);
    }
}

/// What the client answers when the pool got no answer.
fn pool_failure(error: PoolError) -> ClientResponse {
    ClientResponse::Failed(match error {
        PoolError::NoServers => ClientError::NoServers,
        // The server may have applied it: the outcome is unknown.
        PoolError::Unanswered => ClientError::LeadershipLost,
    })
}

impl Backend for ClientBackend {
    fn join_wan(&self, addr: String) -> impl Future<Output = Result<usize, String>> + Send {
        let _ = addr;
        future::ready(Err(super::wan::NOT_A_SERVER.to_owned()))
    }

    fn local_agent(&self) -> Option<LocalAgent> {
        self.local.clone()
    }

    fn reload(&self) -> impl Future<Output = Result<(), String>> + Send {
        let reload = self.reload.clone();
        async move { reload.reload().await }
    }

    fn request(&self, request: ClientRequest) -> impl Future<Output = ClientResponse> + Send {
        let pool = self.pool.clone();
        let retry = match request {
            ClientRequest::Read { .. } => Retry::Idempotent,
            ClientRequest::Write(_) => Retry::AtMostOnce,
        };
        let attempt = move || {
            let pool = pool.clone();
            let call = RpcCall::Request(request.clone());
            async move {
                match pool.call(call, REQUEST_TIMEOUT, retry).await {
                    Ok(RpcAnswer::Response(response)) => response,
                    // A server answering another kind of call is broken: treat it as gone.
                    Ok(_) => pool_failure(PoolError::Unanswered),
                    Err(error) => pool_failure(error),
                }
            }
        };
        hold_while_leaderless(attempt, RPC_HOLD_TIMEOUT)
    }

    fn status(&self) -> impl Future<Output = Status> + Send {
        let cached = self.cached_status();
        let pool = self.pool.clone();
        let cache = self.status.clone();
        async move {
            if let Some(status) = cached {
                return status;
            }
            let answer = pool
                .call(RpcCall::Status, REQUEST_TIMEOUT, Retry::Idempotent)
                .await;
            let Ok(RpcAnswer::Status(status)) = answer else {
                // No server answers: no leader is known from here.
                return Status::default();
            };
            let status = status_from_wire(status);
            *cache.lock().unwrap_or_else(PoisonError::into_inner) =
                Some((Instant::now(), status.clone()));
            status
        }
    }

    fn wait(
        &self,
        query: &Query,
        min_index: u64,
        deadline: Instant,
    ) -> impl Future<Output = ()> + Send {
        let pool = self.pool.clone();
        let timeout = deadline.saturating_duration_since(Instant::now());
        let call = RpcCall::Wait {
            query: query.clone(),
            min_index,
            timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
        };
        let parked = async move {
            let answer = pool
                .call(call, timeout + WAIT_GRACE, Retry::Idempotent)
                .await;
            if !matches!(answer, Ok(RpcAnswer::Waited)) {
                Timer::after(WAIT_RETRY_PAUSE).await;
            }
        };
        future::or(parked, async move {
            Timer::at(deadline).await;
        })
    }

    fn agent_self(&self) -> impl Future<Output = AgentSelf> + Send {
        future::ready(client_self(
            &self.identity,
            self.known_servers().len(),
            self.pool.connected_to(),
        ))
    }

    fn raft_configuration(&self) -> impl Future<Output = RaftConfiguration> + Send {
        let pool = self.pool.clone();
        async move {
            let answer = pool
                .call(
                    RpcCall::RaftConfiguration,
                    REQUEST_TIMEOUT,
                    Retry::Idempotent,
                )
                .await;
            match answer {
                Ok(RpcAnswer::RaftConfiguration(view)) => raft_configuration_from_wire(view),
                // No server answers: nothing is known (the endpoint then says no leader).
                _ => RaftConfiguration {
                    servers: Vec::new(),
                    index: 0,
                    known_leader: false,
                },
            }
        }
    }

    fn remove_raft_peer(
        &self,
        peer: PeerSelector,
    ) -> impl Future<Output = Result<(), String>> + Send {
        let pool = self.pool.clone();
        let call = RpcCall::RemoveRaftPeer(peer_to_wire(peer));
        async move {
            match pool.call(call, REMOVAL_TIMEOUT, Retry::AtMostOnce).await {
                Ok(RpcAnswer::Removed(outcome)) => outcome,
                Ok(_) | Err(PoolError::Unanswered) => Err(
                    "the server did not answer: the removal may or may not have happened".into(),
                ),
                Err(PoolError::NoServers) => Err(HttpError::from(ClientError::NoServers).message),
            }
        }
    }

    fn members(&self) -> impl Future<Output = Result<Vec<MemberInfo>, String>> + Send {
        future::ready(gossip_api::members(Some(&self.serf)))
    }

    fn join(&self, addr: String) -> impl Future<Output = Result<usize, String>> + Send {
        gossip_api::join(Ok(self.serf.clone()), super::join::Pool::Lan, addr)
    }

    fn leave(&self) -> impl Future<Output = Result<(), String>> + Send {
        let serf = self.serf.clone();
        let exit = self.exit.clone();
        async move {
            serf.leave().await.map_err(|e| e.to_string())?;
            // The agent shuts down after answering; a full queue means it already is.
            let _ = exit.try_send(ExitRequest::Left);
            Ok(())
        }
    }

    fn force_leave(
        &self,
        node: String,
        prune: bool,
    ) -> impl Future<Output = Result<(), String>> + Send {
        gossip_api::force_leave(Ok(self.serf.clone()), node, prune)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use synod_core::ids::LogIndex;
    use synod_core::state::CommandResult;
    use synod_core::state::kv_types::KvCommandResult;

    fn written() -> ClientResponse {
        ClientResponse::Written {
            index: LogIndex(5),
            result: CommandResult::Kv(KvCommandResult::Done(true)),
        }
    }

    /// Answers `failure` `times` times, then `written()`; counts the attempts.
    fn answers(
        failure: ClientError,
        times: usize,
        attempts: &Cell<usize>,
    ) -> impl FnMut() -> future::Ready<ClientResponse> {
        move || {
            attempts.set(attempts.get() + 1);
            future::ready(if attempts.get() <= times {
                ClientResponse::Failed(failure.clone())
            } else {
                written()
            })
        }
    }

    #[test]
    fn a_request_is_held_through_an_election() {
        let attempts = Cell::new(0);
        let no_leader = ClientError::NotLeader { leader: None };
        let held = hold_while_leaderless(answers(no_leader, 3, &attempts), Duration::from_secs(5));
        assert_eq!(smol::block_on(held), written());
        assert_eq!(attempts.get(), 4);
    }

    #[test]
    fn a_leaderless_cluster_fails_once_the_hold_runs_out() {
        let attempts = Cell::new(0);
        let started = Instant::now();
        let held = hold_while_leaderless(
            answers(ClientError::NotReady, usize::MAX, &attempts),
            Duration::from_millis(300),
        );
        assert_eq!(
            smol::block_on(held),
            ClientResponse::Failed(ClientError::NotReady)
        );
        assert!(started.elapsed() < Duration::from_secs(1));
        assert!(attempts.get() >= 2);
    }

    #[test]
    fn other_failures_are_not_held() {
        for failure in [ClientError::NoServers, ClientError::LeadershipLost] {
            let attempts = Cell::new(0);
            let held = hold_while_leaderless(
                answers(failure.clone(), 1, &attempts),
                Duration::from_secs(5),
            );
            assert_eq!(smol::block_on(held), ClientResponse::Failed(failure));
            assert_eq!(attempts.get(), 1);
        }
    }
}
