//! Client requests: turning them into proposals and reads, and answering each exactly once.

use std::collections::BTreeMap;

use crate::ids::{LogIndex, NodeId, ReadId, RequestId, Term};
use crate::raft::{ProposeError, ReadError, Role};
use crate::state::{self, CommandResult, Query};
use crate::time::Instant;
use crate::wire::Body;

use super::{Action, ClientError, ClientRequest, ClientResponse, Consistency, Node};

/// Who gets a request's answer.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Asker {
    /// A client of this node.
    Client(RequestId),
    /// The follower `node` that forwarded the request as `Body::Forward { id, .. }`.
    Peer {
        /// The origin.
        node: NodeId,
        /// The origin's forward id.
        id: u64,
    },
}

/// Requests in flight, each in exactly one of these maps.
#[derive(Debug, Default)]
pub(super) struct Pending {
    /// Proposed writes by log index, with the term they were proposed in: the entry applied at
    /// that index answers the request only if its term matches.
    writes: BTreeMap<LogIndex, (Asker, Term)>,
    /// Reads waiting for a ReadIndex round.
    read_rounds: BTreeMap<ReadId, (Asker, Query)>,
    /// Reads whose linearization point is known, waiting for the state to reach that index.
    caught_up_at: BTreeMap<LogIndex, Vec<(Asker, Query)>>,
    /// Reads that reached a leader before it committed an entry of its term: retried after the
    /// next apply rather than failed, so a freshly elected leader just answers a little later.
    until_leader_ready: Vec<(Asker, Query, Consistency)>,
}

impl Node {
    pub(super) fn handle_request(&mut self, now: Instant, asker: Asker, request: ClientRequest) {
        match request {
            ClientRequest::Write(command) => self.propose(now, asker, command),
            ClientRequest::Read { query, consistency } => self.read(now, asker, query, consistency),
        }
    }

    fn read(&mut self, now: Instant, asker: Asker, query: Query, consistency: Consistency) {
        match consistency {
            Consistency::Stale => self.answer_read(asker, &query),
            Consistency::Default => match self.raft.lease_read(now) {
                Ok(index) => self.read_at(index, asker, query),
                // Lease not established (e.g. quorum not heard from lately): a ReadIndex
                // round gives the same guarantee, a little later.
                Err(ReadError::LeaseExpired) => self.read_round(now, asker, query),
                Err(ReadError::NotReady) => self.wait_for_leader_ready(asker, query, consistency),
                Err(error) => self.respond_error(asker, read_error(error)),
            },
            Consistency::Consistent => self.read_round(now, asker, query),
        }
    }

    fn wait_for_leader_ready(&mut self, asker: Asker, query: Query, consistency: Consistency) {
        self.pending
            .until_leader_ready
            .push((asker, query, consistency));
    }

    /// Retries reads parked by [`Self::wait_for_leader_ready`]: on a leader they run again (and
    /// park again if it is still not ready); elsewhere they fail with the leader to retry at.
    pub(super) fn retry_reads_awaiting_leader(&mut self, now: Instant) {
        let parked = std::mem::take(&mut self.pending.until_leader_ready);
        let is_leader = self.raft.role() == Role::Leader;
        for (asker, query, consistency) in parked {
            if is_leader {
                self.read(now, asker, query, consistency);
            } else {
                let leader = self.raft.leader();
                self.respond_error(asker, ClientError::NotLeader { leader });
            }
        }
    }

    fn propose(&mut self, now: Instant, asker: Asker, command: state::Command) {
        let bytes = state::encode_command(&command);
        match self.raft.propose(now, bytes) {
            Ok(index) => {
                let term = self.raft.term();
                self.pending.writes.insert(index, (asker, term));
            }
            Err(error) => self.respond_error(asker, propose_error(error)),
        }
    }

    fn read_round(&mut self, now: Instant, asker: Asker, query: Query) {
        let read = self.next_read_id();
        self.pending.read_rounds.insert(read, (asker, query));
        self.raft.read_index(now, read);
    }

