//! [`SerfHandle`]: how the rest of the agent talks to a running gossip driver.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use async_channel::{Receiver, Sender};
use synod_core::gossip::{Event, Member, Tags, UserEventError};

use super::stats::{Counters, SerfStats};

/// Requests the driver task carries out.
pub(crate) enum Command {
    Join {
        addrs: Vec<SocketAddr>,
        reply: Sender<Result<usize, SerfError>>,
    },
    Leave {
        reply: Sender<()>,
    },
    UserEvent {
        name: String,
        payload: Vec<u8>,
        coalesce: bool,
        reply: Sender<Result<(), UserEventError>>,
    },
    SetTags(Tags),
    ForceLeave {
        name: String,
        prune: bool,
        reply: Sender<bool>,
    },
}

/// Why a request to the driver failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SerfError {
    /// The driver task is no longer running.
    Stopped,
    /// No address given to `join` could be reached.
    JoinFailed,
    /// Join addresses were reached but none answered in time: most often a gossip key
    /// mismatch (or a plain agent joining an encrypted pool, or the reverse).
    JoinUnanswered {
        /// How many push-pulls were delivered.
        contacted: usize,
    },
    /// The user event was refused (too large for one datagram).
    UserEvent(UserEventError),
}

impl std::fmt::Display for SerfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SerfError::Stopped => f.write_str("gossip is not running"),
            SerfError::JoinFailed => f.write_str("no join address could be reached"),
            SerfError::JoinUnanswered { contacted } => write!(
                f,
                "reached {contacted} agent(s) but none answered the join: is gossip encryption \
                 configured with the same key on both sides (-encrypt)?"
            ),
            SerfError::UserEvent(e) => write!(f, "user event refused: {e:?}"),
        }
    }
}

impl std::error::Error for SerfError {}

/// The member list as of the driver's last change, shared with every handle.
pub(crate) type SharedMembers = Arc<Mutex<Vec<Member>>>;

/// A cheap, cloneable, `Send` handle on a running driver. When every handle is dropped the
/// driver stops; dropping the driver's task stops it too (without leaving).
#[derive(Clone)]
pub struct SerfHandle {
    pub(crate) commands: Sender<Command>,
    pub(crate) members: SharedMembers,
    pub(crate) events: Receiver<Event>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) local_name: String,
    pub(crate) local_addr: SocketAddr,
}

impl SerfHandle {
    /// Every known member, ourselves included, ordered by name.
    pub fn members(&self) -> Vec<Member> {
        self.members
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The datacenters (`dc` tags) of the members that have not left, sorted, without
    /// duplicates. On the WAN pool these are all the datacenters this server knows of: what
    /// `/v1/catalog/datacenters` lists (a failed server's datacenter stays known, as Consul's
    /// router keeps it until the member is reaped).
    pub fn datacenters(&self) -> Vec<String> {
        let members = self.members();
        let known: std::collections::BTreeSet<&str> = members
            .iter()
            .filter(|m| m.status != synod_core::gossip::MemberStatus::Left)
            .filter_map(|m| m.tags.get("dc").map(String::as_str))
            .collect();
        known.into_iter().map(str::to_owned).collect()
    }

    /// Our node name.
    pub fn local_name(&self) -> &str {
        &self.local_name
    }

    /// The gossip address we advertise (UDP and TCP).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Push-pulls with every address in `addrs`; returns how many agents answered (their
    /// members are merged by then). Fails if none was reached, or none of those reached
    /// answered within the join timeout (an answer that does not decrypt does not count).
    pub async fn join(&self, addrs: &[SocketAddr]) -> Result<usize, SerfError> {
        if addrs.is_empty() {
            return Ok(0);
        }
        let (reply, answer) = async_channel::bounded(1);
        self.send(Command::Join {
            addrs: addrs.to_vec(),
            reply,
        })
        .await?;
        answer.recv().await.unwrap_or(Err(SerfError::Stopped))
    }

    /// Leaves gracefully: announces it and returns once the news has been gossiped (or after
    /// the configured leave timeout). The driver keeps running until dropped.
    pub async fn leave(&self) -> Result<(), SerfError> {
        let (reply, answer) = async_channel::bounded(1);
        self.send(Command::Leave { reply }).await?;
        answer.recv().await.map_err(|_| SerfError::Stopped)
    }

    /// Sends a user event to the pool (delivered locally too).
    pub async fn user_event(
        &self,
        name: &str,
        payload: &[u8],
        coalesce: bool,
    ) -> Result<(), SerfError> {
        let (reply, answer) = async_channel::bounded(1);
        self.send(Command::UserEvent {
            name: name.to_owned(),
            payload: payload.to_vec(),
            coalesce,
            reply,
        })
        .await?;
        match answer.recv().await {
            Ok(result) => result.map_err(SerfError::UserEvent),
            Err(_) => Err(SerfError::Stopped),
        }
    }

    /// Replaces our tags and announces them.
    pub async fn set_tags(&self, tags: Tags) -> Result<(), SerfError> {
        self.send(Command::SetTags(tags)).await
    }

    /// Consul's `force-leave`: marks a failed member left across the pool; with `prune` a
    /// failed or left member is removed from every member list at once. `Ok(false)` when
    /// `name` is not such a member.
    pub async fn force_leave(&self, name: &str, prune: bool) -> Result<bool, SerfError> {
        let (reply, answer) = async_channel::bounded(1);
        self.send(Command::ForceLeave {
            name: name.to_owned(),
            prune,
            reply,
        })
        .await?;
        answer.recv().await.map_err(|_| SerfError::Stopped)
    }

    /// Membership changes and user events. Every clone of the receiver competes for the same
    /// events, so have one consumer; events are dropped (and counted) while it lags behind.
    pub fn events(&self) -> Receiver<Event> {
        self.events.clone()
    }

    /// Traffic and error counters.
    pub fn stats(&self) -> SerfStats {
        self.counters.snapshot()
    }

    async fn send(&self, command: Command) -> Result<(), SerfError> {
        self.commands
            .send(command)
            .await
            .map_err(|_| SerfError::Stopped)
    }
}
