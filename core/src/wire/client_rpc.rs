//! Client RPC: what a client agent and a server exchange on the server RPC port (8300).
//!
//! A client opens a TCP connection to a server and sends one frame holding an [`Envelope`] whose
//! body is [`Body::ClientHello`]: that first frame is what tells the server's listener this is
//! not a Raft peer. Every later frame from the client is an [`RpcRequest`], every frame from the
//! server an [`RpcReply`] carrying the request's id. Requests are pipelined and answered in
//! whatever order they complete; a blocking wait parks on the server without holding up the
//! requests behind it.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::ids::NodeId;
use crate::node::{ClientRequest, ClientResponse};
use crate::state::Query;
use crate::wire::{Body, DecodeError, Envelope, decode_envelope, encode_frame, from_postcard};

/// The client RPC protocol this build speaks; a server closes connections announcing another.
pub const CLIENT_RPC_VERSION: u16 = 1;

/// What a client asks a server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RpcCall {
    /// A write or read, run through the server's node (which forwards it to the leader).
    Request(ClientRequest),
    /// The server's view of the cluster (`/v1/status/*`, the `X-Consul-*` headers).
    Status,
    /// Park until what `query` reads may have moved past `min_index`, or `timeout_ms` passed.
    Wait {
        /// The blocking query's read.
        query: Query,
        /// The index the client already has.
        min_index: u64,
        /// How long the server may park the call, in milliseconds.
        timeout_ms: u64,
    },
    /// The Raft configuration as the server knows it (`operator raft list-peers`).
    RaftConfiguration,
    /// Take a server out of the Raft configuration (`operator raft remove-peer`).
    RemoveRaftPeer(PeerRef),
    /// The client gave up on request `id` (its HTTP caller went away): the server stops
    /// working on it (a parked wait is released) and answers neither call.
    Cancel {
        /// The abandoned request.
        id: u64,
    },
}

/// How an operator names a Raft server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PeerRef {
    /// Its id (node UUID, or the 64 bits of it Raft uses).
    Id(String),
    /// Its RPC address (`ip:port`).
    Address(String),
}

/// One server of a [`RaftConfigurationView`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaftServerView {
    /// Server id as shown to operators.
    pub id: String,
    /// Node name (`(unknown)` when the answering server has not learned it).
    pub node: String,
    /// RPC address.
    pub address: String,
    /// Whether it leads.
    pub leader: bool,
    /// Whether it votes.
    pub voter: bool,
}

/// The Raft configuration as the answering server knows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaftConfigurationView {
    /// Every server.
    pub servers: Vec<RaftServerView>,
    /// The commit index it was read at.
    pub index: u64,
    /// Whether the answering server knows a leader.
    pub known_leader: bool,
}

/// A server's answer to one [`RpcCall`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RpcAnswer {
    /// The node's answer to [`RpcCall::Request`].
    Response(ClientResponse),
    /// The answer to [`RpcCall::Status`].
    Status(ServerStatus),
    /// A [`RpcCall::Wait`] completed (changed, timed out or woken spuriously: re-read).
    Waited,
    /// The answer to [`RpcCall::RaftConfiguration`].
    RaftConfiguration(RaftConfigurationView),
    /// The outcome of [`RpcCall::RemoveRaftPeer`]: the error is the text to show the operator.
    Removed(Result<(), String>),
}

/// Cluster status as the answering server sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerStatus {
    /// The leader's RPC address, if one is known.
    pub leader: Option<String>,
    /// RPC addresses of the Raft voters.
    pub peers: Vec<String>,
    /// Whether the server knows a leader.
    pub known_leader: bool,
    /// Milliseconds since the server last heard from the leader (0 on the leader).
    pub last_contact_ms: u64,
}

/// One request frame.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RpcRequest {
    /// Chosen by the client, echoed in the reply.
    pub id: u64,
    /// What is asked.
    pub call: RpcCall,
}

/// One reply frame.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RpcReply {
    /// The id of the request answered.
    pub id: u64,
    /// The answer.
    pub answer: RpcAnswer,
}

/// The first frame of a client connection.
pub fn encode_client_hello() -> Bytes {
    crate::wire::encode_envelope(&Envelope {
        from: NodeId(0),
        to: NodeId(0),
        body: Body::ClientHello {
            version: CLIENT_RPC_VERSION,
        },
    })
}

/// The client RPC version `payload` (a frame's payload) announces, or `None` when it is not a
/// client hello (a Raft peer's frame, or garbage).
pub fn client_hello_version(payload: &[u8]) -> Option<u16> {
    match decode_envelope(payload) {
        Ok(Envelope {
            body: Body::ClientHello { version },
            ..
        }) => Some(version),
        _ => None,
    }
}

/// A framed request.
pub fn encode_rpc_request(request: &RpcRequest) -> Bytes {
    encode_frame(request)
}

/// Decodes a request frame's payload.
pub fn decode_rpc_request(payload: &[u8]) -> Result<RpcRequest, DecodeError> {
    from_postcard(payload)
}

/// A framed reply.
pub fn encode_rpc_reply(reply: &RpcReply) -> Bytes {
    encode_frame(reply)
}

