//! Forwarding between nodes: exact actions on the origin and the leader, and whole-cluster runs
//! where a follower's client is served through the leader.

use std::collections::{BTreeMap, VecDeque};

use bytes::Bytes;

use super::*;
use crate::ids::RequestId;
use crate::raft::{Config, Role};
use crate::state::kv_types::{KvCommand, KvCommandResult, KvQuery, KvQueryResult};
use crate::state::{CommandResult, QueryResult};
use crate::time::Duration;
use crate::wire::FRAME_HEADER_LEN;

/// A few nodes wired together: persists complete at once, frames arrive in send order.
struct Cluster {
    now: Instant,
    nodes: BTreeMap<NodeId, Node>,
    frames: VecDeque<(NodeId, Bytes)>,
    answers: Vec<(NodeId, RequestId, ClientResponse)>,
    /// Lose every `Forward` on the way, as a partition between origin and leader would.
    drop_forwards: bool,
}

impl Cluster {
    fn new(size: u64) -> Self {
        let now = Instant::from_millis(1);
        let membership = Membership::voters((1..=size).map(|i| (NodeId(i), format!("n{i}"))));
        let mut cluster = Cluster {
            now,
            nodes: BTreeMap::new(),
            frames: VecDeque::new(),
            answers: Vec::new(),
            drop_forwards: false,
        };
        for i in 1..=size {
            let config = NodeConfig {
                raft: Config::new(NodeId(i)),
                snapshot_threshold: 1_000,
                snapshot_interval: crate::time::Duration::ZERO,
            };
            let mut node = Node::new(config, Recovered::default(), 11, now).expect("fresh node");
            node.bootstrap(now, membership.clone())
                .expect("empty log bootstraps");
            cluster.nodes.insert(NodeId(i), node);
            cluster.collect(NodeId(i));
        }
        cluster
    }

    fn node(&mut self, id: NodeId) -> &mut Node {
        self.nodes.get_mut(&id).expect("a member of the cluster")
    }

    /// Takes `id`'s actions: completes persists, queues frames, records answers.
    fn collect(&mut self, id: NodeId) {
        let now = self.now;
        while let Some(action) = self.node(id).poll_action() {
            match action {
                Action::Persist { token, .. } => {
                    self.node(id).handle_input(now, Input::Persisted(token))
                }
                Action::Send { to, frame } => self.frames.push_back((to, frame)),
                Action::Respond {
                    id: request,
                    response,
                } => self.answers.push((id, request, response)),
                Action::Event(_) => {}
            }
        }
    }

    fn deliver_all(&mut self) {
        while let Some((to, frame)) = self.frames.pop_front() {
            let payload = frame.slice(FRAME_HEADER_LEN..);
            if self.drop_forwards && is_forward(&payload) {
                continue;
            }
            if self.nodes.contains_key(&to) {
                let now = self.now;
                self.node(to).handle_input(now, Input::Frame(payload));
                self.collect(to);
            }
        }
    }

    /// Delivers everything, then moves time to the earliest deadline and fires it.
    fn step(&mut self) {
        self.deliver_all();
        let next = self.nodes.values().filter_map(Node::poll_timeout).min();
        self.now = next
            .unwrap_or(self.now + Duration::from_millis(10))
            .max(self.now);
        let ids: Vec<NodeId> = self.nodes.keys().copied().collect();
        for id in ids {
            if self.node(id).poll_timeout().is_some_and(|t| t <= self.now) {
                let now = self.now;
                self.node(id).handle_timeout(now);
                self.collect(id);
            }
        }
        self.deliver_all();
    }

    /// Runs until one leader is known to all, with every node applied up to its commit index.
    fn elect(&mut self) -> NodeId {
        for _ in 0..2_000 {
            self.step();
            let leader = self
                .nodes
                .values()
                .find(|n| n.raft().role() == Role::Leader)
                .map(|n| (n.id(), n.raft().commit_index()));
            if let Some((leader, commit)) = leader
                && commit.0 >= 2
                && self.frames.is_empty()
                && self.nodes.values().all(|n| {
                    n.raft().leader() == Some(leader) && n.raft().applied_index() == commit
                })
            {
                return leader;
            }
        }
        panic!("no stable leader emerged");
    }

