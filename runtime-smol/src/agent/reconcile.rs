//! The leader's gossip → catalog reconciliation loop: whenever this server leads, it applies
//! [`plan`] through Raft on every member change, right after winning leadership, and
//! periodically (repairing catalog edits that contradict gossip).
//!
//! Member changes are noticed by polling the shared member list, not by draining gossip's event
//! channel: that channel has room for a single consumer and is left to whoever needs events.

use std::time::{Duration, Instant};

use smol::Timer;
use synod_core::gossip::Member;
use synod_core::node::{ClientRequest, ClientResponse};
use synod_core::raft::Role;
use synod_core::state::CommandResult;
use synod_core::state::catalog::types::{CatalogCommand, CatalogCommandResult};

use super::reconcile_plan::{Local, plan};
use crate::serf::SerfHandle;
use crate::shell::NodeHandle;
use crate::shell::log::Log;

/// How often the member list is compared with the last one reconciled.
const POLL_EVERY: Duration = Duration::from_millis(200);
/// A full pass runs at least this often while leading, member changes or not.
const FULL_PASS_EVERY: Duration = Duration::from_secs(10);

/// Runs until the node stops.
pub(crate) async fn run(serf: SerfHandle, node: NodeHandle, local: Local, log: Log) {
    let mut last: Option<(Vec<Member>, Instant)> = None;
    while !node.is_stopped() {
        Timer::after(POLL_EVERY).await;
        if node.status().role != Role::Leader {
            // Leading again later starts with a full pass.
            last = None;
            continue;
        }
        let members = serf.members();
        let due = match &last {
            None => true,
            Some((seen, at)) => *seen != members || at.elapsed() >= FULL_PASS_EVERY,
        };
        if !due {
            continue;
        }
        let commands = plan(&members, node.view().catalog(), &local);
        let mut all_applied = true;
        for command in commands {
            all_applied &= apply(&node, command, &log).await;
        }
        // A failed write (leadership moving, a slow commit) is retried on the next poll.
        last = all_applied.then(|| (members, Instant::now()));
    }
}

/// Writes one reconciliation command; whether it was applied.
async fn apply(node: &NodeHandle, command: CatalogCommand, log: &Log) -> bool {
    let what = match &command {
        CatalogCommand::Register(r) => format!(
            "registering node {} (serfHealth {})",
            r.node.node,
            r.checks.first().map_or("", |c| c.status.as_str())
        ),
        CatalogCommand::Deregister(d) => format!("deregistering node {}", d.node),
    };
    match node.request(ClientRequest::Write(command.into())).await {
        ClientResponse::Written {
            result: CommandResult::Catalog(CatalogCommandResult::Done),
            ..
        } => {
            log.debug("agent.leader", format_args!("{what}"));
            true
        }
        other => {
            log.debug("agent.leader", format_args!("{what} postponed: {other:?}"));
            false
        }
    }
}