/// Decodes a reply frame's payload.
pub fn decode_rpc_reply(payload: &[u8]) -> Result<RpcReply, DecodeError> {
    from_postcard(payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::LogIndex;
    use crate::node::{ClientError, Consistency};
    use crate::state::kv_types::{KvCommand, KvCommandResult, KvQuery};
    use crate::state::{CommandResult, Query};
    use crate::wire::{FRAME_HEADER_LEN, FrameDecoder};

    fn payload(frame: &Bytes) -> Bytes {
        let mut decoder = FrameDecoder::default();
        decoder.push(frame);
        decoder
            .pop()
            .expect("valid frame")
            .expect("one whole frame")
    }

    fn kv_get(key: &str) -> Query {
        KvQuery::Get { key: key.into() }.into()
    }

    #[test]
    fn hello_announces_this_builds_version() {
        let hello = encode_client_hello();
        assert_eq!(
            client_hello_version(&payload(&hello)),
            Some(CLIENT_RPC_VERSION)
        );
    }

    #[test]
    fn raft_frames_and_garbage_are_not_hellos() {
        let raft = crate::wire::encode_envelope(&Envelope {
            from: NodeId(1),
            to: NodeId(2),
            body: Body::Raft(crate::raft::Message::TimeoutNow {
                term: crate::ids::Term(3),
            }),
        });
        assert_eq!(client_hello_version(&raft[FRAME_HEADER_LEN..]), None);
        assert_eq!(client_hello_version(&[]), None);
        assert_eq!(client_hello_version(&[0xff; 9]), None);
    }

    #[test]
    fn every_call_round_trips() {
        let calls = [
            RpcCall::Request(ClientRequest::Write(
                KvCommand::Set {
                    key: "a".into(),
                    value: bytes::Bytes::from_static(b"1"),
                    flags: 0,
                }
                .into(),
            )),
            RpcCall::Request(ClientRequest::Read {
                query: kv_get("a"),
                consistency: Consistency::Stale,
            }),
            RpcCall::Status,
            RpcCall::Wait {
                query: kv_get("a"),
                min_index: 7,
                timeout_ms: 300_000,
            },
            RpcCall::RaftConfiguration,
            RpcCall::Cancel { id: 3 },
            RpcCall::RemoveRaftPeer(PeerRef::Id("0f9a3c4e-1b2d-4e5f".into())),
            RpcCall::RemoveRaftPeer(PeerRef::Address("127.0.0.1:8300".into())),
        ];
        for (id, call) in calls.into_iter().enumerate() {
            let request = RpcRequest {
                id: id as u64,
                call,
            };
            let frame = encode_rpc_request(&request);
            assert_eq!(decode_rpc_request(&payload(&frame)), Ok(request));
        }
    }

    #[test]
    fn every_answer_round_trips() {
        let answers = [
            RpcAnswer::Response(ClientResponse::Written {
                index: LogIndex(4),
                result: CommandResult::Kv(KvCommandResult::Done(true)),
            }),
            RpcAnswer::Response(ClientResponse::Failed(ClientError::NotLeader {
                leader: None,
            })),
            RpcAnswer::Status(ServerStatus {
                leader: Some("127.0.0.1:8300".into()),
                peers: vec!["127.0.0.1:8300".into(), "127.0.0.2:8300".into()],
                known_leader: true,
                last_contact_ms: 12,
            }),
            RpcAnswer::Waited,
            RpcAnswer::RaftConfiguration(RaftConfigurationView {
                servers: vec![RaftServerView {
                    id: "0f9a3c4e-1b2d-4e5f".into(),
                    node: "s1".into(),
                    address: "127.0.0.1:8300".into(),
                    leader: true,
                    voter: true,
                }],
                index: 9,
                known_leader: true,
            }),
            RpcAnswer::Removed(Ok(())),
            RpcAnswer::Removed(Err("No cluster leader".into())),
        ];
        for answer in answers {
            let reply = RpcReply {
                id: u64::MAX,
                answer,
            };
            let frame = encode_rpc_reply(&reply);
            assert_eq!(decode_rpc_reply(&payload(&frame)), Ok(reply));
        }
    }

    #[test]
    fn truncated_and_trailing_bytes_are_errors() {
        let frame = encode_rpc_request(&RpcRequest {
            id: 300,
            call: RpcCall::Status,
        });
        let body = payload(&frame);
        assert_eq!(
            decode_rpc_request(&body[..body.len() - 1]),
            Err(DecodeError::Truncated)
        );
        let mut longer = body.to_vec();
        longer.push(0);
        assert!(matches!(
            decode_rpc_request(&longer),
            Err(DecodeError::Malformed(_))
        ));
        assert!(decode_rpc_reply(&[0x01, 0x7f]).is_err());
    }

    proptest::proptest! {
        #[test]
        fn any_request_and_reply_round_trip(
            id in proptest::prelude::any::<u64>(),
            request in crate::wire::strategies::client_request(),
            response in crate::wire::strategies::client_response(),
        ) {
            let request = RpcRequest { id, call: RpcCall::Request(request) };
            let frame = encode_rpc_request(&request);
            proptest::prop_assert_eq!(decode_rpc_request(&payload(&frame)), Ok(request));
            let reply = RpcReply { id, answer: RpcAnswer::Response(response) };
            let frame = encode_rpc_reply(&reply);
            proptest::prop_assert_eq!(decode_rpc_reply(&payload(&frame)), Ok(reply));
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
            crate::fuzzing::decode_client_rpc(&data);
        }
    }
}
