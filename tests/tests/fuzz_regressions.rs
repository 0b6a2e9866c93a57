//! Replays every committed fuzz crasher (`fuzz/regressions/<target>/*`) and a few hand-made
//! inputs through the same bodies the fuzzers run, so `cargo test` guards every fixed crash.

use std::fs;
use std::path::{Path, PathBuf};

use synod_core::fuzzing;
use synod_core::ids::{NodeId, Term};
use synod_core::raft::Message;
use synod_core::state::catalog::types::{CatalogCommand, Check, Node, Registration, Service};
use synod_core::state::kv_types::KvCommand;
use synod_core::state::{Command, State, encode_command};
use synod_core::wire::{Body, Envelope, encode_envelope, to_postcard};

type ReplayBody = fn(&[u8]);

/// Fuzz target name → body. A target missing here fails `every_fuzz_target_has_a_replay_body`.
const TARGETS: &[(&str, ReplayBody)] = &[
    ("decode_frame", fuzzing::decode_frame),
    ("decode_envelope", fuzzing::decode_envelope),
    ("decode_raft_message", fuzzing::decode_raft_message),
    ("decode_client_rpc", fuzzing::decode_client_rpc),
    ("decode_command", fuzzing::decode_command),
    ("restore_state", fuzzing::restore_state),
    ("wal_record", fuzzing::wal_record),
    ("http_request", fuzzing::http_request),
    ("http_query", fuzzing::http_query),
    ("gossip_packet", fuzzing::gossip_packet),
    ("gossip_encrypted_packet", fuzzing::gossip_encrypted_packet),
    ("dns_query", fuzzing::dns_query),
    ("dns_response_huge", fuzzing::dns_response_huge),
    ("service_definition", fuzzing::service_definition),
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

fn body_for(target: &str) -> Option<ReplayBody> {
    TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .map(|(_, body)| *body)
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    paths.sort();
    paths
}

#[test]
fn committed_crashers_no_longer_crash() {
    let mut replayed = 0;
    for dir in sorted_entries(&fuzz_dir().join("regressions")) {
        if !dir.is_dir() {
            continue; // the README
        }
        let target = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let body = body_for(target)
            .unwrap_or_else(|| panic!("regressions for unknown fuzz target {target:?}"));
        for input in sorted_entries(&dir) {
            let data = fs::read(&input).expect("readable regression input");
            body(&data);
            replayed += 1;
        }
    }
    eprintln!("replayed {replayed} committed fuzz regressions");
}

#[test]
fn every_fuzz_target_has_a_replay_body() {
    for file in sorted_entries(&fuzz_dir().join("fuzz_targets")) {
        let name = file
            .file_stem()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        assert!(
            body_for(name).is_some(),
            "fuzz target {name:?} has no replay body"
        );
    }
}

fn sample_envelope_frame() -> Vec<u8> {
    encode_envelope(&Envelope {
        from: NodeId(1),
        to: NodeId(2),
        body: Body::Raft(Message::TimeoutNow { term: Term(3) }),
    })
    .to_vec()
}

fn sample_command() -> Vec<u8> {
    encode_command(&Command::Kv(KvCommand::Set {
        key: "web/a".into(),
        value: b"v".to_vec().into(),
        flags: 1,
    }))
    .to_vec()
}

fn sample_snapshot() -> Vec<u8> {
    let mut state = State::new();
    let cmd = |key: &str| {
        Command::Kv(KvCommand::Set {
            key: key.into(),
            value: b"x".to_vec().into(),
            flags: 0,
        })
    };
    state.apply(2, &cmd("a/b"));
    state.apply(3, &cmd("a/c"));
    state.apply(4, &Command::Kv(KvCommand::Delete { key: "a/b".into() }));
    let web = Service {
        id: "web1".into(),
        service: "web".into(),
        tags: vec!["rails".into()],
        port: 80,
        ..Service::default()
    };
    let check = Check {
        check_id: "web-http".into(),
        name: "web-http".into(),
        service_id: "web1".into(),
        ..Check::default()
    };
    let register = Registration {
        node: Node {
            node: "n1".into(),
            address: "10.0.0.1".into(),
            ..Node::default()
        },
        skip_node_update: false,
        service: Some(web),
        checks: vec![check],
    };
    state.apply(
        5,
        &Command::Catalog(CatalogCommand::Register(Box::new(register))),
    );
    state.snapshot().to_vec()
}

const SAMPLE_SERVICE_CONFIG: &[u8] = br#"{"service": {"name": "web", "tags": ["rails"], "port": 80,
  "checks": [{"http": "http://localhost/", "interval": "10s"}, {"ttl": "1m30s"}]},
  "check": {"name": "mem", "args": ["/bin/true"], "interval": "5s"}}"#;

const SAMPLE_SERVICE_BODY: &[u8] = br#"{"Name": "api", "Port": 9090, "Weights": {"Passing": 3},
  "Check": {"TCP": "localhost:9090", "Interval": "2s", "FailuresBeforeCritical": 2}}"#;

/// Every prefix of `data`, plus `data` with each byte flipped: cheap neighbours of valid input.
fn neighbours(data: &[u8]) -> Vec<Vec<u8>> {
    let cuts = (0..=data.len()).map(|n| data[..n].to_vec());
    let flips = (0..data.len()).map(|i| {
        let mut v = data.to_vec();
        v[i] ^= 0xff;
        v
    });
    cuts.chain(flips).collect()
}

#[test]
fn hand_made_inputs_survive_every_body() {
    let frame = sample_envelope_frame();
    let payload = frame[synod_core::wire::FRAME_HEADER_LEN..].to_vec();
    let mut framed_with_piece = vec![3u8];
    framed_with_piece.extend(&frame);
    framed_with_piece.extend(&frame);
    let seeds: [(&str, Vec<u8>); 7] = [
        ("decode_frame", framed_with_piece),
        ("decode_envelope", payload),
        (
            "decode_raft_message",
            to_postcard(&Message::TimeoutNow { term: Term(9) }),
        ),
        ("decode_command", sample_command()),
        ("restore_state", sample_snapshot()),
        ("service_definition", SAMPLE_SERVICE_CONFIG.to_vec()),
        ("service_definition", SAMPLE_SERVICE_BODY.to_vec()),
    ];
    for (target, seed) in seeds {
        let body = body_for(target).expect("known target");
        for input in neighbours(&seed) {
            body(&input);
        }
    }
}
