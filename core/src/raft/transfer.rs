//! Leadership transfer (thesis §3.10): stop taking proposals, catch the target up, then tell
//! it to campaign at once with `TimeoutNow`; give up after an election timeout.

use crate::ids::NodeId;
use crate::raft::{Message, ProposeError, Raft};
use crate::time::Instant;

/// A transfer in progress.
#[derive(Debug)]
pub(crate) struct Transfer {
    pub(crate) to: NodeId,
    pub(crate) deadline: Instant,
    timeout_now_sent: bool,
}

impl Raft {
    pub(super) fn start_transfer(&mut self, to: NodeId) -> Result<(), ProposeError> {
        self.check_can_propose()?;
        if to == self.config.id || !self.configs.current().is_voter(to) {
            return Err(ProposeError::InvalidMembershipChange(
                "transfer target must be another voter",
            ));
        }
        self.transfer = Some(Transfer {
            to,
            deadline: self.now + self.config.election_timeout,
            timeout_now_sent: false,
        });
        self.maybe_send_timeout_now();
        if self.transfer.as_ref().is_some_and(|t| !t.timeout_now_sent) {
            self.send_append(to);
        }
        Ok(())
    }

    /// Once the target holds our whole log, tell it to campaign.
    pub(super) fn maybe_send_timeout_now(&mut self) {
        let last = self.log.last_index();
        let Some(transfer) = self.transfer.as_mut() else {
            return;
        };
        let caught_up = self
            .progress
            .get(&transfer.to)
            .is_some_and(|p| p.match_index >= last);
        if transfer.timeout_now_sent || !caught_up {
            return;
        }
        transfer.timeout_now_sent = true;
        let to = transfer.to;
        // Voters will ignore their lease for the target's election, so ours is void for a while.
        self.lease_blocked_until = self.now + self.config.election_timeout * 2;
        let term = self.term;
        self.send(to, Message::TimeoutNow { term });
    }

    pub(super) fn check_transfer_deadline(&mut self) {
        if self
            .transfer
            .as_ref()
            .is_some_and(|t| self.now >= t.deadline)
        {
            self.transfer = None;
        }
    }
}
