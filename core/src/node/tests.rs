use bytes::Bytes;

use super::*;
use crate::ids::{RequestId, Term};
use crate::raft::Config;
use crate::state::kv_types::{KvCommand, KvCommandResult, KvQuery, KvQueryResult};
use crate::state::{CommandResult, QueryResult};
use crate::time::Duration;

fn config(id: u64) -> NodeConfig {
    NodeConfig {
        raft: Config::new(NodeId(id)),
        snapshot_threshold: 1_000,
        snapshot_interval: Duration::ZERO,
    }
}

fn drain(node: &mut Node) -> Vec<Action> {
    std::iter::from_fn(|| node.poll_action()).collect()
}

/// Completes every persist at once; returns everything the node emitted, persists included.
fn settle(node: &mut Node, now: Instant) -> Vec<Action> {
    let mut seen = Vec::new();
    let mut queue = drain(node);
    while !queue.is_empty() {
        for action in std::mem::take(&mut queue) {
            if let Action::Persist { token, .. } = &action {
                node.handle_input(now, Input::Persisted(*token));
                queue.extend(drain(node));
            }
            seen.push(action);
        }
    }
    seen
}

/// A bootstrapped single-server node that has become leader, and the time it did.
fn single_leader() -> (Node, Instant) {
    let mut now = Instant::from_millis(1);
    let mut node = Node::new(config(1), Recovered::default(), 7, now).expect("fresh node");
    node.bootstrap(now, Membership::voters([(NodeId(1), "n1".to_string())]))
        .expect("empty log bootstraps");
    settle(&mut node, now);
    for _ in 0..100 {
        if node.raft().role() == raft::Role::Leader && node.raft().commit_index().0 >= 2 {
            return (node, now);
        }
        now = node
            .poll_timeout()
            .unwrap_or(now + Duration::from_millis(10))
            .max(now);
        node.handle_timeout(now);
        settle(&mut node, now);
    }
    panic!("a lone voter never became leader with its blank entry committed");
}

fn request(node: &mut Node, now: Instant, id: u64, request: ClientRequest) {
    node.handle_input(
        now,
        Input::Request {
            id: RequestId(id),
            request,
        },
    );
}

fn set(key: &str, value: &str) -> ClientRequest {
    ClientRequest::Write(
        KvCommand::Set {
            key: key.into(),
            value: Bytes::from(value.to_string()),
            flags: 0,
        }
        .into(),
    )
}

fn responses(actions: Vec<Action>) -> Vec<(RequestId, ClientResponse)> {
    actions
        .into_iter()
        .filter_map(|a| match a {
            Action::Respond { id, response } => Some((id, response)),
            _ => None,
        })
        .collect()
}

#[test]
fn write_is_answered_only_after_its_entry_is_durable_and_applied() {
    let (mut node, now) = single_leader();
    request(&mut node, now, 1, set("foo", "bar"));
    let before_persist = drain(&mut node);
    assert!(
        before_persist
            .iter()
            .all(|a| !matches!(a, Action::Respond { .. })),
        "answered before the write was durable: {before_persist:?}"
    );
    let Some(Action::Persist { token, write }) = before_persist
        .into_iter()
        .find(|a| matches!(a, Action::Persist { .. }))
    else {
        panic!("a proposal must be persisted");
    };
    assert_eq!(write.entries.len(), 1);
    let index = write.entries[0].index;
    node.handle_input(now, Input::Persisted(token));
    let answered = responses(settle(&mut node, now));
    assert_eq!(
        answered,
        vec![(
            RequestId(1),
            ClientResponse::Written {
                index,
                result: CommandResult::Kv(KvCommandResult::Done(true))
            }
        )]
    );
}

#[test]
fn every_consistency_mode_reads_the_acknowledged_write() {
    let (mut node, now) = single_leader();
    request(&mut node, now, 1, set("foo", "bar"));
    settle(&mut node, now);
    for (n, consistency) in [
        Consistency::Stale,
        Consistency::Default,
        Consistency::Consistent,
    ]
    .into_iter()
    .enumerate()
    {
        let id = 10 + n as u64;
        let query = KvQuery::Get { key: "foo".into() }.into();
        request(
            &mut node,
            now,
            id,
            ClientRequest::Read { query, consistency },
        );
        let answered = responses(settle(&mut node, now));
        let [(got, ClientResponse::Read { result, index })] = answered.as_slice() else {
            panic!("{consistency:?}: expected one read answer, got {answered:?}");
        };
        assert_eq!(*got, RequestId(id));
        assert!(
            *index >= 3,
            "{consistency:?}: index {index} predates the write"
        );
        let QueryResult::Kv(KvQueryResult::Entries(entries)) = result else {
            panic!("{consistency:?}: a Get answers entries, got {result:?}");
        };
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].value, Bytes::from_static(b"bar"));
    }
}

#[test]
fn a_node_without_a_cluster_refuses_writes_as_not_leader() {
    let now = Instant::from_millis(1);
    let mut node = Node::new(config(2), Recovered::default(), 7, now).expect("fresh node");
    request(&mut node, now, 5, set("k", "v"));
    assert_eq!(
        responses(drain(&mut node)),
        vec![(
            RequestId(5),
            ClientResponse::Failed(ClientError::NotLeader { leader: None })
        )]
    );
}

