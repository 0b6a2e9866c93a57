use proptest::prelude::*;

use super::strategies::{envelope, forward_envelope};
use crate::ids::{NodeId, Term};
use crate::raft::Message;
use crate::wire::*;

fn sample_envelope() -> Envelope {
    Envelope {
        from: NodeId(1),
        to: NodeId(2),
        body: Body::Raft(Message::TimeoutNow { term: Term(7) }),
    }
}

fn pop_all(decoder: &mut FrameDecoder) -> Result<Vec<bytes::Bytes>, DecodeError> {
    let mut out = Vec::new();
    while let Some(payload) = decoder.pop()? {
        out.push(payload);
    }
    Ok(out)
}

#[test]
fn forward_and_its_reply_round_trip() {
    use crate::ids::LogIndex;
    use crate::node::{ClientRequest, ClientResponse, Consistency};
    use crate::state::kv_types::{KvCommandResult, KvQuery};
    let bodies = [
        Body::Forward {
            id: u64::MAX,
            request: ClientRequest::Read {
                query: KvQuery::Get { key: "k".into() }.into(),
                consistency: Consistency::Consistent,
            },
        },
        Body::ForwardReply {
            id: 3,
            response: ClientResponse::Written {
                index: LogIndex(9),
                result: crate::state::CommandResult::Kv(KvCommandResult::Done(true)),
            },
        },
    ];
    for body in bodies {
        let env = Envelope {
            from: NodeId(2),
            to: NodeId(1),
            body,
        };
        let frame = encode_envelope(&env);
        assert_eq!(decode_envelope(&frame[FRAME_HEADER_LEN..]), Ok(env));
    }
}

#[test]
fn frame_header_counts_version_and_payload() {
    let frame = encode_envelope(&sample_envelope());
    let len = u32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]) as usize;
    assert_eq!(len, frame.len() - 4);
    assert_eq!(frame[4], WIRE_VERSION);
}

#[test]
fn every_truncation_of_a_frame_waits_for_more_bytes() {
    let frame = encode_envelope(&sample_envelope());
    for cut in 0..frame.len() {
        let mut decoder = FrameDecoder::default();
        decoder.push(&frame[..cut]);
        assert_eq!(decoder.pop(), Ok(None), "cut at {cut}");
        assert_eq!(decoder.finish().is_err(), cut > 0, "cut at {cut}");
        decoder.push(&frame[cut..]);
        let payload = decoder.pop().expect("valid frame").expect("complete frame");
        assert_eq!(decode_envelope(&payload), Ok(sample_envelope()));
        assert_eq!(decoder.finish(), Ok(()));
    }
}

#[test]
fn every_truncation_of_a_payload_is_an_error() {
    let frame = encode_envelope(&sample_envelope());
    let payload = &frame[FRAME_HEADER_LEN..];
    for cut in 0..payload.len() {
        assert!(decode_envelope(&payload[..cut]).is_err(), "cut at {cut}");
    }
}

#[test]
fn trailing_payload_bytes_are_malformed() {
    let frame = encode_envelope(&sample_envelope());
    let mut payload = frame[FRAME_HEADER_LEN..].to_vec();
    payload.push(0);
    assert!(matches!(
        decode_envelope(&payload),
        Err(DecodeError::Malformed(_))
    ));
}

#[test]
fn foreign_version_is_rejected_before_the_body_arrives() {
    let mut decoder = FrameDecoder::default();
    decoder.push(&[0, 0, 0, 100, 9]);
    assert_eq!(decoder.pop(), Err(DecodeError::BadVersion(9)));
}

#[test]
fn oversized_frame_is_rejected_from_its_header() {
    let mut decoder = FrameDecoder::new(16);
    decoder.push(&17u32.to_be_bytes());
    assert_eq!(
        decoder.pop(),
        Err(DecodeError::TooLarge { len: 17, max: 16 })
    );
}

#[test]
fn frame_at_the_limit_is_accepted() {
    let mut decoder = FrameDecoder::new(3);
    decoder.push(&frame_payload(&[1, 2]));
    assert_eq!(decoder.pop(), Ok(Some(bytes::Bytes::from_static(&[1, 2]))));
}

#[test]
fn zero_length_frame_is_malformed() {
    let mut decoder = FrameDecoder::default();
    decoder.push(&[0, 0, 0, 0]);
    assert!(matches!(decoder.pop(), Err(DecodeError::Malformed(_))));
}

#[test]
fn versioned_blob_rejects_other_versions_and_empty_input() {
    let blob = encode_versioned(3, &42u64);
    assert_eq!(decode_versioned::<u64>(3, &blob), Ok(42));
    assert_eq!(
        decode_versioned::<u64>(4, &blob),
        Err(DecodeError::BadVersion(3))
    );
    assert_eq!(decode_versioned::<u64>(3, &[]), Err(DecodeError::Truncated));
}

proptest! {
    #[test]
    fn envelope_round_trips_through_a_frame(env in envelope()) {
        let mut decoder = FrameDecoder::default();
        decoder.push(&encode_envelope(&env));
        let payloads = pop_all(&mut decoder).expect("valid frame");
        prop_assert_eq!(payloads.len(), 1);
        prop_assert_eq!(decode_envelope(&payloads[0]), Ok(env));
        prop_assert_eq!(decoder.buffered(), 0);
    }

    #[test]
    fn frames_split_at_any_points_reassemble_in_order(
        envs in proptest::collection::vec(envelope(), 1..4),
        chunk in 1usize..64,
    ) {
        let stream: Vec<u8> = envs.iter().flat_map(|e| encode_envelope(e).to_vec()).collect();
        let mut decoder = FrameDecoder::default();
        let mut decoded = Vec::new();
        for piece in stream.chunks(chunk) {
            decoder.push(piece);
            for payload in pop_all(&mut decoder).expect("valid stream") {
                decoded.push(decode_envelope(&payload).expect("valid envelope"));
            }
        }
        prop_assert_eq!(decoded, envs);
        prop_assert_eq!(decoder.finish(), Ok(()));
    }

    #[test]
    fn raft_message_round_trips_through_postcard(env in envelope()) {
        let Body::Raft(msg) = env.body else {
            panic!("the envelope strategy yields Raft bodies only");
        };
        prop_assert_eq!(from_postcard::<Message>(&to_postcard(&msg)), Ok(msg));
    }

    #[test]
    fn forward_envelopes_round_trip_and_every_truncation_fails(env in forward_envelope()) {
        let frame = encode_envelope(&env);
        let payload = &frame[FRAME_HEADER_LEN..];
        for cut in 0..payload.len() {
            prop_assert!(decode_envelope(&payload[..cut]).is_err(), "cut at {}", cut);
        }
        prop_assert_eq!(decode_envelope(payload), Ok(env));
    }

    #[test]
    fn arbitrary_stream_never_panics(data in proptest::collection::vec(any::<u8>(), 0..256)) {
        let mut decoder = FrameDecoder::new(64);
        decoder.push(&data);
        if let Ok(payloads) = pop_all(&mut decoder) {
            for payload in payloads {
                let _ = decode_envelope(&payload);
            }
        }
    }
}
