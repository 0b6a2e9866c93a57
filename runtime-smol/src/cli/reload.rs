//! `synod reload`: asks the local agent to re-read its configuration files.

use super::command::{CommandSpec, EXIT_ERROR};
use super::ui::Ui;

const RELOAD: CommandSpec = CommandSpec {
    name: "reload",
    usage: "\n\n  Causes the agent to reload configurations. This can be used instead\n  of sending the SIGHUP signal to the agent.",
    flags: &[],
};

/// Runs `synod reload <args>`.
pub fn run(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let (f, client) = match RELOAD.parse(args, ui) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    if !f.positional.is_empty() {
        ui.error("The reload command does not take any arguments.");
        ui.error(&RELOAD.help());
        return EXIT_ERROR;
    }
    let target = client.target("/v1/agent/reload", &[]);
    let error = match client.send("PUT", &target, &[]) {
        Ok(r) if r.status == 200 => {
            ui.info("Configuration reload triggered");
            return 0;
        }
        Ok(r) => r.unexpected(),
        Err(e) => e,
    };
    ui.error(&format!("Error reloading: {error}"));
    EXIT_ERROR
}
