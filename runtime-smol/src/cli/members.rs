//! `synod members [-detailed] [-wan] [-status REGEX]`: the gossip members, as Consul prints them.

use regex::Regex;

use super::columnize::columnize;
use super::command::{CommandSpec, EXIT_ERROR, switch, value};
use super::ui::Ui;
use crate::http::agent_members::{MemberInfo, STATUS_ALIVE, STATUS_FAILED, STATUS_LEFT};

/// Consul's exit status when no member matches the filter.
const EXIT_NO_MATCH: i32 = 2;

const MEMBERS: CommandSpec = CommandSpec {
    name: "members",
    usage: "\n\n  Outputs the members of a running synod agent.",
    flags: &[
        switch("detailed", "Provides detailed information about nodes."),
        value(
            "status",
            "If provided, output is filtered to only nodes matching the regular expression for status.",
        ),
        switch(
            "wan",
            "If the agent is in server mode, this can be used to return the other peers in the WAN pool.",
        ),
    ],
};

/// Serf's word for a status number.
fn status_text(status: u8) -> &'static str {
    match status {
        STATUS_ALIVE => "alive",
        2 => "leaving",
        STATUS_LEFT => "left",
        STATUS_FAILED => "failed",
        _ => "none",
    }
}

fn tag<'a>(member: &'a MemberInfo, name: &str) -> &'a str {
    member.tags.get(name).map_or("", String::as_str)
}

fn is_server(member: &MemberInfo) -> bool {
    tag(member, "role") == "consul"
}

/// `ip:port`, brackets around IPv6 (Go's `net.JoinHostPort`).
fn address(member: &MemberInfo) -> String {
    if member.addr.contains(':') {
        format!("[{}]:{}", member.addr, member.port)
    } else {
        format!("{}:{}", member.addr, member.port)
    }
}

/// Consul's order: servers first, then by name.
fn sort(members: &mut [MemberInfo]) {
    members.sort_by(|a, b| {
        is_server(b)
            .cmp(&is_server(a))
            .then_with(|| a.name.cmp(&b.name))
    });
}

/// The standard table: Node, Address, Status, Type, Build, Protocol, DC, Partition, Segment.
pub fn standard_table(members: &[MemberInfo]) -> String {
    let header = [
        "Node",
        "Address",
        "Status",
        "Type",
        "Build",
        "Protocol",
        "DC",
        "Partition",
        "Segment",
    ];
    let mut rows = vec![header.iter().map(|h| h.to_string()).collect::<Vec<_>>()];
    for m in members {
        let kind = match tag(m, "role") {
            "consul" => "server",
            "node" => "client",
            _ => "unknown",
        };
        let build = tag(m, "build").split(':').next().unwrap_or("");
        let segment = match (is_server(m), tag(m, "segment")) {
            (true, _) => "<all>",
            (false, "") => "<default>",
            (false, segment) => segment,
        };
        let partition = match tag(m, "ap") {
            "" => "default",
            partition => partition,
        };
        rows.push(vec![
            m.name.clone(),
            address(m),
            status_text(m.status).to_owned(),
            kind.to_owned(),
            build.to_owned(),
            tag(m, "vsn").to_owned(),
            tag(m, "dc").to_owned(),
            partition.to_owned(),
            segment.to_owned(),
        ]);
    }
    columnize(&rows)
}

/// The `-detailed` table: Node, Address, Status, Tags (`k=v` sorted, comma-separated).
pub fn detailed_table(members: &[MemberInfo]) -> String {
    let mut rows = vec![
        ["Node", "Address", "Status", "Tags"]
            .iter()
            .map(|h| h.to_string())
            .collect::<Vec<_>>(),
    ];
    for m in members {
        let tags: Vec<String> = m.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        rows.push(vec![
            m.name.clone(),
            address(m),
            status_text(m.status).to_owned(),
            tags.join(","),
        ]);
    }
    columnize(&rows)
}

/// Runs `synod members <args>`.
pub fn run(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let (f, client) = match MEMBERS.parse(args, ui) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    let filter = match Regex::new(f.value("status").unwrap_or(".*")) {
        Ok(filter) => filter,
        Err(e) => {
            ui.error(&format!("Failed to compile status regexp: {e}"));
            return EXIT_ERROR;
        }
    };
    let query = if f.switch("wan") {
        vec![("wan", "1".to_owned())]
    } else {
        Vec::new()
    };
    let target = client.target("/v1/agent/members", &query);
    let fetched = client.send("GET", &target, &[]).and_then(|r| {
        if r.status != 200 {
            return Err(r.unexpected());
        }
        serde_json::from_slice::<Vec<MemberInfo>>(&r.body)
            .map_err(|e| format!("decoding the answer: {e}"))
    });
    let mut members = match fetched {
        Ok(members) => members,
        Err(e) => {
            ui.error(&format!("Error retrieving members: {e}"));
            return EXIT_ERROR;
        }
    };
    members.retain(|m| filter.is_match(status_text(m.status)));
    if members.is_empty() {
        return EXIT_NO_MATCH;
    }
    sort(&mut members);
    if f.switch("detailed") {
        ui.info(&detailed_table(&members));
    } else {
        ui.info(&standard_table(&members));
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &str, role: &str, status: u8) -> MemberInfo {
        MemberInfo {
            name: name.into(),
            addr: "127.0.0.1".into(),
            port: 8301,
            tags: [
                ("role", role),
                ("dc", "dc1"),
                ("build", "0.1.0:abc"),
                ("vsn", "2"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            status,
            ..MemberInfo::default()
        }
    }

    #[test]
    fn standard_table_lists_servers_first_with_consuls_columns() {
        let mut members = vec![
            member("c-client", "node", STATUS_ALIVE),
            member("b-server", "consul", STATUS_FAILED),
            member("a-server", "consul", STATUS_LEFT),
        ];
        sort(&mut members);
        assert_eq!(
            standard_table(&members),
            "Node      Address         Status  Type    Build  Protocol  DC   Partition  Segment\n\
             a-server  127.0.0.1:8301  left    server  0.1.0  2         dc1  default    <all>\n\
             b-server  127.0.0.1:8301  failed  server  0.1.0  2         dc1  default    <all>\n\
             c-client  127.0.0.1:8301  alive   client  0.1.0  2         dc1  default    <default>"
        );
    }

    #[test]
    fn detailed_table_shows_sorted_tags() {
        let members = vec![member("a", "consul", STATUS_ALIVE)];
        assert_eq!(
            detailed_table(&members),
            "Node  Address         Status  Tags\n\
             a     127.0.0.1:8301  alive   build=0.1.0:abc,dc=dc1,role=consul,vsn=2"
        );
    }
}
