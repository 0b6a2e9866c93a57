//! `synod join [-wan] ADDR...`: asks the local agent to join the pool through each address.

use super::command::{CommandSpec, EXIT_ERROR, switch};
use super::ui::Ui;

const JOIN: CommandSpec = CommandSpec {
    name: "join",
    usage: "address ...\n\n  Tells a running synod agent to join the cluster by specifying at least one\n  existing member.",
    flags: &[switch(
        "wan",
        "Joins a server to another server in the WAN pool.",
    )],
};

/// Runs `synod join <args>`.
pub fn run(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let (f, client) = match JOIN.parse(args, ui) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    if f.positional.is_empty() {
        ui.error("At least one address to join must be specified.");
        ui.error(&JOIN.help());
        return EXIT_ERROR;
    }
    let query = if f.switch("wan") {
        vec![("wan", "1".to_owned())]
    } else {
        Vec::new()
    };
    let mut joined = 0;
    for addr in &f.positional {
        let target = client.target(&format!("/v1/agent/join/{addr}"), &query);
        match client.send("PUT", &target, &[]) {
            Ok(r) if r.status == 200 => joined += 1,
            Ok(r) => ui.error(&format!(
                "Error joining address '{addr}': {}",
                r.unexpected()
            )),
            Err(e) => ui.error(&format!("Error joining address '{addr}': {e}")),
        }
    }
    if joined == 0 {
        ui.error("Failed to join any nodes.");
        return EXIT_ERROR;
    }
    ui.info(&format!(
        "Successfully joined cluster by contacting {joined} nodes."
    ));
    0
}
