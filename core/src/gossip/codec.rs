//! Wire format: a version byte then postcard. Datagrams carry a compound list of messages so
//! broadcasts can piggyback; streams carry one [`StreamMessage`]. Decoding never panics.

use super::member::{Addr, Incarnation, MemberStatus, NodeName, Tags};
use serde::{Deserialize, Serialize};

/// Version byte in front of every plaintext datagram and stream body.
pub const WIRE_VERSION: u8 = 1;

/// One gossip message. A datagram holds one or more of these.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Message {
    /// Direct probe. `target` guards against a ping reaching a different node at a reused address.
    Ping {
        /// Probe sequence number, echoed in the ack.
        seq: u32,
        /// Name of the member being probed.
        target: NodeName,
    },
    /// Ask the receiver to probe `target` on our behalf.
    IndirectPing {
        /// The requester's sequence number, echoed in the ack or nack.
        seq: u32,
        /// Name of the member to probe.
        target: NodeName,
        /// Where to probe it.
        target_addr: Addr,
        /// Send a nack if the target does not answer in time (Lifeguard).
        nack: bool,
    },
    /// Probe answered.
    Ack {
        /// Sequence number of the ping being answered.
        seq: u32,
    },
    /// The indirect probe we were asked for got no answer: proof the relay itself is alive.
    Nack {
        /// Sequence number of the indirect ping being answered.
        seq: u32,
    },
    /// A member is alive at `incarnation`, with its address and tags.
    Alive(AliveMessage),
    /// `from` suspects `name` at `incarnation`.
    Suspect {
        /// Suspected member.
        name: NodeName,
        /// Incarnation the suspicion is about.
        incarnation: Incarnation,
        /// Who suspects it.
        from: NodeName,
    },
    /// `from` declares `name` failed; `from == name` means it left gracefully.
    Dead {
        /// Failed or departed member.
        name: NodeName,
        /// Incarnation the declaration is about.
        incarnation: Incarnation,
        /// Who declares it; the member itself for a graceful leave.
        from: NodeName,
    },
    /// An application event, piggybacked like any broadcast.
    UserEvent(UserEvent),
    /// `name`, failed or left at `incarnation`, is removed from every member list now rather
    /// than after the reconnect timeout (`force-leave -prune`).
    Prune {
        /// Member to forget.
        name: NodeName,
        /// Incarnation the removal is about (a newer alive claim wins).
        incarnation: Incarnation,
    },
}

/// Body of [`Message::Alive`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliveMessage {
    /// Member name (unique in the pool).
    pub name: NodeName,
    /// Gossip address.
    pub addr: Addr,
    /// Incarnation the claim is made at.
    pub incarnation: Incarnation,
    /// Member tags (role, dc, ports, build, raft id ...).
    pub tags: Tags,
}

/// A Lamport-clocked application event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserEvent {
    /// Lamport time the event was sent at.
    pub ltime: u64,
    /// Event name.
    pub name: String,
    /// Opaque payload.
    pub payload: Vec<u8>,
    /// Newer events of the same name may replace this one while it is still being spread.
    pub coalesce: bool,
}

/// One member's state as exchanged in a push-pull.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushNodeState {
    /// Member name.
    pub name: NodeName,
    /// Gossip address.
    pub addr: Addr,
    /// Incarnation.
    pub incarnation: Incarnation,
    /// State as the sender sees it.
    pub status: MemberStatus,
    /// Tags.
    pub tags: Tags,
}

/// A message sent over a reliable stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StreamMessage {
    /// Full-state exchange; the receiver of a non-reply answers with its own state.
    PushPull {
        /// The sender's name.
        from: NodeName,
        /// Where to send the reply (a stream's source port is ephemeral).
        from_addr: Addr,
        /// True when this answers a push-pull we started.
        reply: bool,
        /// True when the sender is joining.
        join: bool,
        /// The sender's user-event Lamport clock.
        event_ltime: u64,
        /// Every member the sender knows, itself included.
        states: Vec<PushNodeState>,
    },
    /// memberlist's TCP fallback probe, sent with the indirect probes: datagram loss alone
    /// must not make a live member suspect.
    Ping {
        /// Probe sequence number, echoed in the ack.
        seq: u32,
        /// Name of the member being probed.
        target: NodeName,
        /// Where to send the ack.
        from_addr: Addr,
    },
    /// Answer to a stream [`StreamMessage::Ping`].
    Ack {
        /// Sequence number of the ping being answered.
        seq: u32,
    },
}

/// Why a packet could not be decoded. Decoding has no effect on state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The packet was empty.
    Empty,
    /// The version byte is not one we speak.
    BadVersion(u8),
    /// The body is not valid postcard for the expected type.
    Malformed,
    /// The packet is encrypted but no keyring is configured, or plaintext arrived while one is.
    Encryption(super::keyring::KeyringError),
}

