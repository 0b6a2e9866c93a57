//! `synod operator raft list-peers [-stale]` and `synod operator raft remove-peer -id=|-address=`.

use serde::Deserialize;

use super::columnize::columnize;
use super::command::{CommandSpec, EXIT_ERROR, value};
use super::ui::Ui;

const OPERATOR_USAGE: &str = "Usage: synod operator raft <subcommand> [options]\n\n  \
    Interacts with the Raft subsystem: lists peers or removes one.\n\nSubcommands:\n    \
    list-peers     Display the current Raft peer configuration\n    \
    remove-peer    Remove a server from the Raft configuration";

const LIST_PEERS: CommandSpec = CommandSpec {
    name: "operator raft list-peers",
    usage: "\n\n  Displays the current Raft peer configuration.",
    flags: &[],
};

const REMOVE_PEER: CommandSpec = CommandSpec {
    name: "operator raft remove-peer",
    usage: "\n\n  Removes the server with the given -id or -address from the Raft configuration.",
    flags: &[
        value(
            "address",
            "The address to remove from the Raft configuration (IP:port).",
        ),
        value("id", "The ID to remove from the Raft configuration."),
    ],
};

/// Runs `synod operator <args>`.
pub fn run(args: &[String], ui: &mut Ui<'_>) -> i32 {
    match args {
        [raft, sub, rest @ ..] if raft == "raft" => match sub.as_str() {
            "list-peers" => list_peers(rest, ui),
            "remove-peer" => remove_peer(rest, ui),
            other => {
                ui.error(&format!(
                    "Unknown subcommand: {other:?}\n\n{OPERATOR_USAGE}"
                ));
                EXIT_ERROR
            }
        },
        [flag, ..] if matches!(flag.as_str(), "-h" | "-help" | "--help") => {
            ui.info(OPERATOR_USAGE);
            0
        }
        _ => {
            ui.error(OPERATOR_USAGE);
            EXIT_ERROR
        }
    }
}

/// `/v1/operator/raft/configuration`'s answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Configuration {
    /// Every server.
    pub servers: Vec<Server>,
}

/// One server of the configuration.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Server {
    /// Server id.
    #[serde(rename = "ID")]
    pub id: String,
    /// Node name.
    pub node: String,
    /// RPC address.
    pub address: String,
    /// Whether it leads.
    pub leader: bool,
    /// Whether it votes.
    pub voter: bool,
    /// Raft protocol version.
    #[serde(default)]
    pub protocol_version: String,
}

/// The `list-peers` table, as Consul's columnize prints it.
pub fn peers_table(config: &Configuration) -> String {
    let header = ["Node", "ID", "Address", "State", "Voter", "RaftProtocol"];
    let mut rows = vec![header.iter().map(|h| h.to_string()).collect::<Vec<_>>()];
    for s in &config.servers {
        let protocol = if s.protocol_version.is_empty() {
            "<=1".to_string()
        } else {
            s.protocol_version.clone()
        };
        rows.push(vec![
            s.node.clone(),
            s.id.clone(),
            s.address.clone(),
            if s.leader { "leader" } else { "follower" }.to_string(),
            s.voter.to_string(),
            protocol,
        ]);
    }
    columnize(&rows)
}

fn list_peers(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let (f, client) = match LIST_PEERS.parse(args, ui) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    if let Some(extra) = f.positional.first() {
        ui.error(&format!("Unexpected argument: {extra}"));
        return EXIT_ERROR;
    }
    let query = if client.stale() {
        vec![("stale", String::new())]
    } else {
        Vec::new()
    };
    let target = client.target("/v1/operator/raft/configuration", &query);
    let config = client.send("GET", &target, &[]).and_then(|r| {
        if r.status != 200 {
            return Err(r.unexpected());
        }
        serde_json::from_slice::<Configuration>(&r.body)
            .map_err(|e| format!("decoding the answer: {e}"))
    });
    match config {
        Ok(config) => {
            ui.info(&peers_table(&config));
            0
        }
        Err(e) => {
            ui.error(&format!("Error getting peers: {e}"));
            EXIT_ERROR
        }
    }
}

fn remove_peer(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let (f, client) = match REMOVE_PEER.parse(args, ui) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    let address = f.value("address").unwrap_or("");
    let id = f.value("id").unwrap_or("");
    let selector = match (address.is_empty(), id.is_empty()) {
        (true, true) => Err("an address or id is required for the peer to remove".to_string()),
        (false, false) => Err("cannot give both an address and id".to_string()),
        (false, true) => Ok(("address", address)),
        (true, false) => Ok(("id", id)),
    };
    let outcome = selector.and_then(|(kind, wanted)| {
        let target = client.target("/v1/operator/raft/peer", &[(kind, wanted.to_string())]);
        let response = client.send("DELETE", &target, &[])?;
        if response.status == 200 {
            Ok((kind, wanted))
        } else {
            Err(response.unexpected())
        }
    });
    match outcome {
        Ok((kind, wanted)) => {
            ui.info(&format!("Removed peer with {kind} {wanted:?}"));
            0
        }
        Err(e) => {
            ui.error(&format!("Error removing peer: {e}"));
            EXIT_ERROR
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_peers_table_matches_consuls_columns() {
        let config: Configuration = serde_json::from_str(
            r#"{"Servers":[
                {"ID":"0f9a3c4e-1b2d-4e5f-8a9b-0c1d2e3f4a5b","Node":"alice","Address":"127.0.0.1:8300","Leader":true,"ProtocolVersion":"3","Voter":true},
                {"ID":"01234567-89ab-cdef","Node":"(unknown)","Address":"127.0.0.2:8300","Leader":false,"ProtocolVersion":"3","Voter":false}
            ],"Index":7}"#,
        )
        .expect("valid");
        assert_eq!(
            peers_table(&config),
            "Node       ID                                    Address         State     Voter  RaftProtocol\n\
             alice      0f9a3c4e-1b2d-4e5f-8a9b-0c1d2e3f4a5b  127.0.0.1:8300  leader    true   3\n\
             (unknown)  01234567-89ab-cdef                    127.0.0.2:8300  follower  false  3"
        );
    }
}
