//! The message servers exchange: who sent it, to whom, and what it carries.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::ids::NodeId;
use crate::node::{ClientRequest, ClientResponse};
use crate::wire::{DecodeError, encode_frame, from_postcard};

/// One peer-to-peer message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// Sender.
    pub from: NodeId,
    /// Intended receiver (lets a server drop messages meant for a previous owner of its address).
    pub to: NodeId,
    /// What it carries.
    pub body: Body,
}

/// What an envelope carries. New protocols (RPC forwarding, gossip) get new variants; postcard
/// encodes the variant index first, so existing variants keep their bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Body {
    /// Raft consensus traffic.
    Raft(crate::raft::Message),
    /// A client request a follower hands to the leader it knows; answered by `ForwardReply`
    /// with the same `id`.
    Forward {
        /// Chosen by the origin to match the reply.
        id: u64,
        /// The client's request, unchanged.
        request: ClientRequest,
    },
    /// The leader's answer to a `Forward`.
    ForwardReply {
        /// The `Forward`'s id.
        id: u64,
        /// What the origin tells its client.
        response: ClientResponse,
    },
    /// First frame of a client agent's connection (see `wire::client_rpc`): the connection
    /// carries client RPC, not Raft. The driver splits such connections off before any frame
    /// reaches a node; `from` and `to` are unused (zero).
    ClientHello {
        /// The client RPC protocol version the client speaks.
        version: u16,
    },
}

/// A complete frame (length, version, payload) ready to write to a stream.
pub fn encode_envelope(envelope: &Envelope) -> Bytes {
    encode_frame(envelope)
}

/// Decodes a payload as yielded by [`crate::wire::FrameDecoder::pop`] (version byte already
/// checked and stripped).
pub fn decode_envelope(payload: &[u8]) -> Result<Envelope, DecodeError> {
    from_postcard(payload)
}