/// Encodes one message on its own (the unit the broadcast queue stores).
pub fn encode_message(msg: &Message) -> Vec<u8> {
    postcard::to_stdvec(msg).unwrap_or_default()
}

/// Builds a datagram from already-encoded messages: `[version][count][msg]...`, which is exactly
/// postcard's encoding of `Vec<Message>` behind the version byte.
pub fn encode_compound(encoded: &[Vec<u8>]) -> Vec<u8> {
    let body: usize = encoded.iter().map(Vec::len).sum();
    let mut out = Vec::with_capacity(1 + varint_len(encoded.len()) + body);
    out.push(WIRE_VERSION);
    push_varint(&mut out, encoded.len());
    for m in encoded {
        out.extend_from_slice(m);
    }
    out
}

/// Size of a compound datagram holding `count` messages of `body` bytes in total.
pub fn compound_len(count: usize, body: usize) -> usize {
    1 + varint_len(count) + body
}

/// Decodes a plaintext datagram into its messages.
pub fn decode_packet(bytes: &[u8]) -> Result<Vec<Message>, DecodeError> {
    let body = strip_version(bytes)?;
    postcard::from_bytes(body).map_err(|_| DecodeError::Malformed)
}

/// Encodes a stream message behind the version byte.
pub fn encode_stream(msg: &StreamMessage) -> Vec<u8> {
    let mut out = vec![WIRE_VERSION];
    out.extend(postcard::to_stdvec(msg).unwrap_or_default());
    out
}

/// Decodes a plaintext stream body.
pub fn decode_stream(bytes: &[u8]) -> Result<StreamMessage, DecodeError> {
    let body = strip_version(bytes)?;
    postcard::from_bytes(body).map_err(|_| DecodeError::Malformed)
}

fn strip_version(bytes: &[u8]) -> Result<&[u8], DecodeError> {
    match bytes.split_first() {
        None => Err(DecodeError::Empty),
        Some((&WIRE_VERSION, rest)) => Ok(rest),
        Some((&v, _)) => Err(DecodeError::BadVersion(v)),
    }
}

fn varint_len(mut n: usize) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

fn push_varint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Fuzz body: decoding arbitrary bytes as a datagram or stream never panics, and what decodes
/// re-encodes to something that decodes to the same messages.
pub fn fuzz_packet(data: &[u8]) {
    if let Ok(msgs) = decode_packet(data) {
        let encoded: Vec<Vec<u8>> = msgs.iter().map(encode_message).collect();
        assert_eq!(decode_packet(&encode_compound(&encoded)).ok(), Some(msgs));
    }
    if let Ok(msg) = decode_stream(data) {
        assert_eq!(decode_stream(&encode_stream(&msg)).ok(), Some(msg));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr() -> Addr {
        "10.0.0.1:8301".parse().unwrap()
    }

    #[test]
    fn compound_packet_round_trips() {
        let msgs = vec![
            Message::Ping {
                seq: 7,
                target: "b".into(),
            },
            Message::Alive(AliveMessage {
                name: "a".into(),
                addr: addr(),
                incarnation: 3,
                tags: Tags::from([("role".into(), "server".into())]),
            }),
        ];
        let encoded: Vec<Vec<u8>> = msgs.iter().map(encode_message).collect();
        let packet = encode_compound(&encoded);
        assert_eq!(
            packet.len(),
            compound_len(2, encoded.iter().map(Vec::len).sum())
        );
        assert_eq!(decode_packet(&packet), Ok(msgs));
    }

    #[test]
    fn long_compound_count_uses_multi_byte_varint() {
        let encoded = vec![encode_message(&Message::Ack { seq: 1 }); 200];
        let packet = encode_compound(&encoded);
        assert_eq!(decode_packet(&packet).map(|m| m.len()), Ok(200));
    }

    #[test]
    fn bad_input_gives_typed_errors() {
        assert_eq!(decode_packet(&[]), Err(DecodeError::Empty));
        assert_eq!(decode_packet(&[9, 0]), Err(DecodeError::BadVersion(9)));
        assert_eq!(
            decode_packet(&[WIRE_VERSION, 5, 200]),
            Err(DecodeError::Malformed)
        );
        assert_eq!(decode_stream(&[WIRE_VERSION]), Err(DecodeError::Malformed));
    }

    #[test]
    fn fuzz_body_survives_truncations_of_a_valid_packet() {
        let packet = encode_compound(&[encode_message(&Message::Suspect {
            name: "x".into(),
            incarnation: 1,
            from: "y".into(),
        })]);
        for cut in 0..=packet.len() {
            fuzz_packet(&packet[..cut]);
        }
    }
}
