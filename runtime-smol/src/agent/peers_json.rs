//! Outage recovery through `<data-dir>/raft/peers.json`, as in Consul: when servers are lost for
//! good and the rest cannot elect a leader, the operator stops every surviving server, writes the
//! servers that remain into this file on each, and starts them again. On start the file's
//! configuration is appended to the log (see `Recovered::recover_membership`) and the file is
//! deleted, so it applies exactly once.
//!
//! Two formats are read, as Consul does: Raft protocol 3 objects
//! (`[{"id": "<node-id>", "address": "10.0.0.1:8300", "non_voter": false}]`) and the older plain
//! address list (`["10.0.0.1:8300"]`), whose addresses must be in this server's last known
//! configuration since they carry no ids.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use serde_json::Value;
use synod_core::ids::NodeId;
use synod_core::raft::{EntryPayload, Membership, Recovered, ServerInfo, Suffrage};

use super::identity::{is_uuid, raft_id};

/// The file's path for a data dir.
pub(crate) fn path(raft_dir: &Path) -> PathBuf {
    raft_dir.join("peers.json")
}

/// The configuration `peers.json` asks for, if the file exists. Errors name the file and why.
pub(crate) fn read(raft_dir: &Path, recovered: &Recovered) -> Result<Option<Membership>, String> {
    let file = path(raft_dir);
    let bytes = match fs::read(&file) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", file.display())),
    };
    parse(&bytes, &last_membership(recovered))
        .map(Some)
        .map_err(|reason| format!("{}: {reason}", file.display()))
}

/// Removes the file once its configuration is durable, and makes the removal durable too.
pub(crate) fn remove(raft_dir: &Path) -> io::Result<()> {
    fs::remove_file(path(raft_dir))?;
    File::open(raft_dir)?.sync_all()
}

/// The configuration as of the last durable entry (what plain addresses are matched against).
fn last_membership(recovered: &Recovered) -> Membership {
    recovered
        .entries
        .iter()
        .rev()
        .find_map(|e| match &e.payload {
            EntryPayload::Membership(m) => Some(m.clone()),
            _ => None,
        })
        .or_else(|| {
            recovered
                .snapshot
                .as_ref()
                .map(|s| s.meta.membership.clone())
        })
        .unwrap_or_default()
}

fn parse(bytes: &[u8], known: &Membership) -> Result<Membership, String> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| format!("invalid JSON: {e}"))?;
    let Value::Array(items) = value else {
        return Err("expected a JSON list of servers".to_owned());
    };
    let mut membership = Membership::default();
    for (i, item) in items.iter().enumerate() {
        let (id, info) = match item {
            Value::String(address) => (id_of_address(known, address)?, voter(address)),
            Value::Object(_) => server_object(i, item)?,
            other => {
                return Err(format!(
                    "[{i}]: expected an object or an address, got {other}"
                ));
            }
        };
        if membership.servers.insert(id, info).is_some() {
            return Err(format!("[{i}]: server listed twice"));
        }
    }
    if membership.voter_ids().next().is_none() {
        return Err("no voting server listed".to_owned());
    }
    Ok(membership)
}

fn voter(address: &str) -> ServerInfo {
    ServerInfo {
        addr: address.to_owned(),
        suffrage: Suffrage::Voter,
    }
}

fn server_object(i: usize, item: &Value) -> Result<(NodeId, ServerInfo), String> {
    let text = |key: &str| {
        item.get(key)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("[{i}].{key}: expected a string"))
    };
    let id = text("id")?;
    if !is_uuid(id) {
        return Err(format!("[{i}].id: expected a node ID (UUID), got {id:?}"));
    }
    let address = text("address")?;
    let non_voter = match item.get("non_voter") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(format!(
                "[{i}].non_voter: expected true or false, got {other}"
            ));
        }
    };
    let suffrage = if non_voter {
        Suffrage::Learner
    } else {
        Suffrage::Voter
    };
    let info = ServerInfo {
        addr: address.to_owned(),
        suffrage,
    };
    Ok((raft_id(id), info))
}

fn id_of_address(known: &Membership, address: &str) -> Result<NodeId, String> {
    known
        .servers
        .iter()
        .find(|(_, s)| s.addr == address)
        .map(|(id, _)| *id)
        .ok_or_else(|| {
            format!(
                "{address:?} is not in this server's last known configuration; \
                 list servers as {{\"id\": \"<node-id>\", \"address\": \"{address}\"}}"
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "adf4238a-882b-9ddc-4a9d-5b6758e4159e";
    const B: &str = "8b6dda82-3103-11e7-93ae-92361f002671";

    #[test]
    fn protocol_3_entries_name_servers_by_node_id() {
        let json = format!(
            r#"[{{"id": "{A}", "address": "10.1.0.1:8300", "non_voter": false}},
                {{"id": "{B}", "address": "10.1.0.2:8300", "non_voter": true}}]"#
        );
        let membership = parse(json.as_bytes(), &Membership::default()).unwrap();
        assert_eq!(membership.servers.into_iter().collect::<Vec<_>>(), {
            let mut expected = vec![
                (raft_id(A), voter("10.1.0.1:8300")),
                (
                    raft_id(B),
                    ServerInfo {
                        addr: "10.1.0.2:8300".to_owned(),
                        suffrage: Suffrage::Learner,
                    },
                ),
            ];
            expected.sort_by_key(|(id, _)| *id);
            expected
        });
    }

    #[test]
    fn plain_addresses_keep_the_ids_of_the_last_configuration() {
        let known = Membership::voters([
            (NodeId(7), "10.1.0.1:8300".to_owned()),
            (NodeId(8), "10.1.0.2:8300".to_owned()),
            (NodeId(9), "10.1.0.3:8300".to_owned()),
        ]);
        let membership = parse(br#"["10.1.0.1:8300", "10.1.0.3:8300"]"#, &known).unwrap();
        assert_eq!(
            membership,
            Membership::voters([
                (NodeId(7), "10.1.0.1:8300".to_owned()),
                (NodeId(9), "10.1.0.3:8300".to_owned()),
            ])
        );
    }

    #[test]
    fn unknown_plain_address_is_refused_with_the_fix() {
        let error = parse(br#"["10.9.9.9:8300"]"#, &Membership::default()).unwrap_err();
        assert!(
            error.contains("not in this server's last known configuration"),
            "{error}"
        );
    }

    #[test]
    fn malformed_files_are_refused_with_the_reason() {
        for (json, reason) in [
            (r#"{"id": 1}"#, "expected a JSON list of servers"),
            ("[", "invalid JSON"),
            (
                r#"[{"id": "nope", "address": "a:1"}]"#,
                "[0].id: expected a node ID",
            ),
            (
                &format!(r#"[{{"id": "{A}"}}]"#),
                "[0].address: expected a string",
            ),
            (
                &format!(r#"[{{"id": "{A}", "address": "a:1", "non_voter": "no"}}]"#),
                "[0].non_voter: expected true or false",
            ),
            (
                &format!(r#"[{{"id": "{A}", "address": "a:1", "non_voter": true}}]"#),
                "no voting server listed",
            ),
            ("[]", "no voting server listed"),
            (
                &format!(
                    r#"[{{"id": "{A}", "address": "a:1"}}, {{"id": "{A}", "address": "a:2"}}]"#
                ),
                "[1]: server listed twice",
            ),
        ] {
            let error = parse(json.as_bytes(), &Membership::default()).unwrap_err();
            assert!(error.contains(reason), "{json}: {error}");
        }
    }
}
