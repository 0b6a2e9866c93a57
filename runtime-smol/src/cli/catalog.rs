//! `synod catalog datacenters | nodes | services`, with Consul's flags, output and exit codes.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::columnize::columnize;
use super::command::{CommandSpec, EXIT_ERROR, switch, value};
use super::flags::ParsedFlags;
use super::http_client::ApiClient;
use super::ui::Ui;

const CATALOG_USAGE: &str = "Usage: synod catalog <subcommand> [options] [args]\n\n  \
    Interacts with the catalog of nodes and services.\n\nSubcommands:\n    \
    datacenters    Lists all known datacenters\n    \
    nodes          Lists all nodes in the given datacenter\n    \
    services       Lists all registered services in a datacenter";

const DATACENTERS: CommandSpec = CommandSpec {
    name: "catalog datacenters",
    usage: "\n\n  Retrieves the list of all known datacenters.",
    flags: &[],
};

const NODES: CommandSpec = CommandSpec {
    name: "catalog nodes",
    usage: "\n\n  Retrieves the list nodes registered in a given datacenter.",
    flags: &[
        switch(
            "detailed",
            "Output detailed information about the nodes including their addresses and metadata.",
        ),
        value(
            "near",
            "Node name to sort the node list by round-trip time from (accepted, not used yet).",
        ),
        value(
            "node-meta",
            "Metadata to filter nodes with the given `key=value` pairs (repeatable).",
        ),
        value(
            "service",
            "Service id or name to filter nodes. Only nodes which are providing the given service will be returned.",
        ),
    ],
};

const SERVICES: CommandSpec = CommandSpec {
    name: "catalog services",
    usage: "\n\n  Retrieves the list services registered in a given datacenter.",
    flags: &[
        value("node", "Node id or name for which to list services."),
        value(
            "node-meta",
            "Metadata to filter nodes with the given `key=value` pairs (repeatable).",
        ),
        switch(
            "tags",
            "Display each service's tags as a comma-separated list beside each service entry.",
        ),
    ],
};

/// Runs `synod catalog <args>`; returns the exit status.
pub fn run(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let Some((sub, rest)) = args.split_first() else {
        ui.error(CATALOG_USAGE);
        return EXIT_ERROR;
    };
    match sub.as_str() {
        "datacenters" => datacenters(rest, ui),
        "nodes" => nodes(rest, ui),
        "services" => services(rest, ui),
        "-h" | "-help" | "--help" => {
            ui.info(CATALOG_USAGE);
            0
        }
        other => {
            ui.error(&format!("Unknown subcommand: {other:?}\n\n{CATALOG_USAGE}"));
            EXIT_ERROR
        }
    }
}

/// Parses the flags of `spec`; refuses positional arguments as Consul does.
fn parse(
    spec: &CommandSpec,
    args: &[String],
    ui: &mut Ui<'_>,
) -> Result<(ParsedFlags, ApiClient), i32> {
    let (flags, client) = spec.parse(args, ui)?;
    if !flags.positional.is_empty() {
        ui.error(&format!(
            "Too many arguments (expected 0, got {})",
            flags.positional.len()
        ));
        return Err(EXIT_ERROR);
    }
    Ok((flags, client))
}

/// `-node-meta=key=value` flags as the API's `node-meta=key:value` parameters.
fn node_meta_params(flags: &ParsedFlags) -> Result<Vec<(&'static str, String)>, String> {
    flags
        .values("node-meta")
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) => Ok(("node-meta", format!("{key}:{value}"))),
            None => Err(format!("Missing \"=\" value in argument: {pair}")),
        })
        .collect()
}

/// GETs `path` and decodes the JSON answer.
fn get<T: DeserializeOwned>(
    client: &ApiClient,
    path: &str,
    mut query: Vec<(&str, String)>,
) -> Result<T, String> {
    if client.stale() {
        query.push(("stale", String::new()));
    }
    let response = client.send("GET", &client.target(path, &query), &[])?;
    if response.status != 200 {
        return Err(response.unexpected());
    }
    serde_json::from_slice(&response.body).map_err(|e| format!("decoding the answer: {e}"))
}

fn datacenters(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let (_, client) = match parse(&DATACENTERS, args, ui) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    match get::<Vec<String>>(&client, "/v1/catalog/datacenters", Vec::new()) {
        Ok(dcs) => {
            for dc in dcs {
                ui.info(&dc);
            }
            0
        }
        Err(e) => {
            ui.error(&format!("Error listing datacenters: {e}"));
            EXIT_ERROR
        }
    }
}

