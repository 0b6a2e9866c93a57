//! `synod kv delete [-recurse] [-cas -modify-index=] KEY_OR_PREFIX`.

use super::key_argument;
use super::pair::written;
use crate::cli::command::{CommandSpec, EXIT_ERROR, number, switch, value};
use crate::cli::ui::Ui;

const SPEC: CommandSpec = CommandSpec {
    name: "kv delete",
    usage: "KEY_OR_PREFIX\n\n  Removes the value from the KV store at the given key, or every key under a\n  prefix with -recurse.",
    flags: &[
        switch(
            "cas",
            "Perform a Check-And-Set operation. Requires -modify-index.",
        ),
        value(
            "modify-index",
            "Unsigned integer representing the ModifyIndex of the key, used with -cas.",
        ),
        switch("recurse", "Recursively delete all keys with the path."),
    ],
};

/// Runs `kv delete`.
pub(crate) fn run(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let (f, client) = match SPEC.parse(args, ui) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    let key = match key_argument(&f.positional, ui) {
        Ok(key) => key,
        Err(code) => return code,
    };
    let (recurse, cas) = (f.switch("recurse"), f.switch("cas"));
    if key.is_empty() && !recurse {
        ui.error("Error! Missing KEY argument");
        return EXIT_ERROR;
    }
    let modify_index = match number::<u64>(&f, "modify-index", 0) {
        Ok(index) => index,
        Err(e) => {
            ui.error(&e);
            return EXIT_ERROR;
        }
    };
    if cas && modify_index == 0 {
        ui.error("Must specify -modify-index with -cas!");
        return EXIT_ERROR;
    }
    if modify_index != 0 && !cas {
        ui.error("Cannot specify -modify-index without -cas!");
        return EXIT_ERROR;
    }
    if recurse && cas {
        ui.error("Cannot specify both -cas and -recurse!");
        return EXIT_ERROR;
    }
    let query = if recurse {
        vec![("recurse", String::new())]
    } else if cas {
        vec![("cas", modify_index.to_string())]
    } else {
        Vec::new()
    };
    let target = client.kv_target(key, &query);
    let outcome = client
        .send("DELETE", &target, &[])
        .and_then(|r| written(&r));
    match outcome {
        Ok(_) if recurse => {
            ui.info(&format!("Success! Deleted keys with prefix: {key}"));
            0
        }
        Ok(true) => {
            ui.info(&format!("Success! Deleted key: {key}"));
            0
        }
        Ok(false) => {
            ui.error(&format!("Error! Did not delete key {key}: CAS failed"));
            EXIT_ERROR
        }
        Err(e) if recurse => {
            ui.error(&format!("Error! Did not delete prefix {key}: {e}"));
            EXIT_ERROR
        }
        Err(e) if cas => {
            ui.error(&format!("Error! Did not delete key {key}: {e}"));
            EXIT_ERROR
        }
        Err(e) => {
            ui.error(&format!("Error deleting key {key}: {e}"));
            EXIT_ERROR
        }
    }
}
