//! The gossip side of the HTTP API (`/v1/agent/members`, `join`, `force-leave`), the same on
//! servers and clients.

use synod_core::gossip::Member;

use super::join::{self, Pool};
use super::members_report::member_info;
use crate::http::agent_members::MemberInfo;
use crate::http::backend::NO_GOSSIP;
use crate::serf::SerfHandle;

/// `serf`, or the error the gossip endpoints answer when it does not run.
pub(crate) fn running(serf: Option<&SerfHandle>) -> Result<SerfHandle, String> {
    serf.cloned().ok_or_else(|| NO_GOSSIP.to_owned())
}

/// The LAN members as `/v1/agent/members` lists them.
pub(crate) fn members(serf: Option<&SerfHandle>) -> Result<Vec<MemberInfo>, String> {
    running(serf).map(|serf| serf.members().iter().map(member_info).collect())
}

/// Joins `pool` through `addr` (its default port when none is given).
pub(crate) async fn join(
    serf: Result<SerfHandle, String>,
    pool: Pool,
    addr: String,
) -> Result<usize, String> {
    let serf = serf?;
    let resolved = join::resolve(&addr, pool)
        .await
        .map_err(|e| format!("cannot resolve {addr:?}: {e}"))?;
    serf.join(&resolved)
        .await
        .map_err(|e| format!("failed to join {addr}: {e}"))
}

/// Consul's `force-leave [-prune]` on one pool: a failed member becomes left everywhere;
/// `prune` also removes it (or a left one) from every member list at once.
pub(crate) async fn force_leave(
    serf: Result<SerfHandle, String>,
    node: String,
    prune: bool,
) -> Result<(), String> {
    let serf = serf?;
    match serf
        .force_leave(&node, prune)
        .await
        .map_err(|e| e.to_string())?
    {
        true => Ok(()),
        false if is_member(&serf.members(), &node) => Ok(()),
        false => Err(format!("agent: No node found with name '{node}'")),
    }
}

fn is_member(members: &[Member], node: &str) -> bool {
    members.iter().any(|m| m.name == node)
}
