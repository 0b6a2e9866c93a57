//! The HTTP API's [`Backend`] over a running node's [`NodeHandle`].

use std::time::{Duration, Instant};

use async_channel::Sender;
use futures_lite::future;
use smol::Timer;
use synod_core::gossip::Member;
use synod_core::ids::{LogIndex, NodeId};
use synod_core::node::{ClientRequest, ClientResponse};
use synod_core::raft::{ProposeError, Suffrage};
use synod_core::state::Query;

use super::ExitRequest;
use super::formation::server_member;
use super::gossip_api;
use super::join::Pool;
use super::leave::graceful_leave;
use super::local::LocalAgent;
use super::reload::ReloadHandle;
use super::self_report::{self, AgentIdentity};
use crate::http::agent_members::MemberInfo;
use crate::http::agent_self::AgentSelf;
use crate::http::backend::NO_WAN;
use crate::http::backend::{Backend, Status};
use crate::http::operator::{PeerSelector, RaftConfiguration};
use crate::serf::SerfHandle;
use crate::shell::NodeHandle;

/// How long `remove-peer` waits for the new configuration to commit.
const REMOVAL_COMMIT_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves HTTP requests by sending them into the node's event loop.
#[derive(Clone)]
pub(super) struct NodeBackend {
    handle: NodeHandle,
    identity: AgentIdentity,
    /// LAN gossip, `None` when its port is disabled.
    serf: Option<SerfHandle>,
    /// WAN gossip, `None` when its port is disabled.
    wan: Option<SerfHandle>,
    /// Where `leave` asks the agent to shut down.
    exit: Sender<ExitRequest>,
    /// Where `PUT /v1/agent/reload` asks for a config reload.
    reload: ReloadHandle,
    /// The agent's own services and checks (set once started).
    local: Option<LocalAgent>,
}

impl NodeBackend {
    pub(super) fn new(
        handle: NodeHandle,
        identity: AgentIdentity,
        serf: Option<SerfHandle>,
        exit: Sender<ExitRequest>,
        reload: ReloadHandle,
    ) -> Self {
        NodeBackend {
            handle,
            identity,
            serf,
            wan: None,
            exit,
            reload,
            local: None,
        }
    }

    /// This backend serving the agent endpoints through `local`.
    pub(super) fn with_local(self, local: LocalAgent) -> Self {
        NodeBackend {
            local: Some(local),
            ..self
        }
    }

    /// Serves the `?wan` endpoints from `wan`.
    pub(super) fn with_wan(mut self, wan: Option<SerfHandle>) -> Self {
        self.wan = wan;
        self
    }

    /// This server's Raft id.
    pub(super) fn raft_id(&self) -> NodeId {
        self.handle.status().id
    }

    fn serf(&self) -> Result<SerfHandle, String> {
        gossip_api::running(self.serf.as_ref())
    }

    fn wan(&self) -> Result<SerfHandle, String> {
        self.wan.clone().ok_or_else(|| NO_WAN.to_owned())
    }
}

/// The server `peer` names in the current configuration.
fn resolve_peer(handle: &NodeHandle, peer: &PeerSelector) -> Result<NodeId, String> {
    let status = handle.status();
    let servers = &status.membership.servers;
    let found = match peer {
        PeerSelector::Id(text) => {
            self_report::parse_server_id(text).filter(|id| servers.contains_key(id))
        }
        PeerSelector::Address(address) => servers
            .iter()
            .find(|(_, server)| server.addr == *address)
            .map(|(id, _)| *id),
    };
    found.ok_or_else(|| match peer {
        PeerSelector::Id(id) => format!("id {id:?} was not found in the Raft configuration"),
        PeerSelector::Address(address) => {
            format!("address {address:?} was not found in the Raft configuration")
        }
    })
}

/// Gives the servers Raft knows only by id and address their node name and full UUID, from
/// the gossip members advertising that RPC address.
fn name_servers(config: &mut RaftConfiguration, members: &[Member], dc: &str) {
    for server in &mut config.servers {
        let found = members.iter().find_map(|m| {
            server_member(m, dc)
                .filter(|s| s.rpc_addr == server.address)
                .map(|s| (s.name, m.tags.get("id").cloned()))
        });
        if let Some((name, uuid)) = found {
            server.node = name;
            if let Some(uuid) = uuid {
                server.id = uuid;
            }
        }
    }
}

fn removal_refused(error: ProposeError) -> String {
    match error {
        ProposeError::NotLeader { leader: None } => "No cluster leader".to_owned(),
        ProposeError::NotLeader {
            leader: Some(leader),
        } => format!(
            "this server is not the leader: send the request to the leader (server {leader})"
        ),
        ProposeError::TransferInProgress => {
            "a leadership transfer is in progress; retry shortly".to_owned()
        }
        ProposeError::MembershipChangePending => {
            "another configuration change is in progress; retry shortly".to_owned()
        }
        ProposeError::InvalidMembershipChange(why) => format!("cannot remove the peer: {why}"),
    }
}