/// The node fields `catalog nodes` prints (from `/v1/catalog/nodes` or a service's rows).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NodeRow {
    /// Node UUID.
    #[serde(rename = "ID")]
    pub id: String,
    /// Name.
    pub node: String,
    /// Address.
    pub address: String,
    /// Datacenter.
    pub datacenter: String,
    /// Tagged addresses.
    pub tagged_addresses: BTreeMap<String, String>,
    /// Metadata (`Meta` on nodes, `NodeMeta` on service rows).
    #[serde(alias = "NodeMeta")]
    pub meta: BTreeMap<String, String>,
}

/// `k=v` pairs in key order, joined with `", "`.
fn map_to_kv(map: &BTreeMap<String, String>) -> String {
    map.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Consul's table: `Node ID Address DC` with the ID cut at its first `-`, or with `-detailed`
/// the full ID plus `TaggedAddresses` and `Meta`.
pub fn nodes_table(nodes: &[NodeRow], detailed: bool) -> String {
    let mut header = vec!["Node", "ID", "Address", "DC"];
    if detailed {
        header.extend(["TaggedAddresses", "Meta"]);
    }
    let mut rows = vec![header.into_iter().map(str::to_owned).collect::<Vec<_>>()];
    for node in nodes {
        let id = if detailed {
            node.id.clone()
        } else {
            match node.id.find('-') {
                Some(cut) if cut > 0 => node.id[..cut].to_owned(),
                _ => node.id.clone(),
            }
        };
        let mut row = vec![
            node.node.clone(),
            id,
            node.address.clone(),
            node.datacenter.clone(),
        ];
        if detailed {
            row.push(map_to_kv(&node.tagged_addresses));
            row.push(map_to_kv(&node.meta));
        }
        rows.push(row);
    }
    columnize(&rows)
}

fn nodes(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let (flags, client) = match parse(&NODES, args, ui) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    let query = match node_meta_params(&flags) {
        Ok(query) => query,
        Err(e) => {
            ui.error(&format!("{e}\n\n{}", NODES.help()));
            return EXIT_ERROR;
        }
    };
    let fetched = match flags.value("service").filter(|s| !s.is_empty()) {
        Some(service) => {
            let path = format!(
                "/v1/catalog/service/{}",
                synod_core::api::http::escape_path(service)
            );
            get::<Vec<NodeRow>>(&client, &path, query)
                .map_err(|e| format!("Error listing nodes for service: {e}"))
        }
        None => get::<Vec<NodeRow>>(&client, "/v1/catalog/nodes", query)
            .map_err(|e| format!("Error listing nodes: {e}")),
    };
    let nodes = match fetched {
        Ok(nodes) => nodes,
        Err(e) => {
            ui.error(&e);
            return EXIT_ERROR;
        }
    };
    if nodes.is_empty() {
        ui.error("No nodes match the given query - try expanding your search.");
        return 0;
    }
    ui.info(&nodes_table(&nodes, flags.switch("detailed")));
    0
}

/// A service of `/v1/catalog/node/<n>`.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", default)]
#[derive(Default)]
struct NodeService {
    service: String,
    tags: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NodeServices {
    services: BTreeMap<String, NodeService>,
}

/// Service names one per line, or with `-tags` each followed by its sorted tags, aligned like
/// Go's tabwriter (padding 6) and trimmed at both ends.
pub fn services_listing(services: &BTreeMap<String, Vec<String>>, with_tags: bool) -> String {
    if !with_tags {
        return services.keys().cloned().collect::<Vec<_>>().join("\n");
    }
    let width = services
        .keys()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(0)
        + 6;
    let lines: Vec<String> = services
        .iter()
        .map(|(name, tags)| {
            let mut tags = tags.clone();
            tags.sort();
            format!("{name:<width$}{}", tags.join(","))
        })
        .collect();
    lines.join("\n").trim().to_owned()
}

fn services(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let (flags, client) = match parse(&SERVICES, args, ui) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    let query = match node_meta_params(&flags) {
        Ok(query) => query,
        Err(e) => {
            ui.error(&format!("{e}\n\n{}", SERVICES.help()));
            return EXIT_ERROR;
        }
    };
    let fetched = match flags.value("node").filter(|n| !n.is_empty()) {
        Some(node) => {
            let path = format!(
                "/v1/catalog/node/{}",
                synod_core::api::http::escape_path(node)
            );
            get::<Option<NodeServices>>(&client, &path, query)
                .map(|found| {
                    // Instances of one service on the node add up their tags, as Consul's do.
                    let mut services: BTreeMap<String, Vec<String>> = BTreeMap::new();
                    for s in found.map(|f| f.services).unwrap_or_default().into_values() {
                        services.entry(s.service).or_default().extend(s.tags);
                    }
                    services
                })
                .map_err(|e| format!("Error listing services for node: {e}"))
        }
        None => get::<BTreeMap<String, Vec<String>>>(&client, "/v1/catalog/services", query)
            .map_err(|e| format!("Error listing services: {e}")),
    };
    let services = match fetched {
        Ok(services) => services,
        Err(e) => {
            ui.error(&e);
            return EXIT_ERROR;
        }
    };
    if services.is_empty() {
        ui.error("No services match the given query - try expanding your search.");
        return 0;
    }
    ui.info(&services_listing(&services, flags.switch("tags")));
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, id: &str) -> NodeRow {
        NodeRow {
            id: id.into(),
            node: name.into(),
            address: "10.4.5.31".into(),
            datacenter: "dc1".into(),
            ..NodeRow::default()
        }
    }

    #[test]
    fn nodes_table_shows_the_id_up_to_its_first_dash() {
        let nodes = [
            row("worker-01", "1b662d97-8b5c-3cc2-0ac0-96f55ad423b5"),
            row("w2", ""),
        ];
        assert_eq!(
            nodes_table(&nodes, false),
            "Node       ID        Address    DC\n\
             worker-01  1b662d97  10.4.5.31  dc1\n\
             w2                   10.4.5.31  dc1"
        );
    }

    #[test]
    fn detailed_nodes_table_adds_tagged_addresses_and_meta_as_sorted_pairs() {
        let mut node = row("worker-01", "1b662d97-8b5c-3cc2-0ac0-96f55ad423b5");
        node.tagged_addresses = BTreeMap::from([
            ("wan".into(), "10.4.5.31".into()),
            ("lan".into(), "10.4.5.31".into()),
        ]);
        node.meta = BTreeMap::from([("rack".into(), "r1".into())]);
        assert_eq!(
            nodes_table(&[node], true),
            "Node       ID                                    Address    DC   TaggedAddresses               Meta\n\
             worker-01  1b662d97-8b5c-3cc2-0ac0-96f55ad423b5  10.4.5.31  dc1  lan=10.4.5.31, wan=10.4.5.31  rack=r1"
        );
    }

    #[test]
    fn service_rows_decode_node_meta_as_meta() {
        let rows: Vec<NodeRow> = serde_json::from_str(
            r#"[{"ID":"x","Node":"n","NodeMeta":{"a":"b"},"ServiceID":"web"}]"#,
        )
        .unwrap();
        assert_eq!(rows[0].meta, BTreeMap::from([("a".into(), "b".into())]));
    }

    #[test]
    fn services_listing_aligns_tags_six_spaces_past_the_longest_name() {
        let services = BTreeMap::from([
            ("consul".to_owned(), vec![]),
            (
                "postgresql".to_owned(),
                vec!["secondary".to_owned(), "primary".to_owned()],
            ),
            ("redis".to_owned(), vec!["primary".to_owned()]),
        ]);
        assert_eq!(
            services_listing(&services, false),
            "consul\npostgresql\nredis"
        );
        assert_eq!(
            services_listing(&services, true),
            "consul          \npostgresql      primary,secondary\nredis           primary"
        );
    }

    #[test]
    fn node_meta_flags_become_colon_pairs_and_need_an_equals_sign() {
        let specs = [NODES.flags, super::super::http_client::HTTP_FLAGS].concat();
        let args: Vec<String> = ["-node-meta=rack=r1", "-node-meta=zone=a"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let flags = super::super::flags::parse(&specs, &args).unwrap();
        assert_eq!(
            node_meta_params(&flags),
            Ok(vec![
                ("node-meta", "rack:r1".to_owned()),
                ("node-meta", "zone:a".to_owned())
            ])
        );
        let bad = super::super::flags::parse(&specs, &["-node-meta=rack".to_owned()]).unwrap();
        assert_eq!(
            node_meta_params(&bad),
            Err("Missing \"=\" value in argument: rack".to_owned())
        );
    }
}
