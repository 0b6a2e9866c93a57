//! Cluster formation from LAN gossip: `-bootstrap-expect` bootstrapping, and the leader keeping
//! the Raft configuration in step with the server members (joined → added, left → removed).
//!
//! Every server with `bootstrap_expect = N` bootstraps once it sees N alive servers advertising
//! the same expectation, with all of them as voters keyed by Raft id: servers that see the same
//! N members build the same configuration, whatever order they started in.

use std::collections::BTreeMap;
use std::time::Duration;

use smol::Timer;
use synod_core::gossip::{Member, MemberStatus};
use synod_core::ids::{LogIndex, NodeId, Term};
use synod_core::raft::{Membership, Role};

use super::self_report::parse_server_id;
use crate::serf::SerfHandle;
use crate::shell::NodeHandle;
use crate::shell::log::Log;

/// How often membership is compared with the Raft configuration.
const RECONCILE_EVERY: Duration = Duration::from_millis(500);

/// A server as its gossip tags describe it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ServerMember {
    pub(crate) name: String,
    pub(crate) id: NodeId,
    /// Its Raft (server RPC) address: the gossip IP with the `port` tag.
    pub(crate) rpc_addr: String,
    pub(crate) expect: Option<u32>,
    pub(crate) status: MemberStatus,
}

/// `member` if it is a server (`role=consul`) of datacenter `dc` with usable `id` and `port`
/// tags.
pub(crate) fn server_member(member: &Member, dc: &str) -> Option<ServerMember> {
    let tags = &member.tags;
    if tags.get("role").map(String::as_str) != Some("consul")
        || tags.get("dc").map(String::as_str) != Some(dc)
    {
        return None;
    }
    let id = parse_server_id(tags.get("id")?)?;
    let port: u16 = tags.get("port")?.parse().ok()?;
    Some(ServerMember {
        name: member.name.clone(),
        id,
        rpc_addr: std::net::SocketAddr::new(member.addr.ip(), port).to_string(),
        expect: tags.get("expect").and_then(|e| e.parse().ok()),
        status: member.status,
    })
}

/// What `-bootstrap-expect` should do now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum BootstrapPlan {
    /// Fewer than expected servers are alive.
    Wait { seen: usize },
    /// A server advertises another expectation: never bootstrap with it (Consul refuses too).
    Conflict { member: String, expect: Option<u32> },
    /// Bootstrap with these voters.
    Bootstrap(Membership),
}

/// The bootstrap decision from the alive servers of `dc` among `members`.
pub(crate) fn bootstrap_plan(members: &[Member], dc: &str, expect: u32) -> BootstrapPlan {
    let servers: Vec<ServerMember> = members
        .iter()
        .filter(|m| m.status.is_live())
        .filter_map(|m| server_member(m, dc))
        .collect();
    if let Some(odd) = servers.iter().find(|s| s.expect != Some(expect)) {
        return BootstrapPlan::Conflict {
            member: odd.name.clone(),
            expect: odd.expect,
        };
    }
    if servers.len() < expect as usize {
        return BootstrapPlan::Wait {
            seen: servers.len(),
        };
    }
    BootstrapPlan::Bootstrap(Membership::voters(
        servers.into_iter().map(|s| (s.id, s.rpc_addr)),
    ))
}

/// Server id → RPC address of every live server member of `dc`.
pub(crate) fn peer_hints(members: &[Member], dc: &str) -> BTreeMap<NodeId, String> {
    members
        .iter()
        .filter(|m| m.status.is_live())
        .filter_map(|m| server_member(m, dc))
        .map(|s| (s.id, s.rpc_addr))
        .collect()
}

/// One configuration change the leader should make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    /// An alive server is not in the configuration.
    Add(ServerMember),
    /// A server left gracefully but is still in the configuration.
    Remove(ServerMember),
}

/// The next change that brings `membership` in step with the server members (one at a time:
/// Raft takes one configuration change at once). `me` is never removed here.
pub(crate) fn next_change(
    members: &[Member],
    dc: &str,
    membership: &Membership,
    me: NodeId,
) -> Option<Change> {
    let servers = members.iter().filter_map(|m| server_member(m, dc));
    let mut removal = None;
    for server in servers {
        let known = membership.servers.contains_key(&server.id);
        match server.status {
            MemberStatus::Alive if !known => return Some(Change::Add(server)),
            MemberStatus::Left if known && server.id != me && removal.is_none() => {
                removal = Some(Change::Remove(server));
            }
            _ => {}
        }
    }
    removal
}

/// Runs formation until the node stops: bootstraps once if `expect > 1` and the node is
/// fresh, and, whenever this server leads, applies [`next_change`].
pub(crate) async fn run(serf: SerfHandle, node: NodeHandle, dc: String, expect: u32, log: Log) {
    let mut last_wait = None;
    let mut hints = BTreeMap::new();
    while !node.is_stopped() {
        let members = serf.members();
        let status = node.status();
        let known = peer_hints(&members, &dc);
        if known != hints {
            node.set_peer_hints(known.clone()).await;
            hints = known;
        }
        let fresh = status.term == Term(0) && status.last_index == LogIndex(0);
        if expect > 1 && fresh {
            match bootstrap_plan(&members, &dc, expect) {
                BootstrapPlan::Wait { seen } => {
                    if last_wait != Some(seen) {
                        log.info(
                            "agent.server",
                            format_args!(
                                "waiting for servers before bootstrapping: seen={seen} expect={expect}"
                            ),
                        );
                        last_wait = Some(seen);
                    }
                }
                BootstrapPlan::Conflict { member, expect: theirs } => log.error(
                    "agent.server",
                    format_args!(
                        "Member has a conflicting expect value. All nodes should expect the same number: member={member} expect={theirs:?}"
                    ),
                ),
                BootstrapPlan::Bootstrap(membership) => {
                    let peers: Vec<&str> =
                        membership.servers.values().map(|s| s.addr.as_str()).collect();
                    log.info(
                        "agent.server",
                        format_args!("Found expected number of peers, attempting bootstrap: peers={}", peers.join(",")),
                    );
                    if let Err(e) = node.bootstrap(membership).await {
                        log.error("agent.server", format_args!("failed to bootstrap cluster: {e:?}"));
                    }
                }
            }
        } else if status.role == Role::Leader
            && let Some(change) = next_change(&members, &dc, &status.membership, status.id)
        {
            apply(&node, change, &log).await;
        }
        Timer::after(RECONCILE_EVERY).await;
    }
}