impl Backend for NodeBackend {
    fn request(&self, request: ClientRequest) -> impl Future<Output = ClientResponse> + Send {
        let handle = self.handle.clone();
        async move { handle.request(request).await }
    }

    fn status(&self) -> impl Future<Output = Status> + Send {
        let status = self.handle.status();
        let peers = status
            .membership
            .servers
            .values()
            .filter(|server| server.suffrage == Suffrage::Voter)
            .map(|server| server.addr.clone())
            .collect();
        future::ready(Status {
            known_leader: status.leader.is_some(),
            leader: status.leader_addr,
            peers,
            last_contact: status.last_contact.unwrap_or(Duration::ZERO),
        })
    }

    fn wait(
        &self,
        query: &Query,
        min_index: u64,
        deadline: Instant,
    ) -> impl Future<Output = ()> + Send {
        // Parked in the node's watch registry: only a change to what `query` reads wakes it.
        let watch = self.handle.watch(query.watch_target(), min_index);
        let changed = async move {
            if !watch.await {
                // The loop stopped: nothing will change any more, so wait out the deadline
                // instead of having the caller re-read in a loop.
                future::pending::<()>().await;
            }
        };
        let timeout = async move {
            Timer::at(deadline).await;
        };
        future::or(changed, timeout)
    }

    fn agent_self(&self) -> impl Future<Output = AgentSelf> + Send {
        future::ready(self_report::agent_self(
            &self.identity,
            &self.handle.status(),
        ))
    }

    fn raft_configuration(&self) -> impl Future<Output = RaftConfiguration> + Send {
        let mut config = self_report::raft_configuration(&self.identity, &self.handle.status());
        if let Some(serf) = &self.serf {
            name_servers(&mut config, &serf.members(), &self.identity.datacenter);
        }
        future::ready(config)
    }

    fn remove_raft_peer(
        &self,
        peer: PeerSelector,
    ) -> impl Future<Output = Result<(), String>> + Send {
        let handle = self.handle.clone();
        async move {
            let id = resolve_peer(&handle, &peer)?;
            let index = handle.remove_server(id).await.map_err(removal_refused)?;
            // The change counts once applied: wait for it, but not forever if leadership is lost
            // and the entry never commits.
            let committed = async {
                handle
                    .applied_past(LogIndex(index.0.saturating_sub(1)))
                    .await;
                Ok(())
            };
            let timeout = async {
                Timer::after(REMOVAL_COMMIT_TIMEOUT).await;
                Err("timed out waiting for the configuration change to commit".to_owned())
            };
            future::or(committed, timeout).await
        }
    }

    fn local_agent(&self) -> Option<LocalAgent> {
        self.local.clone()
    }

    fn members(&self) -> impl Future<Output = Result<Vec<MemberInfo>, String>> + Send {
        future::ready(gossip_api::members(self.serf.as_ref()))
    }

    fn join(&self, addr: String) -> impl Future<Output = Result<usize, String>> + Send {
        gossip_api::join(self.serf(), Pool::Lan, addr)
    }

    fn leave(&self) -> impl Future<Output = Result<(), String>> + Send {
        let serf = self.serf();
        let wan = self.wan.clone();
        let exit = self.exit.clone();
        let handle = self.handle.clone();
        async move {
            let serf = serf?;
            // The WAN pool first, as Consul's servers leave; failing that, the other
            // datacenters see this server fail instead, which is no reason to stay.
            if let Some(wan) = wan {
                let _ = wan.leave().await;
            }
            graceful_leave(&handle, &serf)
                .await
                .map_err(|e| e.to_string())?;
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
        gossip_api::force_leave(self.serf(), node, prune)
    }

    fn reload(&self) -> impl Future<Output = Result<(), String>> + Send {
        let reload = self.reload.clone();
        async move { reload.reload().await }
    }

    fn wan_members(&self) -> impl Future<Output = Result<Vec<MemberInfo>, String>> + Send {
        let members = self.wan.as_ref().map_or_else(Vec::new, |wan| {
            wan.members()
                .iter()
                .map(super::members_report::member_info)
                .collect()
        });
        future::ready(Ok(members))
    }

    fn join_wan(&self, addr: String) -> impl Future<Output = Result<usize, String>> + Send {
        gossip_api::join(self.wan(), Pool::Wan, addr)
    }

    fn force_leave_wan(
        &self,
        node: String,
        prune: bool,
    ) -> impl Future<Output = Result<(), String>> + Send {
        gossip_api::force_leave(self.wan(), node, prune)
    }

    fn wan_datacenters(&self) -> impl Future<Output = Vec<String>> + Send {
        let mut known = self
            .wan
            .as_ref()
            .map_or_else(Vec::new, SerfHandle::datacenters);
        if !known.contains(&self.identity.datacenter) {
            known.push(self.identity.datacenter.clone());
            known.sort();
        }
        future::ready(known)
    }
}
