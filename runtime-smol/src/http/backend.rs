//! What the HTTP layer needs from the rest of the server. The lead implements it over the node
//! event loop; tests use [`super::memory_backend::MemoryBackend`].

use std::future::Future;
use std::time::{Duration, Instant};

use synod_core::node::{ClientRequest, ClientResponse};
use synod_core::state::Query;

use super::agent_members::MemberInfo;
use super::agent_self::AgentSelf;
use super::operator::{PeerSelector, RaftConfiguration};

/// Cluster status as this server sees it, for `/v1/status/*` and the `X-Consul-*` read headers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// The leader's RPC address (`"10.0.0.1:8300"`), if one is known.
    pub leader: Option<String>,
    /// RPC addresses of the Raft voters.
    pub peers: Vec<String>,
    /// Whether this server currently knows a leader (`X-Consul-KnownLeader`).
    pub known_leader: bool,
    /// Time since this server last heard from the leader; zero on the leader
    /// (`X-Consul-LastContact`, in whole milliseconds).
    pub last_contact: Duration,
}

/// The server behind the HTTP API.
///
/// Futures must be `Send`: connections run on a multi-task executor. Dropping a future returned
/// here means the client went away; implementations must tolerate that at any await point.
pub trait Backend: Send + Sync + 'static {
    /// Executes one request (a write through Raft, or a read at the given consistency).
    fn request(&self, request: ClientRequest) -> impl Future<Output = ClientResponse> + Send;

    /// Current cluster status.
    fn status(&self) -> impl Future<Output = Status> + Send;

    /// Completes once the data `query` reads may have moved past `min_index` — immediately if
    /// it already has — or at `deadline`, whichever is first. Spurious completions are fine: the
    /// caller re-reads and waits again while the index has not moved.
    fn wait(
        &self,
        query: &Query,
        min_index: u64,
        deadline: Instant,
    ) -> impl Future<Output = ()> + Send;

    /// What `/v1/agent/self` reports about this agent.
    fn agent_self(&self) -> impl Future<Output = AgentSelf> + Send;

    /// The Raft configuration as this server knows it.
    fn raft_configuration(&self) -> impl Future<Output = RaftConfiguration> + Send;

    /// Removes a server from the Raft configuration; completes once the removal committed.
    /// The error is the text Consul answers with a 500.
    fn remove_raft_peer(
        &self,
        peer: PeerSelector,
    ) -> impl Future<Output = Result<(), String>> + Send;

    /// The LAN gossip members, as `/v1/agent/members` lists them. The default is for backends
    /// without gossip.
    fn members(&self) -> impl Future<Output = Result<Vec<MemberInfo>, String>> + Send {
        std::future::ready(Err(NO_GOSSIP.to_owned()))
    }

    /// Joins the LAN pool through `addr` (port 8301 when none is given); the number of agents
    /// contacted.
    fn join(&self, addr: String) -> impl Future<Output = Result<usize, String>> + Send {
        let _ = addr;
        std::future::ready(Err(NO_GOSSIP.to_owned()))
    }

    /// Leaves the LAN pool gracefully, then has the agent shut down.
    fn leave(&self) -> impl Future<Output = Result<(), String>> + Send {
        std::future::ready(Err(NO_GOSSIP.to_owned()))
    }

    /// The agent's own services and checks (`/v1/agent/service*`, `/v1/agent/check*`); `None`
    /// for backends that run no local agent.
    fn local_agent(&self) -> Option<crate::agent::local::LocalAgent> {
        None
    }

    /// Marks failed member `node` left across the pool (`prune`: forget it entirely).
    fn force_leave(
        &self,
        node: String,
        prune: bool,
    ) -> impl Future<Output = Result<(), String>> + Send {
        let _ = (node, prune);
        std::future::ready(Err(NO_GOSSIP.to_owned()))
    }

    /// Re-reads and applies the agent's configuration (`PUT /v1/agent/reload`); the error
    /// (file, key and reason) is answered with a 500 and nothing changed. The default is for
    /// backends without config files.
    fn reload(&self) -> impl Future<Output = Result<(), String>> + Send {
        std::future::ready(Err(NO_RELOAD.to_owned()))
    }

    /// The WAN gossip members (`/v1/agent/members?wan=1`); empty on an agent without a WAN
    /// pool, as Consul's clients answer.
    fn wan_members(&self) -> impl Future<Output = Result<Vec<MemberInfo>, String>> + Send {
        std::future::ready(Ok(Vec::new()))
    }

    /// Joins the WAN pool through `addr` (port 8302 when none is given).
    fn join_wan(&self, addr: String) -> impl Future<Output = Result<usize, String>> + Send {
        let _ = addr;
        std::future::ready(Err(NO_WAN.to_owned()))
    }

    /// `force_leave` in the WAN pool (`node` is `<name>.<dc>` there).
    fn force_leave_wan(
        &self,
        node: String,
        prune: bool,
    ) -> impl Future<Output = Result<(), String>> + Send {
        let _ = (node, prune);
        std::future::ready(Err(NO_WAN.to_owned()))
    }

    /// Every datacenter this agent knows of through the WAN pool, sorted (its own included;
    /// for `/v1/catalog/datacenters`).
    fn wan_datacenters(&self) -> impl Future<Output = Vec<String>> + Send {
        std::future::ready(Vec::new())
    }
}

/// What `PUT /v1/agent/reload` answers on a backend that has no configuration to reload.
pub const NO_RELOAD: &str = "this agent has no configuration to reload";

/// What the gossip endpoints answer on a backend that runs no gossip.
pub const NO_GOSSIP: &str = "LAN gossip is not running on this agent";

/// What the WAN endpoints answer on a backend that runs no WAN pool (Consul's words for a
/// server whose WAN serf is off).
pub const NO_WAN: &str = "WAN Federation is disabled";
