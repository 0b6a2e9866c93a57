//! Compact, stable text for actions and messages in scenario output and failure messages.

use std::fmt::Write;

use synod_core::raft::{
    Action, AppendResult, Entry, EntryPayload, Event, HardState, LogWrite, Membership, Message,
    Suffrage,
};

pub(crate) fn entry(e: &Entry) -> String {
    let payload = match &e.payload {
        EntryPayload::Blank => "blank".to_string(),
        EntryPayload::Command(c) => String::from_utf8_lossy(c).into_owned(),
        EntryPayload::Membership(m) => format!("conf{}", membership(m)),
    };
    format!("{}/{} {}", e.index, e.term, payload)
}

pub(crate) fn entries(es: &[Entry]) -> String {
    let parts: Vec<String> = es.iter().map(entry).collect();
    format!("[{}]", parts.join(", "))
}

pub(crate) fn membership(m: &Membership) -> String {
    let parts: Vec<String> = m
        .servers
        .iter()
        .map(|(id, s)| match s.suffrage {
            Suffrage::Voter => format!("{id}"),
            Suffrage::Learner => format!("{id}L"),
        })
        .collect();
    format!("({})", parts.join(" "))
}

fn hard_state(hs: &HardState) -> String {
    let vote = hs.vote.map_or("-".to_string(), |v| v.to_string());
    format!("term={} vote={} commit={}", hs.term, vote, hs.commit)
}

fn log_write(w: &LogWrite) -> String {
    let mut out = String::new();
    if let Some(s) = &w.snapshot {
        let _ = write!(out, " snap={}/{}", s.meta.last_index, s.meta.last_term);
    }
    if let Some(t) = w.truncate_from {
        let _ = write!(out, " truncate={t}");
    }
    if !w.entries.is_empty() {
        let _ = write!(out, " entries={}", entries(&w.entries));
    }
    if let Some(hs) = &w.hard_state {
        let _ = write!(out, " hs=({})", hard_state(hs));
    }
    if let Some(c) = w.compact_through {
        let _ = write!(out, " compact={c}");
    }
    out
}

pub(crate) fn message(m: &Message) -> String {
    match m {
        Message::PreVote(r) | Message::Vote(r) => {
            let kind = if matches!(m, Message::PreVote(_)) {
                "PreVote"
            } else {
                "Vote"
            };
            let transfer = if r.transfer { " transfer" } else { "" };
            format!(
                "{kind} term={} last={}/{}{transfer}",
                r.term, r.last_log_index, r.last_log_term
            )
        }
        Message::PreVoteResponse(r) | Message::VoteResponse(r) => {
            let kind = if matches!(m, Message::PreVoteResponse(_)) {
                "PreVoteResp"
            } else {
                "VoteResp"
            };
            let verdict = if r.granted { "granted" } else { "rejected" };
            format!("{kind} term={} {verdict}", r.term)
        }
        Message::Append(r) => format!(
            "Append term={} prev={}/{} commit={} round={} {}",
            r.term,
            r.prev_log_index,
            r.prev_log_term,
            r.leader_commit,
            r.round,
            entries(&r.entries)
        ),
        Message::AppendResponse(r) => match &r.result {
            AppendResult::Success { match_index } => {
                format!(
                    "AppendResp term={} round={} match={match_index}",
                    r.term, r.round
                )
            }
            AppendResult::Conflict {
                last_index,
                conflict_term,
                conflict_index,
            } => {
                let ct = conflict_term.map_or("-".to_string(), |t| t.to_string());
                format!(
                    "AppendResp term={} round={} conflict last={last_index} term={ct} index={conflict_index}",
                    r.term, r.round
                )
            }
        },
        Message::InstallSnapshot(c) => format!(
            "Snapshot term={} snap={}/{} offset={} len={} done={}",
            c.term,
            c.meta.last_index,
            c.meta.last_term,
            c.offset,
            c.data.len(),
            c.done
        ),
        Message::InstallSnapshotResponse(r) => format!(
            "SnapshotResp term={} snap={} next={} done={}",
            r.term, r.last_index, r.next_offset, r.done
        ),
        Message::TimeoutNow { term } => format!("TimeoutNow term={term}"),
    }
}

pub(crate) fn action(a: &Action) -> String {
    match a {
        Action::Send { to, msg } => format!("send to={to} {}", message(msg)),
        Action::Persist { token, write } => format!("persist #{token}{}", log_write(write)),
        Action::Apply { entries: es } => format!("apply {}", entries(es)),
        Action::RestoreSnapshot(s) => format!(
            "restore snap={}/{} conf{} data={}",
            s.meta.last_index,
            s.meta.last_term,
            membership(&s.meta.membership),
            String::from_utf8_lossy(&s.data)
        ),
        Action::ReadReady { id, index } => format!("read-ready id={id} index={index}"),
        Action::ReadFailed { id, error } => format!("read-failed id={id} {error:?}"),
        Action::Event(Event::LeaderChanged { leader, term }) => {
            let leader = leader.map_or("none".to_string(), |l| l.to_string());
            format!("event leader={leader} term={term}")
        }
        Action::Event(Event::RoleChanged { role, term }) => {
            format!("event role={role:?} term={term}")
        }
        Action::Event(Event::MembershipChanged(m)) => format!("event membership={}", membership(m)),
        Action::Event(Event::Removed) => "event removed".to_string(),
    }
}
