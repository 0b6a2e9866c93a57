//! The HTTP layer's [`Status`] on the wire and back.

use std::time::Duration;

use synod_core::wire::client_rpc::ServerStatus;

use crate::http::backend::Status;

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
}
