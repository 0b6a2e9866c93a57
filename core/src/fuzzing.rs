//! Fuzz target bodies, shared by `fuzz/` and the regression replay in `cargo test`.
//!
//! Each body decodes arbitrary bytes; when decoding succeeds it re-encodes the value and checks
//! that it decodes back to the same value. Any panic is a bug: decoders must return errors.

use crate::raft::Message;
use crate::state::{self, State};
use crate::wire::{self, DecodeError, FrameDecoder};

/// Frame limit used by the fuzz bodies: small, so oversized lengths are exercised too.
const FUZZ_MAX_FRAME: usize = 4096;

/// Feeds `data` to a [`FrameDecoder`] in pieces (the first byte picks the piece size) and checks
/// that every frame it yields re-frames to exactly the bytes it was cut from.
pub fn decode_frame(data: &[u8]) {
    let Some((&piece, stream)) = data.split_first() else {
        return;
    };
    let piece = usize::from(piece).max(1);
    let mut decoder = FrameDecoder::new(FUZZ_MAX_FRAME);
    let mut consumed = 0;
    for chunk in stream.chunks(piece) {
        decoder.push(chunk);
        loop {
            match decoder.pop() {
                Ok(Some(payload)) => {
                    let frame = wire::frame_payload(&payload);
                    assert_eq!(&stream[consumed..consumed + frame.len()], &frame[..]);
                    consumed += frame.len();
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
    assert_eq!(consumed + decoder.buffered(), stream.len());
}

/// Decodes `data` as an envelope payload and checks the round trip through a full frame.
pub fn decode_envelope(data: &[u8]) {
    if let Ok(envelope) = wire::decode_envelope(data) {
        let mut decoder = FrameDecoder::default();
        decoder.push(&wire::encode_envelope(&envelope));
        let payload = decoder.pop().ok().flatten();
        let again = payload.map(|p| wire::decode_envelope(&p));
        assert_eq!(again, Some(Ok(envelope)));
    }
}

/// Decodes `data` as a client RPC request and as a reply (the two directions of a client agent's
/// connection) and checks the round trips; also probes it as a client hello.
pub fn decode_client_rpc(data: &[u8]) {
    use crate::wire::client_rpc::{self, RpcReply, RpcRequest};
    check_postcard_round_trip::<RpcRequest>(data);
    check_postcard_round_trip::<RpcReply>(data);
    if let Ok(request) = client_rpc::decode_rpc_request(data) {
        let mut decoder = FrameDecoder::default();
        decoder.push(&client_rpc::encode_rpc_request(&request));
        let payload = decoder.pop().ok().flatten();
        assert_eq!(
            payload.map(|p| client_rpc::decode_rpc_request(&p)),
            Some(Ok(request))
        );
    }
    let _ = client_rpc::client_hello_version(data);
}

/// Decodes `data` as a bare Raft message and checks the round trip.
pub fn decode_raft_message(data: &[u8]) {
    check_postcard_round_trip::<Message>(data);
}

/// Decodes `data` as a log entry's command and checks the round trip.
pub fn decode_command(data: &[u8]) {
    if let Ok(command) = state::decode_command(data) {
        assert_eq!(
            state::decode_command(&state::encode_command(&command)),
            Ok(command)
        );
    }
}

/// Restores a state machine from `data` as a snapshot; a restored state must snapshot to bytes
/// that restore to the same state, and answer queries without panicking.
pub fn restore_state(data: &[u8]) {
    if let Ok(restored) = State::restore(data) {
        let bytes = restored.snapshot();
        let again = State::restore(&bytes).expect("a restored state's snapshot restores");
        assert_eq!(again.index(), restored.index());
        assert_eq!(again.kv(), restored.kv());
        assert_eq!(again.catalog(), restored.catalog());
        assert_eq!(again.snapshot(), bytes);
        for node in restored.catalog().nodes().take(4) {
            let query = state::catalog::types::CatalogQuery::NodeServices {
                node: node.item.node.clone(),
            };
            assert!(restored.query_catalog(&query).1 >= 1);
        }
        for (_, service) in restored.catalog().services().take(4) {
            let query = state::catalog::types::CatalogQuery::ServiceHealth {
                service: service.item.service.clone(),
                tags: service.item.tags.clone(),
                node_meta: Vec::new(),
                passing_only: true,
            };
            assert!(restored.query_catalog(&query).1 >= 1);
        }
        for entry in restored.kv().entries().take(4) {
            let query = state::kv_types::KvQuery::Keys {
                prefix: entry.key.clone(),
                separator: Some("/".into()),
            };
            assert!(restored.query_kv(&query).1 >= 1);
        }
    }
}

fn check_postcard_round_trip<T>(data: &[u8])
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + core::fmt::Debug,
{
    let decoded: Result<T, DecodeError> = wire::from_postcard(data);
    if let Ok(value) = decoded {
        assert_eq!(
            wire::from_postcard::<T>(&wire::to_postcard(&value)),
            Ok(value)
        );
    }
}

/// Decodes every WAL record in `data` (torn tails and corruption must be errors, not panics).
pub use crate::wire::record::fuzz_records as wal_record;

/// Parses `data` as HTTP requests, whole and split in two reads; both must agree.
pub use crate::api::http::fuzz_request as http_request;

/// Parses `data` as a query string; encoding and re-parsing must give the same pairs.
pub use crate::api::http::fuzz_query as http_query;

/// Decodes `data` as a plain gossip packet; a decoded packet must re-encode and decode equal.
pub use crate::gossip::fuzz_packet as gossip_packet;

/// Decrypts `data` as an encrypted gossip packet with a fixed test key; must never panic.
pub use crate::gossip::fuzz_encrypted_packet as gossip_encrypted_packet;

/// Answers `data` as a DNS query against a fixed catalog: never panics, replies fit and parse.
pub use crate::api::dns::fuzz_query as dns_query;

/// Builds DNS answers for a service with hundreds of instances named from `data`.
pub use crate::api::dns::fuzz_response_huge as dns_response_huge;
/// Decodes `data` as a JSON config file, a service register body and a check register body
/// (and, wrapped as `{"service": data}` / `{"check": data}`, in the config-file shape);
/// whatever decodes must satisfy the definitions' invariants and schedule without panicking.
pub fn service_definition(data: &[u8]) {
    use crate::health::definition::{decode_check_body, decode_config, decode_service_body};
    let mut checks = Vec::new();
    if let Ok(defs) = decode_config(data) {
        for service in &defs.services {
            assert!(!service.id.is_empty() && !service.name.is_empty());
            checks.extend(service.checks.iter().cloned());
        }
        checks.extend(defs.checks);
    }
    if let Ok(service) = decode_service_body(data) {
        assert!(!service.id.is_empty() && !service.name.is_empty());
        assert!(service.weights.passing >= 1);
        checks.extend(service.checks);
    }
    if let Ok(check) = decode_check_body(data) {
        checks.push(check);
    }
    config_file_shape_agrees_with_api_bodies(data);
    let mut scheduler = crate::health::Scheduler::new(crate::rand::Rng::new(0));
    let start = crate::time::Instant::ZERO;
    for check in checks {
        assert!(!check.id.is_empty() && !check.name.is_empty());
        assert!(check.output_max_size > 0);
        assert!(check.failures_before_warning <= check.failures_before_critical);
        let periodic = !matches!(check.kind, crate::health::CheckKind::Ttl { .. });
        assert_eq!(periodic, !check.interval.is_zero());
        scheduler.add(start, check);
    }
    if let Some(at) = scheduler.poll_timeout() {
        scheduler.handle_timeout(at);
    }
    while scheduler.poll_action().is_some() {}
}

/// Config files and API bodies share one decoder and config files are only stricter (unknown
/// keys are errors there), so a definition a config file accepts must decode identically as an
/// API body.
fn config_file_shape_agrees_with_api_bodies(data: &[u8]) {
    use crate::health::definition::{decode_check_body, decode_config, decode_service_body};
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let wrapped = |key: &str| {
        let mut root = serde_json::Map::new();
        root.insert(key.to_owned(), value.clone());
        serde_json::to_vec(&serde_json::Value::Object(root))
    };
    if let Ok(file) = wrapped("service")
        && let Ok(mut defs) = decode_config(&file)
    {
        let service = defs.services.pop();
        assert_eq!(service, decode_service_body(data).ok());
    }
    if let Ok(file) = wrapped("check")
        && let Ok(mut defs) = decode_config(&file)
    {
        let check = defs.checks.pop();
        assert_eq!(check, decode_check_body(data).ok());
    }
}
