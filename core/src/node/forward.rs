//! Forwarding: a follower hands its clients' requests to the leader and relays the answer.
//!
//! Every forwarded request is answered exactly once on the origin: by the leader's reply, or by
//! an error when the leader changes, this node loses track of it, or the reply takes too long.
//! A node receiving a `Forward` serves it only while it leads and never forwards it again, so
//! requests cannot loop.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::ids::{NodeId, RequestId};
use crate::raft::Role;
use crate::time::Instant;
use crate::wire::Body;

use super::requests::Asker;
use super::{Action, ClientError, ClientRequest, ClientResponse, Consistency, Node};

/// The origin's side: requests sent to the leader, waiting for its reply.
#[derive(Debug)]
pub(super) struct Forwarded {
    next_id: u64,
    /// Ids grow with time and `now` never goes backwards (driver contract), so the first entry
    /// has the earliest deadline.
    by_id: BTreeMap<u64, InFlight>,
    /// The leader's side: forwards served lately, so that a duplicated frame is not proposed
    /// twice. Arrival order, which is also expiry order.
    served: VecDeque<(Instant, NodeId, u64)>,
    served_set: BTreeSet<(NodeId, u64)>,
}

#[derive(Debug)]
struct InFlight {
    client: RequestId,
    leader: NodeId,
    is_write: bool,
    deadline: Instant,
}

impl Forwarded {
    /// `seed` picks the first id at random, so a reply meant for this node before a restart
    /// does not match a request made after it. Halved so ids never wrap in practice.
    pub(super) fn starting_at(seed: u64) -> Self {
        Forwarded {
            next_id: seed >> 1,
            by_id: BTreeMap::new(),
            served: VecDeque::new(),
            served_set: BTreeSet::new(),
        }
    }

    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.by_id.values().next().map(|f| f.deadline)
    }

    fn insert(&mut self, in_flight: InFlight) -> u64 {
        self.next_id = self.next_id.wrapping_add(1);
        self.by_id.insert(self.next_id, in_flight);
        self.next_id
    }

    /// Records `(from, id)` as served until `until`; false if it was already served.
    fn first_delivery(&mut self, now: Instant, until: Instant, from: NodeId, id: u64) -> bool {
        while let Some(&(expiry, node, old)) = self.served.front()
            && expiry <= now
        {
            self.served.pop_front();
            self.served_set.remove(&(node, old));
        }
        if !self.served_set.insert((from, id)) {
            return false;
        }
        self.served.push_back((until, from, id));
        true
    }
}

impl Node {
    /// A client request: served here when this node leads or the read may be stale, handed to
    /// the known leader otherwise.
    pub(super) fn handle_client_request(
        &mut self,
        now: Instant,
        id: RequestId,
        request: ClientRequest,
    ) {
        let stale_read = matches!(
            request,
            ClientRequest::Read {
                consistency: Consistency::Stale,
                ..
            }
        );
        if stale_read || self.raft.role() == Role::Leader {
            return self.handle_request(now, Asker::Client(id), request);
        }
        match self.raft.leader() {
            Some(leader) if leader != self.id() => self.forward(now, leader, id, request),
            leader => self.respond_error(Asker::Client(id), ClientError::NotLeader { leader }),
        }
    }

    fn forward(&mut self, now: Instant, leader: NodeId, client: RequestId, request: ClientRequest) {
        let in_flight = InFlight {
            client,
            leader,
            is_write: matches!(request, ClientRequest::Write(_)),
            deadline: now.saturating_add(self.forward_patience()),
        };
        let id = self.forwarded.insert(in_flight);
        self.send(leader, Body::Forward { id, request });
    }

    /// How long the origin waits for the leader's reply: two election timeouts, by which time
    /// a leader that cannot answer has normally been replaced.
    fn forward_patience(&self) -> crate::time::Duration {
        self.config.raft.election_timeout * 2
    }

    /// A peer's `Forward`: served like a local request while this node leads, refused with the
    /// leader to retry at otherwise. Duplicated frames are dropped so a write is proposed once.
    pub(super) fn handle_forwarded(
        &mut self,
        now: Instant,
        from: NodeId,
        id: u64,
        request: ClientRequest,
    ) {
        // Kept past the origin's own patience: by then it has given up on this id.
        let until = now.saturating_add(self.forward_patience() * 2);
        if !self.forwarded.first_delivery(now, until, from, id) {
            return;
        }
        let asker = Asker::Peer { node: from, id };
        if self.raft.role() != Role::Leader {
            let leader = self.raft.leader();
            return self.respond_error(asker, ClientError::NotLeader { leader });
        }
        self.handle_request(now, asker, request);
    }

    /// The leader's answer: relayed to the client if it is still waiting for it from that
    /// leader; duplicates and late or foreign replies are ignored.
    pub(super) fn forward_replied(&mut self, from: NodeId, id: u64, response: ClientResponse) {
        let Some(in_flight) = self.forwarded.by_id.get(&id) else {
            return;
        };
        if in_flight.leader != from {
            return;
        }
        let client = in_flight.client;
        self.forwarded.by_id.remove(&id);
        self.out.push_back(Action::Respond {
            id: client,
            response,
        });
    }

    /// Once the leader changes (or is unknown), its replies may never come: writes are answered
    /// `LeadershipLost` (outcome unknown), reads `NotLeader` (no effect).
    pub(super) fn fail_forwards_to_former_leader(&mut self) {
        let leader = self.raft.leader();
        // Every request in flight went to the leader known when it was forwarded, and each
        // change fails them all, so they share one leader: checking the first is enough.
        let Some(first) = self.forwarded.by_id.values().next() else {
            return;
        };
        if Some(first.leader) == leader {
            return;
        }
        let failed = std::mem::take(&mut self.forwarded.by_id);
        for in_flight in failed.into_values() {
            let error = if in_flight.is_write {
                ClientError::LeadershipLost
            } else {
                ClientError::NotLeader { leader }
            };
            self.respond_error(Asker::Client(in_flight.client), error);
        }
    }

    /// Requests the leader did not answer in time: writes `LeadershipLost` (outcome unknown),
    /// reads `NotReady` (no effect, retry).
    pub(super) fn expire_forwards(&mut self, now: Instant) {
        while let Some(entry) = self.forwarded.by_id.first_entry()
            && entry.get().deadline <= now
        {
            let in_flight = entry.remove();
            let error = if in_flight.is_write {
                ClientError::LeadershipLost
            } else {
                ClientError::NotReady
            };
            self.respond_error(Asker::Client(in_flight.client), error);
        }
    }
}
