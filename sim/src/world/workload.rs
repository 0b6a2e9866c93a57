//! Clients: put / get / compare-and-set on a few shared keys, one request outstanding each, with
//! a deadline and retries; every operation goes into the [`History`].

use std::collections::BTreeMap;

use bytes::Bytes;
use synod_core::ids::NodeId;
use synod_core::node::{ClientError, ClientRequest, ClientResponse, Consistency};
use synod_core::rand::Rng;
use synod_core::state::kv_types::{KvCommand, KvCommandResult, KvQuery, KvQueryResult};
use synod_core::state::{CommandResult, QueryResult};

use super::options::WorkloadOptions;
use crate::checker::{History, OpId, OpKind, Outcome};

/// The operation a client is waiting on.
#[derive(Clone, Debug)]
pub struct Pending {
    /// Its place in the history.
    pub op: OpId,
    /// The key it touches.
    pub key: String,
    /// The request (re-sent as is on a retry: retries only follow answers that mean "no effect").
    pub request: ClientRequest,
    /// Global time after which its outcome is unknown.
    pub deadline: u64,
}

/// What a client does with an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reaction {
    /// The operation finished with this outcome.
    Completed(Outcome),
    /// The request had no effect; send it again, to `to` if a leader was named.
    Retry {
        /// Leader to try.
        to: Option<NodeId>,
    },
    /// The write may or may not take effect; the client gives up on it.
    Unknown,
}

/// One client.
#[derive(Clone, Debug, Default)]
pub struct Client {
    /// Its number (also its history id).
    pub id: usize,
    /// Where it sends requests next.
    pub leader_hint: Option<NodeId>,
    /// The outstanding operation.
    pub pending: Option<Pending>,
    /// Operations answered since the cluster healed.
    pub answered_after_heal: usize,
    writes: u64,
    /// Last ModifyIndex seen per key (what a CAS expects).
    seen: BTreeMap<String, u64>,
}

/// A unique value for every write of every client.
fn unique_value(client: usize, n: u64) -> Bytes {
    Bytes::from(format!("c{client}-w{n}"))
}

impl Client {
    /// A client with nothing outstanding.
    pub fn new(id: usize) -> Self {
        Client {
            id,
            ..Client::default()
        }
    }

    /// Draws the next operation on one of `keys`, records its call, and makes it pending.
    pub fn start_random(
        &mut self,
        rng: &mut Rng,
        options: &WorkloadOptions,
        keys: &[String],
        history: &mut History,
        deadline: u64,
    ) -> &Pending {
        let key = keys[rng.below(keys.len() as u64) as usize].clone();
        if rng.chance(options.read_ratio) {
            let consistency = if rng.chance(0.5) {
                Consistency::Consistent
            } else {
                Consistency::Default
            };
            return self.start_read(history, key, consistency, deadline);
        }
        self.writes += 1;
        let value = unique_value(self.id, self.writes);
        let (kind, command) = if rng.chance(options.cas_ratio) {
            // Mostly the index last seen (likely to succeed), sometimes a guess.
            let expect = match rng.below(4) {
                0 => 0,
                1 => rng.below(50),
                _ => self.seen.get(&key).copied().unwrap_or(0),
            };
            let command = KvCommand::Cas {
                key: key.clone(),
                value: value.clone(),
                flags: 0,
                index: expect,
            };
            (OpKind::Cas { value, expect }, command)
        } else {
            let command = KvCommand::Set {
                key: key.clone(),
                value: value.clone(),
                flags: 0,
            };
            (OpKind::Set { value }, command)
        };
        let op = history.invoke(self.id, &key, kind);
        self.pending.insert(Pending {
            op,
            key,
            request: ClientRequest::Write(command.into()),
            deadline,
        })
    }

    /// Records and makes pending a read of `key`.
    pub fn start_read(
        &mut self,
        history: &mut History,
        key: String,
        consistency: Consistency,
        deadline: u64,
    ) -> &Pending {
        let op = history.invoke(self.id, &key, OpKind::Get);
        let request = ClientRequest::Read {
            query: KvQuery::Get { key: key.clone() }.into(),
            consistency,
        };
        self.pending.insert(Pending {
            op,
            key,
            request,
            deadline,
        })
    }

