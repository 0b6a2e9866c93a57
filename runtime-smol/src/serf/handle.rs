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
        reply: Sender<usize>,
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
    /// The user event was refused (too large for one datagram).
    UserEvent(UserEventError),
}

impl std::fmt::Display for SerfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SerfError::Stopped => f.write_str("gossip is not running"),
            SerfError::JoinFailed => f.write_str("no join address could be reached"),
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

    /// Our node name.
    pub fn local_name(&self) -> &str {
        &self.local_name
    }

    /// The gossip address we advertise (UDP and TCP).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Push-pulls with every address in `addrs`; returns how many were reached (the members
    /// they know arrive shortly after). Fails if none was.
    pub async fn join(&self, addrs: &[SocketAddr]) -> Result<usize, SerfError> {
        let (reply, answer) = async_channel::bounded(1);
        self.send(Command::Join {
            addrs: addrs.to_vec(),
            reply,
        })
        .await?;
        match answer.recv().await {
            Ok(0) if !addrs.is_empty() => Err(SerfError::JoinFailed),
            Ok(reached) => Ok(reached),
            Err(_) => Err(SerfError::Stopped),
        }
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

    /// Consul's `force-leave`: marks a failed member left across the pool. `Ok(false)` when
    /// `name` is not a failed member.
    pub async fn force_leave(&self, name: &str) -> Result<bool, SerfError> {
        let (reply, answer) = async_channel::bounded(1);
        self.send(Command::ForceLeave {
            name: name.to_owned(),
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
