//! Elections: randomized timeouts, pre-vote, votes, and role transitions.

use crate::ids::{NodeId, Term};
use crate::raft::persist::AfterPersist;
use crate::raft::{Message, Raft, ReadError, Role, VoteRequest, VoteResponse};

impl Raft {
    /// Restart the election timer; `redraw` picks a new random timeout in
    /// `[t, t + jitter)` (done on every role change so that nodes which collided once do not
    /// collide again).
    pub(super) fn reset_election_timer(&mut self, redraw: bool) {
        if redraw {
            let base = self.config.election_timeout;
            let jitter = self.config.election_jitter.unwrap_or(base);
            self.election_timeout = self.rng.duration(base, base + jitter);
        }
        self.election_deadline = self.now + self.election_timeout;
    }

    /// Whether this node may start elections: a voter that has not been removed.
    pub(super) fn can_campaign(&self) -> bool {
        !self.removed && self.configs.current().is_voter(self.config.id)
    }

    /// Whether a leader was heard from within the (minimum) election timeout.
    pub(super) fn in_leader_lease(&self) -> bool {
        if self.role == Role::Leader {
            return true;
        }
        self.leader.is_some()
            && self
                .last_leader_contact
                .is_some_and(|t| self.now.saturating_since(t) < self.config.election_timeout)
    }

    pub(super) fn become_follower(&mut self, term: Term, leader: Option<NodeId>) {
        if term > self.term {
            self.term = term;
            self.vote = None;
            self.stage_hard_state();
        }
        let was_leader = self.role == Role::Leader;
        self.set_role(Role::Follower);
        self.set_leader(leader);
        if was_leader {
            self.on_leadership_lost();
        }
        self.votes.clear();
        self.reset_election_timer(true);
    }

    /// Start an election: a pre-vote round first unless disabled or asked by `TimeoutNow`.
    pub(super) fn campaign(&mut self, transfer: bool) {
        if !self.can_campaign() {
            return;
        }
        if self.config.pre_vote && !transfer {
            self.become_pre_candidate();
        } else {
            self.become_candidate(transfer);
        }
    }

    fn become_pre_candidate(&mut self) {
        self.set_leader(None);
        self.set_role(Role::PreCandidate);
        self.votes.clear();
        self.votes.insert(self.config.id, true);
        self.reset_election_timer(true);
        let req = self.vote_request(self.term.next(), false);
        for to in self.other_voters() {
            self.send(to, Message::PreVote(req.clone()));
        }
        self.check_election_result();
    }

    fn become_candidate(&mut self, transfer: bool) {
        self.term = self.term.next();
        self.vote = Some(self.config.id);
        self.stage_hard_state();
        self.set_leader(None);
        self.set_role(Role::Candidate);
        self.votes.clear();
        self.self_vote_durable = false;
        self.reset_election_timer(true);
        let req = self.vote_request(self.term, transfer);
        for to in self.other_voters() {
            self.send(to, Message::Vote(req.clone()));
        }
        // Our own vote only counts once it is on disk.
        self.after_persist(AfterPersist::SelfVote(self.term));
    }

    fn vote_request(&self, term: Term, transfer: bool) -> VoteRequest {
        VoteRequest {
            term,
            last_log_index: self.log.last_index(),
            last_log_term: self.log.last_term(),
            transfer,
        }
    }

    pub(super) fn other_voters(&self) -> Vec<NodeId> {
        let me = self.config.id;
        self.configs
            .current()
            .voter_ids()
            .filter(|&id| id != me)
            .collect()
    }

    pub(super) fn count_self_vote(&mut self, term: Term) {
        if self.role == Role::Candidate && self.term == term {
            self.self_vote_durable = true;
            self.votes.insert(self.config.id, true);
            self.check_election_result();
        }
    }

    pub(super) fn handle_pre_vote(&mut self, from: NodeId, req: VoteRequest) {
        let granted = req.term > self.term
            && (req.transfer || !self.in_leader_lease())
            && self
                .log
                .is_up_to_date(req.last_log_index, req.last_log_term);
        let term = if granted { req.term } else { self.term };
        self.send(
            from,
            Message::PreVoteResponse(VoteResponse { term, granted }),
        );
    }

    pub(super) fn handle_vote(&mut self, from: NodeId, req: VoteRequest) {
        let can_vote = self.vote == Some(from) || (self.vote.is_none() && self.leader.is_none());
        let granted = can_vote
            && self
                .log
                .is_up_to_date(req.last_log_index, req.last_log_term);
        let resp = Message::VoteResponse(VoteResponse {
            term: self.term,
            granted,
        });
        if granted {
            self.vote = Some(from);
            self.stage_hard_state();
            self.reset_election_timer(false);
            // The grant promises we will not vote again this term: only once that is durable.
            self.send_when_durable(from, resp);
        } else {
            self.send(from, resp);
        }
    }

    pub(super) fn handle_pre_vote_response(&mut self, from: NodeId, resp: VoteResponse) {
        if self.role != Role::PreCandidate || (resp.granted && resp.term != self.term.next()) {
            return;
        }
        self.record_vote(from, resp.granted);
    }

    pub(super) fn handle_vote_response(&mut self, from: NodeId, resp: VoteResponse) {
        if self.role != Role::Candidate || resp.term != self.term {
            return;
        }
        self.record_vote(from, resp.granted);
    }

    fn record_vote(&mut self, from: NodeId, granted: bool) {
        if !self.configs.current().is_voter(from) {
            return;
        }
        self.votes.entry(from).or_insert(granted);
        self.check_election_result();
    }

    fn check_election_result(&mut self) {
        let membership = self.configs.current();
        let quorum = membership.quorum();
        let count = |want: bool| {
            membership
                .voter_ids()
                .filter(|id| self.votes.get(id) == Some(&want))
                .count()
        };
        let (granted, rejected) = (count(true), count(false));
        if granted >= quorum {
            match self.role {
                Role::PreCandidate => self.become_candidate(false),
                Role::Candidate => self.become_leader(),
                _ => {}
            }
        } else if rejected >= quorum {
            let term = self.term;
            self.become_follower(term, None);
        }
    }

    pub(super) fn handle_timeout_now(&mut self, from: NodeId) {
        if self.role != Role::Leader && self.leader == Some(from) {
            self.campaign(true);
        }
    }

    /// Leaving the leader role: pending reads cannot be confirmed any more.
    fn on_leadership_lost(&mut self) {
        self.progress.clear();
        self.transfer = None;
        self.heartbeat_deadline = crate::time::Instant::MAX;
        while let Some(read) = self.reads.pop_front() {
            let error = ReadError::NotLeader {
                leader: self.leader,
            };
            self.actions
                .push_back(crate::raft::Action::ReadFailed { id: read.id, error });
        }
    }
}