    fn follower(&self, leader: NodeId) -> NodeId {
        *self
            .nodes
            .keys()
            .find(|&&id| id != leader)
            .expect("a follower")
    }

    fn request(&mut self, at: NodeId, id: u64, request: ClientRequest) {
        let now = self.now;
        let input = Input::Request {
            id: RequestId(id),
            request,
        };
        self.node(at).handle_input(now, input);
        self.collect(at);
    }

    /// Steps until `count` answers arrived (or gives up), and returns them.
    fn answers_after_steps(&mut self, count: usize) -> Vec<(NodeId, RequestId, ClientResponse)> {
        for _ in 0..200 {
            if self.answers.len() >= count {
                break;
            }
            self.step();
        }
        std::mem::take(&mut self.answers)
    }
}

fn is_forward(payload: &[u8]) -> bool {
    matches!(
        decode_envelope(payload),
        Ok(Envelope {
            body: Body::Forward { .. },
            ..
        })
    )
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

fn get(key: &str, consistency: Consistency) -> ClientRequest {
    ClientRequest::Read {
        query: KvQuery::Get { key: key.into() }.into(),
        consistency,
    }
}

fn drain(node: &mut Node) -> Vec<Action> {
    std::iter::from_fn(|| node.poll_action()).collect()
}

fn responses(actions: &[Action]) -> Vec<(RequestId, ClientResponse)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Respond { id, response } => Some((*id, response.clone())),
            _ => None,
        })
        .collect()
}

/// The envelope inside a `Send` action.
fn sent(action: &Action) -> (NodeId, Envelope) {
    let Action::Send { to, frame } = action else {
        panic!("expected a Send, got {action:?}");
    };
    let envelope = decode_envelope(&frame[FRAME_HEADER_LEN..]).expect("a node sends valid frames");
    (*to, envelope)
}

fn frame_of(from: NodeId, to: NodeId, body: Body) -> Bytes {
    encode_envelope(&Envelope { from, to, body }).slice(FRAME_HEADER_LEN..)
}

/// A settled cluster and a follower of it holding one forwarded request (the write
/// `set(k, v)` as request 1); returns the forward's id too.
fn follower_with_forwarded_write() -> (Cluster, NodeId, NodeId, u64) {
    let mut cluster = Cluster::new(3);
    let leader = cluster.elect();
    let follower = cluster.follower(leader);
    let now = cluster.now;
    let node = cluster.node(follower);
    node.handle_input(
        now,
        Input::Request {
            id: RequestId(1),
            request: set("k", "v"),
        },
    );
    let actions = drain(node);
    let [action] = actions.as_slice() else {
        panic!("expected exactly one action, got {actions:?}");
    };
    let (to, envelope) = sent(action);
    assert_eq!(to, leader);
    assert_eq!((envelope.from, envelope.to), (follower, leader));
    let Body::Forward { id, request } = envelope.body else {
        panic!("expected a Forward, got {:?}", envelope.body);
    };
    assert_eq!(request, set("k", "v"));
    (cluster, leader, follower, id)
}

fn written() -> ClientResponse {
    ClientResponse::Written {
        index: LogIndex(7),
        result: CommandResult::Kv(KvCommandResult::Done(true)),
    }
}

#[test]
fn follower_forwards_a_write_to_the_leader_without_answering() {
    // The assertions live in the helper: exactly one Send, a Forward to the leader, no Respond.
    let (_, leader, follower, _) = follower_with_forwarded_write();
    assert_ne!(leader, follower);
}

#[test]
fn leaders_reply_answers_the_client_exactly_once() {
    let (mut cluster, leader, follower, id) = follower_with_forwarded_write();
    let now = cluster.now;
    let reply = frame_of(
        leader,
        follower,
        Body::ForwardReply {
            id,
            response: written(),
        },
    );
    let node = cluster.node(follower);
    node.handle_input(now, Input::Frame(reply.clone()));
    assert_eq!(
        drain(node),
        vec![Action::Respond {
            id: RequestId(1),
            response: written()
        }]
    );
    node.handle_input(now, Input::Frame(reply));
    assert_eq!(drain(node), vec![], "a duplicated reply answered twice");
}