    /// Interprets `response` to the pending operation, sent to `target`.
    pub fn react(&mut self, target: NodeId, response: &ClientResponse) -> Result<Reaction, String> {
        let Some(pending) = &self.pending else {
            return Err("response without a pending operation".to_string());
        };
        let is_write = matches!(pending.request, ClientRequest::Write(_));
        let reaction = match response {
            ClientResponse::Written {
                index,
                result: CommandResult::Kv(KvCommandResult::Done(done)),
            } if is_write => {
                if *done {
                    self.seen.insert(pending.key.clone(), index.0);
                }
                self.leader_hint = Some(target);
                Reaction::Completed(Outcome::Written {
                    index: index.0,
                    done: *done,
                })
            }
            ClientResponse::Read { result, .. } if !is_write => {
                let found = found_entry(&pending.key, result)?;
                if let Some((_, modify_index)) = &found {
                    self.seen.insert(pending.key.clone(), *modify_index);
                }
                Reaction::Completed(Outcome::Read(found))
            }
            ClientResponse::Failed(ClientError::NotLeader { leader }) => {
                self.leader_hint = *leader;
                Reaction::Retry { to: *leader }
            }
            ClientResponse::Failed(ClientError::NotReady) => Reaction::Retry { to: Some(target) },
            ClientResponse::Failed(ClientError::LeadershipLost) => {
                self.leader_hint = None;
                Reaction::Unknown
            }
            other => {
                return Err(format!(
                    "answer {other:?} does not fit {:?}",
                    pending.request
                ));
            }
        };
        Ok(reaction)
    }
}

/// The value and ModifyIndex of `key` in a Get's answer.
pub fn found_entry(key: &str, result: &QueryResult) -> Result<Option<(Bytes, u64)>, String> {
    match result {
        QueryResult::Kv(KvQueryResult::Entries(entries)) => match entries.as_slice() {
            [] => Ok(None),
            [entry] if entry.key == key => Ok(Some((entry.value.clone(), entry.modify_index))),
            _ => Err(format!("get of {key:?} returned {entries:?}")),
        },
        QueryResult::Kv(KvQueryResult::Keys(keys)) => {
            Err(format!("get of {key:?} returned key names {keys:?}"))
        }
        QueryResult::Catalog(result) => Err(format!("get of {key:?} returned {result:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::options::Options;
    use synod_core::ids::LogIndex;
    use synod_core::state::kv_types::KvEntry;

    fn entry(key: &str, value: &'static str, modify_index: u64) -> KvEntry {
        KvEntry {
            key: key.to_string(),
            create_index: modify_index,
            modify_index,
            lock_index: 0,
            flags: 0,
            value: Bytes::from_static(value.as_bytes()),
            session: None,
        }
    }

    #[test]
    fn every_write_value_is_unique() {
        let options = WorkloadOptions {
            read_ratio: 0.0,
            ..Options::from_seed(5).workload
        };
        let keys = vec!["a".to_string(), "b".to_string()];
        let mut history = History::new();
        let mut rng = Rng::new(5);
        let mut clients = vec![Client::new(0), Client::new(1)];
        for _ in 0..50 {
            for client in &mut clients {
                client.start_random(&mut rng, &options, &keys, &mut history, 0);
            }
        }
        let mut values: Vec<_> = history
            .ops()
            .iter()
            .filter_map(|op| match &op.kind {
                OpKind::Set { value } | OpKind::Cas { value, .. } => Some(value.clone()),
                OpKind::Get => None,
            })
            .collect();
        let total = values.len();
        values.sort();
        values.dedup();
        assert_eq!(values.len(), total);
    }

    #[test]
    fn answers_map_to_outcomes_and_retries() {
        let mut history = History::new();
        let mut client = Client::new(0);
        client.start_read(&mut history, "k".into(), Consistency::Consistent, 0);
        let read = ClientResponse::Read {
            index: 9,
            result: QueryResult::Kv(KvQueryResult::Entries(vec![entry("k", "v", 7)])),
        };
        assert_eq!(
            client.react(NodeId(2), &read),
            Ok(Reaction::Completed(Outcome::Read(Some((
                Bytes::from_static(b"v"),
                7
            )))))
        );
        let not_leader = ClientResponse::Failed(ClientError::NotLeader {
            leader: Some(NodeId(3)),
        });
        assert_eq!(
            client.react(NodeId(2), &not_leader),
            Ok(Reaction::Retry {
                to: Some(NodeId(3))
            })
        );
        assert_eq!(client.leader_hint, Some(NodeId(3)));
        let written = ClientResponse::Written {
            index: LogIndex(4),
            result: CommandResult::Kv(KvCommandResult::Done(true)),
        };
        assert!(
            client.react(NodeId(3), &written).is_err(),
            "a read answered as a write"
        );
        let lost = ClientResponse::Failed(ClientError::LeadershipLost);
        assert_eq!(client.react(NodeId(3), &lost), Ok(Reaction::Unknown));
    }
}
