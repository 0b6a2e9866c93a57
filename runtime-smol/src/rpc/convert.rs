//! The HTTP layer's types on the client RPC wire and back.

use std::time::Duration;

use synod_core::wire::client_rpc::{PeerRef, RaftConfigurationView, RaftServerView, ServerStatus};

use crate::http::backend::Status;
use crate::http::operator::{PeerSelector, RAFT_PROTOCOL, RaftConfiguration, RaftServer};

/// What a server sends for `status`.
pub fn status_to_wire(status: Status) -> ServerStatus {
    ServerStatus {
        leader: status.leader,
        peers: status.peers,
        known_leader: status.known_leader,
        last_contact_ms: u64::try_from(status.last_contact.as_millis()).unwrap_or(u64::MAX),
    }
}

/// What a client reports from a server's `status`.
pub fn status_from_wire(status: ServerStatus) -> Status {
    Status {
        leader: status.leader,
        peers: status.peers,
        known_leader: status.known_leader,
        last_contact: Duration::from_millis(status.last_contact_ms),
    }
}

/// What a server sends for `raft_configuration`.
pub fn raft_configuration_to_wire(config: RaftConfiguration) -> RaftConfigurationView {
    RaftConfigurationView {
        servers: config
            .servers
            .into_iter()
            .map(|server| RaftServerView {
                id: server.id,
                node: server.node,
                address: server.address,
                leader: server.leader,
                voter: server.voter,
            })
            .collect(),
        index: config.index,
        known_leader: config.known_leader,
    }
}

/// What a client reports from a server's Raft configuration.
pub fn raft_configuration_from_wire(view: RaftConfigurationView) -> RaftConfiguration {
    RaftConfiguration {
        servers: view
            .servers
            .into_iter()
            .map(|server| RaftServer {
                id: server.id,
                node: server.node,
                address: server.address,
                leader: server.leader,
                protocol_version: RAFT_PROTOCOL.to_owned(),
                voter: server.voter,
            })
            .collect(),
        index: view.index,
        known_leader: view.known_leader,
    }
}

/// An operator's peer selector on the wire.
pub fn peer_to_wire(peer: PeerSelector) -> PeerRef {
    match peer {
        PeerSelector::Id(id) => PeerRef::Id(id),
        PeerSelector::Address(address) => PeerRef::Address(address),
    }
}

/// A peer selector from the wire.
pub fn peer_from_wire(peer: PeerRef) -> PeerSelector {
    match peer {
        PeerRef::Id(id) => PeerSelector::Id(id),
        PeerRef::Address(address) => PeerSelector::Address(address),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_survives_the_wire_at_millisecond_precision() {
        let status = Status {
            leader: Some("127.0.0.1:8300".into()),
            peers: vec!["127.0.0.1:8300".into()],
            known_leader: true,
            last_contact: Duration::from_micros(12_345),
        };
        let back = status_from_wire(status_to_wire(status.clone()));
        assert_eq!(
            back,
            Status {
                last_contact: Duration::from_millis(12),
                ..status
            }
        );
    }

    #[test]
    fn raft_configuration_and_peer_selectors_survive_the_wire() {
        let config = RaftConfiguration {
            servers: vec![RaftServer {
                id: "0f9a3c4e-1b2d-4e5f-8a9b-0c1d2e3f4a5b".into(),
                node: "s1".into(),
                address: "127.0.0.1:8300".into(),
                leader: true,
                protocol_version: RAFT_PROTOCOL.to_owned(),
                voter: false,
            }],
            index: 42,
            known_leader: true,
        };
        let back = raft_configuration_from_wire(raft_configuration_to_wire(config.clone()));
        assert_eq!(back, config);
        for peer in [
            PeerSelector::Id("abc".into()),
            PeerSelector::Address("127.0.0.1:8300".into()),
        ] {
            assert_eq!(peer_from_wire(peer_to_wire(peer.clone())), peer);
        }
    }
}