    fn read_at(&mut self, index: LogIndex, asker: Asker, query: Query) {
        if self.state.index() >= index.0 {
            self.answer_read(asker, &query);
        } else {
            self.pending
                .caught_up_at
                .entry(index)
                .or_default()
                .push((asker, query));
        }
    }

    pub(super) fn read_ready(&mut self, read: ReadId, index: LogIndex) {
        if let Some((asker, query)) = self.pending.read_rounds.remove(&read) {
            self.read_at(index, asker, query);
        }
    }

    pub(super) fn read_failed(&mut self, read: ReadId, error: ReadError) {
        if let Some((asker, query)) = self.pending.read_rounds.remove(&read) {
            match error {
                ReadError::NotReady => {
                    self.wait_for_leader_ready(asker, query, Consistency::Consistent)
                }
                error => self.respond_error(asker, read_error(error)),
            }
        }
    }

    /// Answers reads whose required index the state has now reached, in index order.
    pub(super) fn serve_caught_up_reads(&mut self) {
        let applied = LogIndex(self.state.index());
        let later = self.pending.caught_up_at.split_off(&applied.next());
        let ready = std::mem::replace(&mut self.pending.caught_up_at, later);
        for (asker, query) in ready.into_values().flatten() {
            self.answer_read(asker, &query);
        }
    }

    /// Called for every applied entry: answers the write proposed at `index`, if any.
    pub(super) fn answer_write(
        &mut self,
        index: LogIndex,
        term: Term,
        result: Option<CommandResult>,
    ) {
        let Some((asker, proposed_in)) = self.pending.writes.remove(&index) else {
            return;
        };
        let response = match result {
            Some(result) if proposed_in == term => ClientResponse::Written { index, result },
            // Another leader's entry took this index: ours was overwritten and never applied.
            _ => ClientResponse::Failed(ClientError::LeadershipLost),
        };
        self.respond(asker, response);
    }

    /// On losing leadership, writes still in flight may or may not commit: say so now rather
    /// than leaving clients waiting on a log this node no longer controls.
    pub(super) fn fail_unconfirmed_writes(&mut self) {
        let writes = std::mem::take(&mut self.pending.writes);
        for (asker, _) in writes.into_values() {
            self.respond_error(asker, ClientError::LeadershipLost);
        }
    }

    /// A restored snapshot covers these indexes; their writes' fate is unknown here.
    pub(super) fn fail_writes_through(&mut self, index: LogIndex) {
        let later = self.pending.writes.split_off(&index.next());
        let covered = std::mem::replace(&mut self.pending.writes, later);
        for (asker, _) in covered.into_values() {
            self.respond_error(asker, ClientError::LeadershipLost);
        }
    }

    fn answer_read(&mut self, asker: Asker, query: &Query) {
        let (result, index) = self.state.query(query);
        let response = ClientResponse::Read { index, result };
        self.respond(asker, response);
    }

    pub(super) fn respond_error(&mut self, asker: Asker, error: ClientError) {
        self.respond(asker, ClientResponse::Failed(error));
    }

    /// Answers a local client directly, a forwarding follower with a `ForwardReply`.
    pub(super) fn respond(&mut self, asker: Asker, response: ClientResponse) {
        match asker {
            Asker::Client(id) => self.out.push_back(Action::Respond { id, response }),
            Asker::Peer { node, id } => self.send(node, Body::ForwardReply { id, response }),
        }
    }
}

fn propose_error(error: ProposeError) -> ClientError {
    match error {
        ProposeError::NotLeader { leader } => ClientError::NotLeader { leader },
        ProposeError::TransferInProgress
        | ProposeError::MembershipChangePending
        | ProposeError::InvalidMembershipChange(_) => ClientError::NotReady,
    }
}

fn read_error(error: ReadError) -> ClientError {
    match error {
        ReadError::NotLeader { leader } => ClientError::NotLeader { leader },
        ReadError::NotReady | ReadError::LeaseExpired => ClientError::NotReady,
    }
}
