//! Log lines for the node's events, worded so an operator can follow elections.

use synod_core::node::NodeEvent;
use synod_core::raft::{Event, Membership, Role};

use super::log::Log;

/// Logs `event`; `membership` resolves a leader's id to its address.
pub(crate) fn log_node_event(log: &Log, membership: &Membership, event: &NodeEvent) {
    match event {
        NodeEvent::Raft(event) => log_raft_event(log, membership, event),
        NodeEvent::UndecodableEntry { index, reason } => log.warn(
            "agent.server",
            format_args!(
                "skipped a committed entry that does not decode: index={index} reason={reason}"
            ),
        ),
        NodeEvent::BadSnapshot { index, reason } => log.error(
            "agent.server",
            format_args!("ignored a snapshot that does not decode: index={index} reason={reason}"),
        ),
    }
}

fn log_raft_event(log: &Log, membership: &Membership, event: &Event) {
    match event {
        Event::LeaderChanged {
            leader: Some(leader),
            term,
        } => {
            let addr = membership
                .servers
                .get(leader)
                .map_or("unknown", |s| s.addr.as_str());
            log.info(
                "agent.server",
                format_args!("New leader elected: leader={leader} addr={addr} term={term}"),
            );
        }
        Event::LeaderChanged { leader: None, term } => log.warn(
            "agent.server.raft",
            format_args!("no known leader: term={term}"),
        ),
        Event::RoleChanged { role, term } => {
            let state = match role {
                Role::Follower => "follower",
                Role::PreCandidate => "pre-candidate",
                Role::Candidate => "candidate",
                Role::Leader => "leader",
            };
            log.info(
                "agent.server.raft",
                format_args!("entering {state} state: term={term}"),
            );
        }
        Event::MembershipChanged(next) => {
            let servers: Vec<String> = next
                .servers
                .iter()
                .map(|(id, s)| format!("{id}@{} ({:?})", s.addr, s.suffrage))
                .collect();
            log.info(
                "agent.server.raft",
                format_args!("configuration changed: servers=[{}]", servers.join(", ")),
            );
        }
        Event::Removed => log.warn(
            "agent.server.raft",
            format_args!("this server was removed from the configuration"),
        ),
    }
}
