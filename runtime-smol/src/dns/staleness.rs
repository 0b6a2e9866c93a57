//! Whether this agent's applied state may answer a query (Consul's `dns_config.allow_stale`
//! and `max_stale`). Consul sends non-stale DNS reads to the leader; synod answers from the
//! local state, so "not stale" here means: the leader itself, or a follower that heard from the
//! leader within [`LEASE`] and has applied everything it knows to be committed.

use std::time::Duration;

use super::options::DEFAULT_MAX_STALE;

/// How recently a follower must have heard from the leader to answer a non-stale query (the
/// leader's heartbeats arrive well within this).
pub(crate) const LEASE: Duration = Duration::from_secs(1);
/// How long a non-stale query waits for this node to apply what it knows is committed.
pub(crate) const CATCH_UP: Duration = Duration::from_secs(1);

/// What the node reports about its own freshness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Freshness {
    /// This node leads.
    pub leader: bool,
    /// Time since the leader was last heard from (`None`: no leader known).
    pub last_contact: Option<Duration>,
    /// This node has applied less than it knows to be committed.
    pub behind: bool,
}

/// The decision for one query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Answer from the published state now.
    Answer,
    /// Wait (up to [`CATCH_UP`]) until the committed entries are applied, then answer.
    CatchUp,
    /// Too stale to answer: SERVFAIL.
    Refuse,
}

/// The configured policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Staleness {
    pub(crate) allow_stale: bool,
    pub(crate) max_stale: Duration,
}

impl Staleness {
    /// True when every query is answered from the published state without asking the node
    /// (Consul's defaults): the hot path skips reading its status.
    pub(crate) fn unbounded(self) -> bool {
        self.allow_stale && self.max_stale >= DEFAULT_MAX_STALE
    }

    pub(crate) fn verdict(self, f: Freshness) -> Verdict {
        if f.leader {
            return Verdict::Answer;
        }
        let Some(contact) = f.last_contact else {
            return if self.allow_stale && self.unbounded() {
                Verdict::Answer
            } else {
                Verdict::Refuse
            };
        };
        if self.allow_stale {
            if contact <= self.max_stale {
                Verdict::Answer
            } else {
                Verdict::Refuse
            }
        } else if contact > LEASE {
            Verdict::Refuse
        } else if f.behind {
            Verdict::CatchUp
        } else {
            Verdict::Answer
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FOLLOWER: Freshness = Freshness {
        leader: false,
        last_contact: Some(Duration::from_millis(100)),
        behind: false,
    };

    fn policy(allow_stale: bool, max_stale: Duration) -> Staleness {
        Staleness {
            allow_stale,
            max_stale,
        }
    }

    #[test]
    fn the_leader_always_answers() {
        let leader = Freshness {
            leader: true,
            last_contact: Some(Duration::ZERO),
            behind: true,
        };
        for p in [
            policy(true, DEFAULT_MAX_STALE),
            policy(true, Duration::ZERO),
            policy(false, DEFAULT_MAX_STALE),
        ] {
            assert_eq!(p.verdict(leader), Verdict::Answer, "{p:?}");
        }
    }

    #[test]
    fn stale_reads_answer_within_max_stale_and_refuse_beyond_it() {
        let p = policy(true, Duration::from_secs(5));
        assert!(!p.unbounded());
        assert_eq!(p.verdict(FOLLOWER), Verdict::Answer);
        let late = Freshness {
            last_contact: Some(Duration::from_secs(6)),
            ..FOLLOWER
        };
        assert_eq!(p.verdict(late), Verdict::Refuse);
        let orphan = Freshness {
            last_contact: None,
            ..FOLLOWER
        };
        assert_eq!(p.verdict(orphan), Verdict::Refuse);
        assert!(policy(true, DEFAULT_MAX_STALE).unbounded());
        assert_eq!(
            policy(true, DEFAULT_MAX_STALE).verdict(orphan),
            Verdict::Answer
        );
    }

    #[test]
    fn non_stale_reads_need_a_recent_leader_and_catch_up_first() {
        let p = policy(false, DEFAULT_MAX_STALE);
        assert!(!p.unbounded());
        assert_eq!(p.verdict(FOLLOWER), Verdict::Answer);
        let behind = Freshness {
            behind: true,
            ..FOLLOWER
        };
        assert_eq!(p.verdict(behind), Verdict::CatchUp);
        let late = Freshness {
            last_contact: Some(LEASE + Duration::from_millis(1)),
            ..FOLLOWER
        };
        assert_eq!(p.verdict(late), Verdict::Refuse);
        let orphan = Freshness {
            last_contact: None,
            ..FOLLOWER
        };
        assert_eq!(p.verdict(orphan), Verdict::Refuse);
    }
}
