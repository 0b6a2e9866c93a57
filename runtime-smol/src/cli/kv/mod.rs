//! `synod kv get|put|delete|export|import`, with Consul's flags, messages and exit codes.

mod data;
mod delete;
mod format;
mod get;
mod import;
mod pair;
mod put;

use super::command::EXIT_ERROR;
use super::ui::Ui;

const KV_USAGE: &str = "Usage: synod kv <subcommand> [options] [args]\n\n  \
    Interacts with the key-value store.\n\nSubcommands:\n    \
    delete    Removes data from the KV store\n    \
    export    Exports a tree from the KV store as JSON\n    \
    get       Retrieves or lists data from the KV store\n    \
    import    Imports a tree stored as JSON to the KV store\n    \
    put       Sets or updates data in the KV store";

/// Runs `synod kv <args>`; returns the exit status.
pub fn run(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let Some((sub, rest)) = args.split_first() else {
        ui.error(KV_USAGE);
        return EXIT_ERROR;
    };
    match sub.as_str() {
        "get" => get::run(rest, ui),
        "put" => put::run(rest, ui),
        "delete" => delete::run(rest, ui),
        "export" => import::run_export(rest, ui),
        "import" => import::run_import(rest, ui),
        "-h" | "-help" | "--help" => {
            ui.info(KV_USAGE);
            0
        }
        other => {
            ui.error(&format!("Unknown subcommand: {other:?}\n\n{KV_USAGE}"));
            EXIT_ERROR
        }
    }
}

/// The optional KEY (or PREFIX) argument of `get`, `delete` and `export`: empty when absent,
/// with one leading `/` stripped as Consul does (KV keys never start with one, but users type
/// them). More than one argument is reported and answered with the exit status.
fn key_argument<'a>(positional: &'a [String], ui: &mut Ui<'_>) -> Result<&'a str, i32> {
    match positional {
        [] => Ok(""),
        [key] => Ok(key.strip_prefix('/').unwrap_or(key)),
        more => {
            ui.error(&format!(
                "Too many arguments (expected 1, got {})",
                more.len()
            ));
            Err(EXIT_ERROR)
        }
    }
}
