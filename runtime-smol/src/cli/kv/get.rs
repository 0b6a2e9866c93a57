//! `synod kv get [-recurse] [-keys] [-separator=] [-detailed] [-base64] [KEY_OR_PREFIX]`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::format::detailed;
use super::key_argument;
use super::pair::{KvPair, pairs_from};
use crate::cli::command::{CommandSpec, EXIT_ERROR, switch, value};
use crate::cli::http_client::ApiClient;
use crate::cli::ui::Ui;

const SPEC: CommandSpec = CommandSpec {
    name: "kv get",
    usage: "[KEY_OR_PREFIX]\n\n  Retrieves the value from the KV store at the given key name, or lists\n  keys and values under a prefix.",
    flags: &[
        switch("base64", "Base64 encode the value."),
        switch(
            "detailed",
            "Provide additional metadata about the key in addition to the value.",
        ),
        switch(
            "keys",
            "List keys which start with the given prefix, but not the data.",
        ),
        switch(
            "recurse",
            "Recursively look at all keys prefixed with the given path.",
        ),
        value(
            "separator",
            "String to use as a separator between keys with -keys. Defaults to \"/\".",
        ),
    ],
};

/// Runs `kv get`.
pub(crate) fn run(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let (f, client) = match SPEC.parse(args, ui) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    let key = match key_argument(&f.positional, ui) {
        Ok(key) => key,
        Err(code) => return code,
    };
    let (recurse, keys) = (f.switch("recurse"), f.switch("keys"));
    if key.is_empty() && !(recurse || keys) {
        ui.error("Error! Missing KEY argument");
        return EXIT_ERROR;
    }
    let view = View {
        detailed: f.switch("detailed"),
        base64: f.switch("base64"),
    };
    if keys {
        let separator = f.value("separator").unwrap_or("/").to_string();
        return list_keys(&client, key, separator, ui);
    }
    if recurse {
        return list_pairs(&client, key, view, ui);
    }
    get_one(&client, key, view, ui)
}

#[derive(Clone, Copy)]
struct View {
    detailed: bool,
    base64: bool,
}

impl View {
    fn value(self, pair: &KvPair) -> Vec<u8> {
        if self.base64 {
            BASE64.encode(&pair.value).into_bytes()
        } else {
            pair.value.clone()
        }
    }
}

fn read_query(
    client: &ApiClient,
    mut query: Vec<(&'static str, String)>,
) -> Vec<(&'static str, String)> {
    if client.stale() {
        query.push(("stale", String::new()));
    }
    query
}

fn fetch(
    client: &ApiClient,
    key: &str,
    query: Vec<(&'static str, String)>,
) -> Result<Vec<KvPair>, String> {
    let target = client.kv_target(key, &read_query(client, query));
    let response = client.send("GET", &target, &[])?;
    pairs_from(&response)
}

fn get_one(client: &ApiClient, key: &str, view: View, ui: &mut Ui<'_>) -> i32 {
    let pairs = match fetch(client, key, Vec::new()) {
        Ok(pairs) => pairs,
        Err(e) => {
            ui.error(&format!("Error querying Consul agent: {e}"));
            return EXIT_ERROR;
        }
    };
    let Some(pair) = pairs.first() else {
        ui.error(&format!("Error! No key exists at: {key}"));
        return EXIT_ERROR;
    };
    if view.detailed {
        ui.info_bytes(&detailed(pair, view.base64));
    } else {
        ui.info_bytes(&view.value(pair));
    }
    0
}

fn list_pairs(client: &ApiClient, prefix: &str, view: View, ui: &mut Ui<'_>) -> i32 {
    let pairs = match fetch(client, prefix, vec![("recurse", String::new())]) {
        Ok(pairs) => pairs,
        Err(e) => {
            ui.error(&format!("Error querying Consul agent: {e}"));
            return EXIT_ERROR;
        }
    };
    for (i, pair) in pairs.iter().enumerate() {
        if view.detailed {
            ui.info_bytes(&detailed(pair, view.base64));
            if i + 1 < pairs.len() {
                ui.info("");
            }
        } else {
            let mut line = format!("{}:", pair.key).into_bytes();
            line.extend(view.value(pair));
            ui.info_bytes(&line);
        }
    }
    0
}

fn list_keys(client: &ApiClient, prefix: &str, separator: String, ui: &mut Ui<'_>) -> i32 {
    let query = read_query(
        client,
        vec![("keys", String::new()), ("separator", separator)],
    );
    let target = client.kv_target(prefix, &query);
    let keys = client
        .send("GET", &target, &[])
        .and_then(|response| match response.status {
            200 => serde_json::from_slice::<Vec<String>>(&response.body)
                .map_err(|e| format!("decoding the answer: {e}")),
            404 => Ok(Vec::new()),
            _ => Err(response.unexpected()),
        });
    match keys {
        Ok(keys) => {
            for key in keys {
                ui.info(&key);
            }
            0
        }
        Err(e) => {
            ui.error(&format!("Error querying Consul agent: {e}"));
            EXIT_ERROR
        }
    }
}