#[test]
fn garbage_and_misaddressed_frames_are_dropped_without_effect() {
    let (mut node, now) = single_leader();
    let term = node.raft().term();
    node.handle_input(now, Input::Frame(Bytes::from_static(b"\x00\x01garbage")));
    assert_eq!(drain(&mut node), vec![]);
    let misaddressed = encode_envelope(&Envelope {
        from: NodeId(9),
        to: NodeId(3),
        body: Body::Raft(raft::Message::TimeoutNow { term: Term(99) }),
    });
    let payload = misaddressed.slice(crate::wire::FRAME_HEADER_LEN..);
    node.handle_input(now, Input::Frame(payload));
    assert_eq!(drain(&mut node), vec![]);
    assert_eq!(node.raft().term(), term);
}

#[test]
fn snapshot_is_taken_once_the_threshold_of_applied_entries_is_reached() {
    let (mut node, mut now) = single_leader();
    node.config.snapshot_threshold = 5;
    let mut snapshots = Vec::new();
    for i in 0..12u64 {
        now += Duration::from_millis(1);
        request(&mut node, now, i, set(&format!("k{i}"), "v"));
        for action in settle(&mut node, now) {
            if let Action::Persist { write, .. } = action {
                snapshots.extend(write.snapshot.map(|s| s.meta.last_index));
            }
        }
    }
    assert!(
        snapshots.len() >= 2,
        "expected a snapshot every 5 entries, saw {snapshots:?}"
    );
    assert!(
        snapshots.windows(2).all(|w| w[1].0 >= w[0].0 + 5),
        "{snapshots:?}"
    );
    assert_eq!(node.state().index(), node.raft().applied_index().0);
}

/// Writes `count` keys 1 ms apart from `now` on; the indexes snapshots were taken at.
fn write_and_collect_snapshots(node: &mut Node, now: &mut Instant, count: u64) -> Vec<LogIndex> {
    let mut snapshots = Vec::new();
    for i in 0..count {
        *now += Duration::from_millis(1);
        request(node, *now, i, set(&format!("k{i}"), "v"));
        for action in settle(node, *now) {
            if let Action::Persist { write, .. } = action {
                snapshots.extend(write.snapshot.map(|s| s.meta.last_index));
            }
        }
    }
    snapshots
}

#[test]
fn snapshots_past_the_threshold_wait_for_the_snapshot_interval() {
    let (mut node, mut now) = single_leader();
    node.config.snapshot_threshold = 5;
    node.config.snapshot_interval = Duration::from_millis(100);
    node.next_snapshot_check = now;

    // The first is taken at the threshold; the next not before 100-200 ms later, however many
    // entries pile up meanwhile.
    let burst = write_and_collect_snapshots(&mut node, &mut now, 50);
    assert_eq!(burst.len(), 1, "{burst:?}");
    now += Duration::from_millis(200);
    let later = write_and_collect_snapshots(&mut node, &mut now, 1);
    assert_eq!(later.len(), 1, "{later:?}");
    assert_eq!(
        later,
        vec![LogIndex(node.state().index())],
        "after {burst:?}"
    );
}

#[test]
fn read_reaching_a_fresh_leader_waits_for_its_first_commit_instead_of_failing() {
    let mut now = Instant::from_millis(1);
    let mut node = Node::new(config(1), Recovered::default(), 7, now).expect("fresh node");
    node.bootstrap(now, Membership::voters([(NodeId(1), "n1".to_string())]))
        .expect("empty log bootstraps");
    settle(&mut node, now);
    // Complete persists only until the node leads; keep its blank entry's persist pending.
    let mut held = Vec::new();
    while node.raft().role() != raft::Role::Leader {
        now = node.poll_timeout().expect("an election deadline").max(now);
        node.handle_timeout(now);
        let mut queue = drain(&mut node);
        while let Some(action) = queue.pop() {
            if let Action::Persist { token, .. } = action {
                if node.raft().role() == raft::Role::Leader {
                    held.push(token);
                } else {
                    node.handle_input(now, Input::Persisted(token));
                    queue.extend(drain(&mut node));
                }
            }
        }
    }
    held.extend(drain(&mut node).into_iter().filter_map(|a| match a {
        Action::Persist { token, .. } => Some(token),
        _ => None,
    }));
    let query = KvQuery::Get { key: "k".into() }.into();
    let consistency = Consistency::Default;
    request(
        &mut node,
        now,
        1,
        ClientRequest::Read { query, consistency },
    );
    assert_eq!(responses(drain(&mut node)), vec![], "answered before ready");
    for token in held {
        node.handle_input(now, Input::Persisted(token));
    }
    let answered = responses(settle(&mut node, now));
    assert!(
        matches!(
            answered.as_slice(),
            [(RequestId(1), ClientResponse::Read { .. })]
        ),
        "{answered:?}"
    );
}
