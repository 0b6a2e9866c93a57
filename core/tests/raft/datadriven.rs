//! A small datadriven runner (after etcd-io/raft's `testdata/*.txt`): each block is a command,
//! `----`, and the expected output up to a blank line. `REWRITE=1` regenerates the files.

use bytes::Bytes;

use crate::cluster::Cluster;
use synod_core::ids::{LogIndex, NodeId, ReadId, Term};
use synod_core::raft::{Config, Entry, EntryPayload, HardState, Membership, Recovered};
use synod_core::time::{Duration, Instant};

/// One item of a script: a comment kept verbatim, or a command with its expected output.
enum Item {
    Comment(String),
    Block { command: String, expected: String },
}

fn parse(script: &str) -> Vec<Item> {
    let mut items = Vec::new();
    let mut lines = script.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim().is_empty() {
            continue;
        }
        if line.starts_with('#') {
            items.push(Item::Comment(line.to_string()));
            continue;
        }
        let mut expected = Vec::new();
        if lines.peek() == Some(&"----") {
            lines.next();
            while let Some(out) = lines.next_if(|l| !l.is_empty()) {
                expected.push(out);
            }
        }
        items.push(Item::Block {
            command: line.to_string(),
            expected: expected.join("\n"),
        });
    }
    items
}

