//! `synod kv export [PREFIX]` and `synod kv import [DATA|@file|-]`: a KV tree as a JSON array of
//! `{"key","flags","value"}` with base64 values, Consul's format.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::data::read_data;
use super::format::{ExportEntry, export_json};
use super::key_argument;
use super::pair::{pairs_from, written};
use crate::cli::command::{CommandSpec, EXIT_ERROR};
use crate::cli::ui::Ui;

const EXPORT: CommandSpec = CommandSpec {
    name: "kv export",
    usage: "[PREFIX]\n\n  Writes the key-value pairs under the prefix to stdout as JSON, for \"kv import\".",
    flags: &[],
};

const IMPORT: CommandSpec = CommandSpec {
    name: "kv import",
    usage: "[DATA]\n\n  Imports key-value pairs from JSON as \"kv export\" writes it. DATA is the JSON\n  itself, @file to read it from a file, or - to read it from standard input.",
    flags: &[],
};

/// Runs `kv export`.
pub(crate) fn run_export(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let (f, client) = match EXPORT.parse(args, ui) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    let prefix = match key_argument(&f.positional, ui) {
        Ok(key) => key,
        Err(code) => return code,
    };
    let mut query = vec![("recurse", String::new())];
    if client.stale() {
        query.push(("stale", String::new()));
    }
    let target = client.kv_target(prefix, &query);
    match client
        .send("GET", &target, &[])
        .and_then(|r| pairs_from(&r))
    {
        Ok(pairs) => {
            let entries: Vec<ExportEntry> = pairs.iter().map(ExportEntry::from).collect();
            ui.info(&export_json(&entries));
            0
        }
        Err(e) => {
            ui.error(&format!("Error querying Consul agent: {e}"));
            EXIT_ERROR
        }
    }
}

/// Runs `kv import`.
pub(crate) fn run_import(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let (f, client) = match IMPORT.parse(args, ui) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    let data = match f.positional.as_slice() {
        [] => Err("Missing DATA argument".to_string()),
        [arg] if arg.is_empty() => Err("Empty DATA argument".to_string()),
        [arg] => read_data(arg, &mut std::io::stdin().lock()),
        more => Err(format!(
            "Too many arguments (expected 1, got {})",
            more.len()
        )),
    };
    let data = match data {
        Ok(data) => data,
        Err(e) => {
            ui.error(&format!("Error! {e}"));
            return EXIT_ERROR;
        }
    };
    let entries: Vec<ExportEntry> = match crate::http::json::decode_case_insensitive(&data) {
        Ok(entries) => entries,
        Err(e) => {
            ui.error(&format!("Cannot unmarshal data: {e}"));
            return EXIT_ERROR;
        }
    };
    for entry in entries {
        let value = match BASE64.decode(&entry.value) {
            Ok(value) => value,
            Err(e) => {
                ui.error(&format!(
                    "Error base 64 decoding value for key {}: {e}",
                    entry.key
                ));
                return EXIT_ERROR;
            }
        };
        let query: Vec<(&str, String)> = if entry.flags != 0 {
            vec![("flags", entry.flags.to_string())]
        } else {
            Vec::new()
        };
        let target = client.kv_target(&entry.key, &query);
        if let Err(e) = client
            .send("PUT", &target, &value)
            .and_then(|r| written(&r))
        {
            ui.error(&format!(
                "Error! Failed writing data for key {}: {e}",
                entry.key
            ));
            return EXIT_ERROR;
        }
        ui.info(&format!("Imported: {}", entry.key));
    }
    0
}
