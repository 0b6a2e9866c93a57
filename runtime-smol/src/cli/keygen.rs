//! `synod keygen`: prints a new gossip encryption key (base64 of 32 random bytes).

use super::command::EXIT_ERROR;
use super::ui::Ui;

/// Runs `synod keygen <args>`.
pub fn run(args: &[String], ui: &mut Ui<'_>) -> i32 {
    if let Some(arg) = args.first() {
        if matches!(arg.as_str(), "-h" | "-help" | "--help") {
            ui.info("Usage: synod keygen\n\n  Generates a new encryption key that can be used to configure the\n  agent to encrypt traffic. The output of this command is already\n  in the proper format that the agent expects.");
            return 0;
        }
        ui.error(&format!("Unexpected argument: {arg}"));
        return EXIT_ERROR;
    }
    match crate::serf::keygen() {
        Ok(key) => {
            ui.info(&key);
            0
        }
        Err(e) => {
            ui.error(&format!("Error reading random data: {e}"));
            EXIT_ERROR
        }
    }
}