#[test]
fn replies_with_unknown_ids_or_from_another_node_are_ignored() {
    let (mut cluster, leader, follower, id) = follower_with_forwarded_write();
    let other = *cluster
        .nodes
        .keys()
        .find(|&&n| n != leader && n != follower)
        .expect("a third node");
    let now = cluster.now;
    let node = cluster.node(follower);
    for (from, reply_id) in [(leader, id.wrapping_add(1)), (other, id)] {
        let body = Body::ForwardReply {
            id: reply_id,
            response: written(),
        };
        node.handle_input(now, Input::Frame(frame_of(from, follower, body)));
        assert_eq!(drain(node), vec![], "reply {reply_id} from {from:?}");
    }
}

#[test]
fn losing_the_leader_fails_forwarded_writes_as_lost_and_reads_as_not_leader() {
    let (mut cluster, leader, follower, _) = follower_with_forwarded_write();
    let now = cluster.now;
    let term = cluster.node(follower).raft().term();
    let node = cluster.node(follower);
    node.handle_input(
        now,
        Input::Request {
            id: RequestId(2),
            request: get("k", Consistency::Consistent),
        },
    );
    assert!(matches!(drain(node).as_slice(), [Action::Send { to, .. }] if *to == leader));
    // The leader hands leadership to this follower: it campaigns, and knows no leader meanwhile.
    let timeout_now = frame_of(
        leader,
        follower,
        Body::Raft(raft::Message::TimeoutNow { term }),
    );
    node.handle_input(now, Input::Frame(timeout_now));
    assert_eq!(node.raft().leader(), None);
    assert_eq!(
        responses(&drain(node)),
        vec![
            (
                RequestId(1),
                ClientResponse::Failed(ClientError::LeadershipLost)
            ),
            (
                RequestId(2),
                ClientResponse::Failed(ClientError::NotLeader { leader: None })
            ),
        ]
    );
}

#[test]
fn unanswered_forwards_time_out_writes_as_lost_and_reads_as_not_ready() {
    let mut cluster = Cluster::new(3);
    let leader = cluster.elect();
    let follower = cluster.follower(leader);
    cluster.drop_forwards = true;
    cluster.request(follower, 1, set("k", "v"));
    cluster.request(follower, 2, get("k", Consistency::Default));
    let sent_at = cluster.now;
    let answers = cluster.answers_after_steps(2);
    assert_eq!(
        answers,
        vec![
            (
                follower,
                RequestId(1),
                ClientResponse::Failed(ClientError::LeadershipLost)
            ),
            (
                follower,
                RequestId(2),
                ClientResponse::Failed(ClientError::NotReady)
            ),
        ]
    );
    let patience = Config::new(follower).election_timeout * 2;
    assert_eq!(cluster.now, sent_at + patience, "answered at the deadline");
    assert_eq!(cluster.node(follower).raft().leader(), Some(leader));
}

#[test]
fn a_forward_reaching_a_non_leader_is_refused_not_forwarded_again() {
    let mut cluster = Cluster::new(3);
    let leader = cluster.elect();
    let follower = cluster.follower(leader);
    let origin = *cluster
        .nodes
        .keys()
        .find(|&&n| n != leader && n != follower)
        .expect("a third node");
    let now = cluster.now;
    let forward = Body::Forward {
        id: 5,
        request: set("k", "v"),
    };
    let node = cluster.node(follower);
    node.handle_input(now, Input::Frame(frame_of(origin, follower, forward)));
    let actions = drain(node);
    let [action] = actions.as_slice() else {
        panic!("expected exactly one action, got {actions:?}");
    };
    let reply = Body::ForwardReply {
        id: 5,
        response: ClientResponse::Failed(ClientError::NotLeader {
            leader: Some(leader),
        }),
    };
    let envelope = Envelope {
        from: follower,
        to: origin,
        body: reply,
    };
    assert_eq!(sent(action), (origin, envelope));
}

