//! What this agent reports about itself and its Raft configuration over the HTTP API
//! (`/v1/agent/self`, `/v1/operator/raft/configuration`), built from the node's [`Status`].

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use synod_core::ids::NodeId;
use synod_core::raft::{Role, Suffrage};

use super::members_report::member_row;
use crate::http::agent_members::{MemberInfo, STATUS_ALIVE};
use crate::http::agent_self::{AgentSelf, SelfConfig};
use crate::http::operator::{RAFT_PROTOCOL, RaftConfiguration, RaftServer};
use crate::shell::Status;

/// Who this agent is, as fixed at start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AgentIdentity {
    pub(crate) node_name: String,
    pub(crate) uuid: String,
    pub(crate) datacenter: String,
    pub(crate) advertise: IpAddr,
    pub(crate) serf_lan_port: Option<u16>,
    pub(crate) server_port: u16,
    pub(crate) bootstrap: bool,
    pub(crate) bootstrap_expect: u32,
}

/// How a server's id is shown: this node's UUID, or for others the 64 bits of their UUID that
/// synod's Raft knows them by (`0f9a3c4e-1b2d-4e5f`).
pub(crate) fn server_id_text(identity: &AgentIdentity, me: NodeId, id: NodeId) -> String {
    if id == me {
        return identity.uuid.clone();
    }
    let hex = format!("{:016x}", id.0);
    format!("{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..])
}

/// The Raft id an operator's `id` names: a full UUID or its first 64 bits as
/// [`server_id_text`] shows them.
pub(crate) fn parse_server_id(text: &str) -> Option<NodeId> {
    let hex: String = text.chars().filter(|c| *c != '-').collect();
    if hex.len() < 16 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(&hex[..16], 16).ok().map(NodeId)
}

/// `/v1/operator/raft/configuration`.
pub(crate) fn raft_configuration(identity: &AgentIdentity, status: &Status) -> RaftConfiguration {
    let servers = status
        .membership
        .servers
        .iter()
        .map(|(id, server)| RaftServer {
            id: server_id_text(identity, status.id, *id),
            node: if *id == status.id {
                identity.node_name.clone()
            } else {
                "(unknown)".to_owned()
            },
            address: server.addr.clone(),
            leader: status.leader == Some(*id),
            protocol_version: RAFT_PROTOCOL.to_owned(),
            voter: server.suffrage == Suffrage::Voter,
        })
        .collect();
    RaftConfiguration {
        servers,
        index: status.commit.0,
        known_leader: status.leader.is_some(),
    }
}

/// The tags this agent gossips in the LAN pool, as Consul's servers set them.
pub(crate) fn lan_tags(identity: &AgentIdentity) -> BTreeMap<String, String> {
    let mut tags = BTreeMap::from([
        ("role".to_owned(), "consul".to_owned()),
        ("dc".to_owned(), identity.datacenter.clone()),
        ("port".to_owned(), identity.server_port.to_string()),
        ("id".to_owned(), identity.uuid.clone()),
        ("raft_vsn".to_owned(), RAFT_PROTOCOL.to_owned()),
        ("build".to_owned(), crate::cli::version::VERSION.to_owned()),
        ("vsn".to_owned(), "2".to_owned()),
        ("vsn_min".to_owned(), "2".to_owned()),
        ("vsn_max".to_owned(), "3".to_owned()),
    ]);
    if identity.bootstrap {
        tags.insert("bootstrap".to_owned(), "1".to_owned());
    } else if identity.bootstrap_expect > 0 {
        tags.insert("expect".to_owned(), identity.bootstrap_expect.to_string());
    }
    tags
}

/// `/v1/agent/self`.
pub(crate) fn agent_self(identity: &AgentIdentity, status: &Status) -> AgentSelf {
    let tags = lan_tags(identity);
    AgentSelf {
        config: self_config(identity, true),
        member: self_member(identity, tags),
        meta: BTreeMap::new(),
        stats: stats(identity, status),
    }
}

/// The `Config` section of `/v1/agent/self`.
pub(crate) fn self_config(identity: &AgentIdentity, server: bool) -> SelfConfig {
    SelfConfig {
        datacenter: identity.datacenter.clone(),
        primary_datacenter: identity.datacenter.clone(),
        node_name: identity.node_name.clone(),
        node_id: identity.uuid.clone(),
        server,
        revision: String::new(),
        version: crate::cli::version::VERSION.to_owned(),
    }
}

/// This agent as `/v1/agent/self` shows it in the gossip pool, with `tags`.
pub(crate) fn self_member(identity: &AgentIdentity, tags: BTreeMap<String, String>) -> MemberInfo {
    member_row(
        identity.node_name.clone(),
        identity.advertise.to_string(),
        identity.serf_lan_port.unwrap_or(0),
        tags,
        STATUS_ALIVE,
    )
}

/// The `runtime` stats section, the same for servers and clients.
pub(crate) fn runtime_stats() -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "arch".to_owned(),
            go_arch(std::env::consts::ARCH).to_owned(),
        ),
        ("os".to_owned(), std::env::consts::OS.to_owned()),
        (
            "version".to_owned(),
            format!("synod {}", crate::cli::version::VERSION),
        ),
        (
            "cpu_count".to_owned(),
            std::thread::available_parallelism()
                .map_or(1, usize::from)
                .to_string(),
        ),
    ])
}

