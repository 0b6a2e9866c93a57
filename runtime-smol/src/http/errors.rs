//! Handler failures and the one-line text answers Consul gives for them.

use synod_core::api::http::Response;
use synod_core::node::ClientError;

/// A failed request: status code plus the one-line text body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpError {
    /// Status code.
    pub status: u16,
    /// Body text.
    pub message: String,
}

impl HttpError {
    /// Consul's 400 for a request body that does not decode.
    pub fn decode_failed(reason: impl std::fmt::Display) -> Self {
        HttpError::bad_request(format!("Request decode failed: {reason}"))
    }

    /// A 400 with `message`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        HttpError {
            status: 400,
            message: message.into(),
        }
    }

    /// A 500 with `message` (Consul's status for every RPC-level failure).
    pub fn internal(message: impl Into<String>) -> Self {
        HttpError {
            status: 500,
            message: message.into(),
        }
    }

    /// The response for this error.
    pub fn response(&self) -> Response {
        Response::text(self.status, &self.message)
    }
}

impl From<ClientError> for HttpError {
    fn from(error: ClientError) -> Self {
        HttpError::internal(match error {
            ClientError::NotLeader { leader: None } => "No cluster leader".to_owned(),
            ClientError::NotLeader {
                leader: Some(leader),
            } => format!("Not the cluster leader (the leader is node {leader})"),
            // hashicorp/raft's ErrLeadershipLost text: the write may or may not have happened.
            ClientError::LeadershipLost => "leadership lost while committing log".to_owned(),
            ClientError::NotReady => "Not ready to serve consistent reads".to_owned(),
            ClientError::NoServers => "No known Consul servers".to_owned(),
        })
    }
}