async fn apply(node: &NodeHandle, change: Change, log: &Log) {
    let (verb, server, result) = match change {
        Change::Add(server) => {
            let result = node.add_server(server.id, server.rpc_addr.clone()).await;
            ("adding", server, result)
        }
        Change::Remove(server) => {
            let result = node.remove_server(server.id).await;
            ("removing", server, result)
        }
    };
    match result {
        Ok(_) => log.info(
            "agent.server",
            format_args!(
                "{verb} server {} (Addr: {}) (ID: {})",
                server.name, server.rpc_addr, server.id
            ),
        ),
        // Another change in flight or leadership moving: the next pass retries.
        Err(e) => log.debug(
            "agent.server",
            format_args!("{verb} server {} postponed: {e:?}", server.name),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use synod_core::time::Instant;

    const DC: &str = "dc1";

    /// A server member `name` whose Raft id is `n` (its UUID's first 64 bits).
    fn server(name: &str, n: u64, status: MemberStatus, expect: Option<u32>) -> Member {
        let mut tags: BTreeMap<String, String> = [("role", "consul"), ("dc", DC), ("port", "8300")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        tags.insert("id".into(), format!("{n:016x}-0000-0000-0000"));
        if let Some(expect) = expect {
            tags.insert("expect".into(), expect.to_string());
        }
        Member {
            name: name.into(),
            addr: format!("10.0.0.{n}:8301").parse().expect("addr"),
            tags,
            incarnation: 1,
            status,
            status_since: Instant::ZERO,
        }
    }

    fn voters(ids: &[u64]) -> Membership {
        Membership::voters(ids.iter().map(|n| (NodeId(*n), format!("10.0.0.{n}:8300"))))
    }

    #[test]
    fn bootstrap_waits_until_the_expected_servers_are_alive() {
        let members = [
            server("a", 1, MemberStatus::Alive, Some(3)),
            server("b", 2, MemberStatus::Alive, Some(3)),
            server("c", 3, MemberStatus::Failed, Some(3)),
        ];
        assert_eq!(
            bootstrap_plan(&members, DC, 3),
            BootstrapPlan::Wait { seen: 2 }
        );
    }

    #[test]
    fn bootstrap_membership_is_the_same_whatever_the_member_order() {
        let a = server("a", 1, MemberStatus::Alive, Some(3));
        let b = server("b", 2, MemberStatus::Alive, Some(3));
        let c = server("c", 3, MemberStatus::Alive, Some(3));
        let one = bootstrap_plan(&[a.clone(), b.clone(), c.clone()], DC, 3);
        let other = bootstrap_plan(&[c, a, b], DC, 3);
        assert_eq!(one, BootstrapPlan::Bootstrap(voters(&[1, 2, 3])));
        assert_eq!(one, other);
    }

    #[test]
    fn bootstrap_refuses_a_server_with_another_expectation() {
        let members = [
            server("a", 1, MemberStatus::Alive, Some(3)),
            server("b", 2, MemberStatus::Alive, Some(2)),
            server("c", 3, MemberStatus::Alive, Some(3)),
        ];
        assert_eq!(
            bootstrap_plan(&members, DC, 3),
            BootstrapPlan::Conflict {
                member: "b".into(),
                expect: Some(2)
            }
        );
    }

    #[test]
    fn members_of_other_datacenters_or_roles_are_not_servers_here() {
        let mut client = server("cl", 4, MemberStatus::Alive, None);
        client.tags.insert("role".into(), "node".into());
        let mut elsewhere = server("dc2", 5, MemberStatus::Alive, None);
        elsewhere.tags.insert("dc".into(), "dc2".into());
        assert_eq!(server_member(&client, DC), None);
        assert_eq!(server_member(&elsewhere, DC), None);
        assert_eq!(
            server_member(&server("a", 1, MemberStatus::Alive, None), DC).map(|s| s.rpc_addr),
            Some("10.0.0.1:8300".to_owned())
        );
    }

    #[test]
    fn leader_adds_a_new_alive_server_before_removing_a_leaver() {
        let members = [
            server("a", 1, MemberStatus::Alive, None),
            server("b", 2, MemberStatus::Left, None),
            server("d", 4, MemberStatus::Alive, None),
        ];
        let change = next_change(&members, DC, &voters(&[1, 2]), NodeId(1));
        assert!(matches!(change, Some(Change::Add(s)) if s.id == NodeId(4)));
        let change = next_change(&members, DC, &voters(&[1, 2, 4]), NodeId(1));
        assert!(matches!(change, Some(Change::Remove(s)) if s.id == NodeId(2)));
        assert_eq!(next_change(&members, DC, &voters(&[1, 4]), NodeId(1)), None);
    }

    #[test]
    fn failed_servers_stay_and_the_leader_never_removes_itself_here() {
        let members = [
            server("a", 1, MemberStatus::Left, None),
            server("b", 2, MemberStatus::Failed, None),
        ];
        assert_eq!(next_change(&members, DC, &voters(&[1, 2]), NodeId(1)), None);
    }
}