fn stats(identity: &AgentIdentity, status: &Status) -> BTreeMap<String, BTreeMap<String, String>> {
    let section = |pairs: Vec<(&str, String)>| -> BTreeMap<String, String> {
        pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    };
    let state = match status.role {
        Role::Leader => "Leader",
        Role::Follower => "Follower",
        Role::PreCandidate | Role::Candidate => "Candidate",
    };
    let other_voters = status
        .membership
        .voter_ids()
        .filter(|id| *id != status.id)
        .count();
    let last_contact = match (status.role, status.last_contact) {
        (Role::Leader, _) => "0".to_owned(),
        (_, Some(d)) => go_duration(d),
        (_, None) => "never".to_owned(),
    };
    let raft = section(vec![
        ("state", state.to_owned()),
        ("term", status.term.0.to_string()),
        ("commit_index", status.commit.0.to_string()),
        ("applied_index", status.applied.0.to_string()),
        ("last_log_index", status.last_index.0.to_string()),
        ("num_peers", other_voters.to_string()),
        ("last_contact", last_contact),
        ("protocol_version", RAFT_PROTOCOL.to_owned()),
    ]);
    let consul = section(vec![
        ("server", "true".to_owned()),
        ("leader", (status.role == Role::Leader).to_string()),
        (
            "leader_addr",
            status.leader_addr.clone().unwrap_or_default(),
        ),
        ("bootstrap", identity.bootstrap.to_string()),
        ("known_datacenters", "1".to_owned()),
    ]);
    BTreeMap::from([
        ("raft".to_owned(), raft),
        ("runtime".to_owned(), runtime_stats()),
        ("consul".to_owned(), consul),
    ])
}

/// Go's `GOARCH` names, which Consul's tools expect.
fn go_arch(arch: &str) -> &str {
    match arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    }
}

/// A duration the way Go's `time.Duration.String` prints it at millisecond scale
/// (`12.345ms`, `1.5s`), as Consul's `last_contact` stat shows it.
fn go_duration(d: Duration) -> String {
    let micros = d.as_micros();
    if micros == 0 {
        return "0s".to_owned();
    }
    let (whole, frac, digits, unit) = if micros < 1000 {
        (micros, 0, 0, "µs")
    } else if micros < 1_000_000 {
        (micros / 1000, micros % 1000, 3, "ms")
    } else {
        (micros / 1_000_000, micros % 1_000_000, 6, "s")
    };
    let mut text = whole.to_string();
    if frac > 0 {
        let frac = format!("{frac:0digits$}");
        text.push('.');
        text.push_str(frac.trim_end_matches('0'));
    }
    text.push_str(unit);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_ids_round_trip_through_their_shown_form() {
        let identity = AgentIdentity {
            node_name: "n1".into(),
            uuid: "0f9a3c4e-1b2d-4e5f-8a9b-0c1d2e3f4a5b".into(),
            datacenter: "dc1".into(),
            advertise: "127.0.0.1".parse().expect("ip"),
            serf_lan_port: Some(8301),
            server_port: 8300,
            bootstrap: true,
            bootstrap_expect: 0,
        };
        let me = NodeId(0x0f9a_3c4e_1b2d_4e5f);
        let other = NodeId(0x0123_4567_89ab_cdef);
        assert_eq!(server_id_text(&identity, me, me), identity.uuid);
        assert_eq!(server_id_text(&identity, me, other), "01234567-89ab-cdef");
        assert_eq!(parse_server_id("01234567-89ab-cdef"), Some(other));
        assert_eq!(parse_server_id(&identity.uuid), Some(me));
        assert_eq!(parse_server_id("0123"), None);
        assert_eq!(parse_server_id("zz234567-89ab-cdef"), None);
    }

    #[test]
    fn durations_print_like_go() {
        assert_eq!(go_duration(Duration::ZERO), "0s");
        assert_eq!(go_duration(Duration::from_micros(250)), "250µs");
        assert_eq!(go_duration(Duration::from_micros(12_345)), "12.345ms");
        assert_eq!(go_duration(Duration::from_millis(40)), "40ms");
        assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
    }
}