/// Run `script` (the contents of `testdata/<name>`) and compare, or rewrite it with `REWRITE=1`.
pub(crate) fn run(name: &str, script: &str) {
    let mut cluster = Cluster::new(42);
    let mut rewritten = String::new();
    let mut failures = Vec::new();
    for item in parse(script) {
        let (command, expected) = match item {
            Item::Comment(c) => {
                rewritten.push_str(&c);
                rewritten.push('\n');
                continue;
            }
            Item::Block { command, expected } => (command, expected),
        };
        let lines = execute(&mut cluster, &command);
        let actual = if lines.is_empty() {
            "ok".to_string()
        } else {
            lines.join("\n")
        };
        rewritten.push_str(&format!("{command}\n----\n{actual}\n\n"));
        if actual != expected {
            failures.push(format!(
                "{name}: `{command}`\n--- expected\n{expected}\n--- actual\n{actual}"
            ));
        }
    }
    if std::env::var_os("REWRITE").is_some() {
        let path = format!("{}/tests/raft/testdata/{name}", env!("CARGO_MANIFEST_DIR"));
        // Test-only file output: core itself never touches the filesystem.
        if let Err(e) = std::fs::write(&path, rewritten.trim_end().to_string() + "\n") {
            panic!("cannot rewrite {path}: {e}");
        }
        return;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn id(arg: Option<&&str>) -> NodeId {
    NodeId(arg.and_then(|s| s.parse().ok()).unwrap_or(0))
}

fn option<'a>(args: &'a [&str], key: &str) -> Option<&'a str> {
    args.iter()
        .find_map(|a| a.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
}

fn flag(args: &[&str], key: &str, default: bool) -> bool {
    option(args, key).map_or(default, |v| v == "true")
}

fn number(args: &[&str], key: &str, default: u64) -> u64 {
    option(args, key)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn ids(list: &str) -> Vec<NodeId> {
    list.split(',')
        .filter_map(|s| s.parse().ok())
        .map(NodeId)
        .collect()
}

fn test_config(id: NodeId, args: &[&str]) -> Config {
    let mut c = Config::new(id);
    c.pre_vote = flag(args, "pre-vote", true);
    c.check_quorum = flag(args, "check-quorum", true);
    c.max_inflight = number(args, "max-inflight", 8) as usize;
    c.max_append_entries = number(args, "max-entries", 512) as usize;
    c.snapshot_chunk_bytes = number(args, "chunk", 256 << 10) as usize;
    c.catch_up_margin = number(args, "margin", 64);
    c.trailing_entries = number(args, "trailing", 0);
    c
}

fn voters(list: &[NodeId]) -> Membership {
    Membership::voters(list.iter().map(|id| (*id, format!("n{id}"))))
}

fn execute(cluster: &mut Cluster, command: &str) -> Vec<String> {
    let words: Vec<&str> = command.split_whitespace().collect();
    let Some((&name, args)) = words.split_first() else {
        return Vec::new();
    };
    let target = id(args.first());
    let now = cluster.node_now(target);
    match name {
        "add-nodes" => {
            let count = args.first().and_then(|s| s.parse().ok()).unwrap_or(0u64);
            let first = cluster.nodes.keys().last().map_or(1, |n| n.0 + 1);
            let new: Vec<NodeId> = (first..first + count).map(NodeId).collect();
            let membership = voters(&new);
            let bootstrap = flag(args, "bootstrap", true).then_some(&membership);
            let mut out = Vec::new();
            for &n in &new {
                out.extend(cluster.add_node(test_config(n, args), bootstrap));
            }
            out
        }
        "load" => load(cluster, target, &args[1..]),
        "campaign" | "tick-election" | "tick-heartbeat" | "tick" => cluster.tick(target),
        "advance" => {
            let ms = args.first().and_then(|s| s.parse().ok()).unwrap_or(0);
            cluster.advance(Duration::from_millis(ms))
        }
        "process" => cluster.process(target),
        "persist" => cluster.persist(target),
        "deliver" => cluster.deliver(target),
        "drop" => cluster.drop_messages(target),
        "stabilize" => cluster.stabilize(),
        "isolate" => {
            cluster.isolate(target);
            Vec::new()
        }
        "partition" => {
            // The listed nodes on one side, everyone else on the other.
            let side: Vec<NodeId> = args
                .iter()
                .filter_map(|a| a.parse().ok())
                .map(NodeId)
                .collect();
            let others: Vec<NodeId> = cluster
                .nodes
                .keys()
                .copied()
                .filter(|n| !side.contains(n))
                .collect();
            for &a in &side {
                for &b in &others {
                    cluster.cut(a, b);
                }
            }
            Vec::new()
        }
        "cut" => {
            cluster.cut(target, id(args.get(1)));
            Vec::new()
        }
        "heal" => {
            cluster.heal();
            Vec::new()
        }
        "restart" => cluster.restart(target),
        "deadlines" => cluster
            .nodes
            .iter()
            .map(|(id, n)| {
                let at = n.raft.poll_timeout().map_or("none".to_string(), |t| {
                    format!("+{}ms", t.saturating_since(n.now).as_millis())
                });
                format!("{id}: {:?} next deadline {at}", n.raft.role())
            })
            .collect(),
        "snapshot" => cluster.snapshot(target),
        "status" => {
            let ids: Vec<NodeId> = match args.first() {
                Some(list) => ids(list),
                None => cluster.nodes.keys().copied().collect(),
            };
            ids.iter().map(|&n| cluster.status(n)).collect()
        }
        "log" => {
            let ids: Vec<NodeId> = match args.first() {
                Some(list) => ids(list),
                None => cluster.nodes.keys().copied().collect(),
            };
            ids.iter().map(|&n| cluster.log(n)).collect()
        }
        _ => node_call(cluster, name, target, args, now),
    }
}

/// Commands that call one API of one node, then drain it.
fn node_call(
    cluster: &mut Cluster,
    name: &str,
    target: NodeId,
    args: &[&str],
    now: Instant,
) -> Vec<String> {
    let Some(node) = cluster.nodes.get_mut(&target) else {
        return vec![format!("unknown command or node: {name} {target}")];
    };
    let raft = &mut node.raft;
    let result = match name {
        "propose" => {
            let data = Bytes::from(args.get(1).copied().unwrap_or("").to_string());
            format!("{:?}", raft.propose(now, data))
        }
        "add-server" => {
            let new = id(args.get(1));
            format!("{:?}", raft.add_server(now, new, format!("n{new}")))
        }
        "remove-server" => format!("{:?}", raft.remove_server(now, id(args.get(1)))),
        "transfer" => format!("{:?}", raft.transfer_leadership(now, id(args.get(1)))),
        "read-index" => {
            for read in option(args, "id").unwrap_or("1").split(',') {
                raft.read_index(now, ReadId(read.parse().unwrap_or(0)));
            }
            String::new()
        }
        "lease-read" => format!("{:?}", raft.lease_read(now)),
        _ => return vec![format!("unknown command: {name}")],
    };
    let mut out = Vec::new();
    if !result.is_empty() {
        out.push(format!("{target}: {result}"));
    }
    out.extend(cluster.process(target));
    out
}

/// `load <id> term=T terms=t1,t2,.. voters=a,b,c [config options]`: (re)create a node from a
/// disk holding a config entry at index 1 and then commands of the given terms.
fn load(cluster: &mut Cluster, target: NodeId, args: &[&str]) -> Vec<String> {
    let members = voters(&ids(option(args, "voters").unwrap_or("")));
    let terms: Vec<u64> = option(args, "terms")
        .unwrap_or("")
        .split(',')
        .filter_map(|t| t.parse().ok())
        .collect();
    let mut entries = vec![Entry {
        index: LogIndex(1),
        term: Term(1),
        payload: EntryPayload::Membership(members),
    }];
    for (i, t) in terms.iter().enumerate().skip(1) {
        entries.push(Entry {
            index: LogIndex(i as u64 + 1),
            term: Term(*t),
            payload: EntryPayload::Command(Bytes::from(format!("x{}", i + 1))),
        });
    }
    let hard_state = HardState {
        term: Term(number(args, "term", 1)),
        vote: None,
        commit: LogIndex(number(args, "commit", 0)),
    };
    let recovered = Recovered {
        hard_state,
        snapshot: None,
        entries,
    };
    cluster.load_node(test_config(target, args), recovered)
}
