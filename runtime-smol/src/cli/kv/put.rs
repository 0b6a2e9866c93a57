//! `synod kv put [-flags=] [-cas -modify-index=] [-base64] KEY [DATA|@file|-]`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::data::read_data;
use super::pair::written;
use crate::cli::command::{CommandSpec, EXIT_ERROR, number, switch, value};
use crate::cli::ui::Ui;

const SPEC: CommandSpec = CommandSpec {
    name: "kv put",
    usage: "KEY [DATA]\n\n  Writes the data to the given path in the KV store. DATA is the value itself,\n  @file to read it from a file, or - to read it from standard input.",
    flags: &[
        switch(
            "base64",
            "Treat the data as base 64 encoded. The default value is false.",
        ),
        switch(
            "cas",
            "Perform a Check-And-Set operation. Requires -modify-index.",
        ),
        value(
            "flags",
            "Unsigned integer value to assign to this KV pair. Default 0.",
        ),
        value(
            "modify-index",
            "Unsigned integer representing the ModifyIndex of the key, used with -cas.",
        ),
    ],
};

/// Runs `kv put`.
pub(crate) fn run(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let (f, client) = match SPEC.parse(args, ui) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    let (key, data) = match f.positional.as_slice() {
        [] => {
            ui.error("Error! Missing KEY argument");
            return EXIT_ERROR;
        }
        [key] => (key.as_str(), Ok(Vec::new())),
        [key, data] => (key.as_str(), read_data(data, &mut std::io::stdin().lock())),
        more => {
            ui.error(&format!(
                "Error! Too many arguments (expected 1 or 2, got {})",
                more.len()
            ));
            return EXIT_ERROR;
        }
    };
    let mut data = match data {
        Ok(data) => data,
        Err(e) => {
            ui.error(&format!("Error! {e}"));
            return EXIT_ERROR;
        }
    };
    if f.switch("base64") {
        match BASE64.decode(&data) {
            Ok(decoded) => data = decoded,
            Err(e) => {
                ui.error(&format!("Error! Cannot base 64 decode data: {e}"));
                return EXIT_ERROR;
            }
        }
    }
    let (flags, modify_index) = match (
        number::<u64>(&f, "flags", 0),
        number::<u64>(&f, "modify-index", 0),
    ) {
        (Ok(flags), Ok(index)) => (flags, index),
        (Err(e), _) | (_, Err(e)) => {
            ui.error(&e);
            return EXIT_ERROR;
        }
    };
    let cas = f.switch("cas");
    if cas && modify_index == 0 {
        ui.error("Must specify -modify-index with -cas!");
        return EXIT_ERROR;
    }
    let mut query = Vec::new();
    if flags != 0 {
        query.push(("flags", flags.to_string()));
    }
    if cas {
        query.push(("cas", modify_index.to_string()));
    }
    let target = client.kv_target(key, &query);
    let outcome = client.send("PUT", &target, &data).and_then(|r| written(&r));
    match (outcome, cas) {
        (Ok(true), _) => {
            ui.info(&format!("Success! Data written to: {key}"));
            0
        }
        (Ok(false), _) => {
            ui.error(&format!("Error! Did not write to {key}: CAS failed"));
            EXIT_ERROR
        }
        (Err(e), true) => {
            ui.error(&format!("Error! Did not write to {key}: {e}"));
            EXIT_ERROR
        }
        (Err(e), false) => {
            ui.error(&format!("Error! Failed writing data: {e}"));
            EXIT_ERROR
        }
    }
}