#[test]
fn garbage_forward_bodies_are_dropped() {
    let mut cluster = Cluster::new(3);
    let leader = cluster.elect();
    let follower = cluster.follower(leader);
    let now = cluster.now;
    let forward = frame_of(
        follower,
        leader,
        Body::Forward {
            id: 5,
            request: set("k", "v"),
        },
    );
    let node = cluster.node(leader);
    for cut in 1..forward.len() {
        node.handle_input(now, Input::Frame(forward.slice(..cut)));
        assert_eq!(drain(node), vec![], "truncated at {cut}");
    }
    let mut bad_variant = forward.to_vec();
    let last = bad_variant.len() - 1;
    bad_variant[last] = 0xff;
    node.handle_input(now, Input::Frame(Bytes::from(bad_variant)));
    assert_eq!(drain(node), vec![]);
}

#[test]
fn a_duplicated_forward_is_proposed_once() {
    let mut cluster = Cluster::new(3);
    let leader = cluster.elect();
    let follower = cluster.follower(leader);
    let now = cluster.now;
    let forward = frame_of(
        follower,
        leader,
        Body::Forward {
            id: 5,
            request: set("k", "v"),
        },
    );
    let last_index = cluster.node(leader).raft().last_index();
    let node = cluster.node(leader);
    node.handle_input(now, Input::Frame(forward.clone()));
    node.handle_input(now, Input::Frame(forward));
    assert_eq!(node.raft().last_index(), last_index.next());
}

#[test]
fn stale_reads_on_a_follower_are_served_locally() {
    let mut cluster = Cluster::new(3);
    let leader = cluster.elect();
    let follower = cluster.follower(leader);
    let now = cluster.now;
    let node = cluster.node(follower);
    node.handle_input(
        now,
        Input::Request {
            id: RequestId(3),
            request: get("missing", Consistency::Stale),
        },
    );
    let actions = drain(node);
    let [Action::Respond { id, response }] = actions.as_slice() else {
        panic!("expected exactly one answer, got {actions:?}");
    };
    assert_eq!(*id, RequestId(3));
    assert!(
        matches!(response, ClientResponse::Read { result: QueryResult::Kv(KvQueryResult::Entries(e)), .. } if e.is_empty()),
        "{response:?}"
    );
}

#[test]
fn a_node_knowing_no_leader_refuses_reads_at_once() {
    let now = Instant::from_millis(1);
    let config = NodeConfig {
        raft: Config::new(NodeId(2)),
        snapshot_threshold: 1_000,
        snapshot_interval: crate::time::Duration::ZERO,
    };
    let mut node = Node::new(config, Recovered::default(), 7, now).expect("fresh node");
    node.handle_input(
        now,
        Input::Request {
            id: RequestId(4),
            request: get("k", Consistency::Default),
        },
    );
    assert_eq!(
        drain(&mut node),
        vec![Action::Respond {
            id: RequestId(4),
            response: ClientResponse::Failed(ClientError::NotLeader { leader: None })
        }]
    );
}

#[test]
fn a_write_sent_to_a_follower_commits_and_is_answered_there() {
    let mut cluster = Cluster::new(3);
    let leader = cluster.elect();
    let follower = cluster.follower(leader);
    cluster.request(follower, 1, set("k", "v"));
    let answers = cluster.answers_after_steps(1);
    let [(at, RequestId(1), ClientResponse::Written { index, result })] = answers.as_slice() else {
        panic!("expected one write answer, got {answers:?}");
    };
    assert_eq!(*at, follower);
    assert_eq!(*result, CommandResult::Kv(KvCommandResult::Done(true)));
    assert!(cluster.node(leader).raft().commit_index() >= *index);

    for (n, consistency) in [Consistency::Default, Consistency::Consistent]
        .into_iter()
        .enumerate()
    {
        let id = 10 + n as u64;
        cluster.request(follower, id, get("k", consistency));
        let answers = cluster.answers_after_steps(1);
        let [(at, got, ClientResponse::Read { result, .. })] = answers.as_slice() else {
            panic!("{consistency:?}: expected one read answer, got {answers:?}");
        };
        assert_eq!((*at, *got), (follower, RequestId(id)));
        let QueryResult::Kv(KvQueryResult::Entries(entries)) = result else {
            panic!("{consistency:?}: a Get answers entries, got {result:?}");
        };
        assert_eq!(entries.len(), 1, "{consistency:?}");
        assert_eq!(entries[0].value, Bytes::from_static(b"v"));
    }
}
