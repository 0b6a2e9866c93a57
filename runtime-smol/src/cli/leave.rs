//! `synod leave` (the local agent leaves gracefully and shuts down) and
//! `synod force-leave [-prune] [-wan] NODE` (a failed member is marked left).

use super::command::{CommandSpec, EXIT_ERROR, switch};
use super::ui::Ui;

const LEAVE: CommandSpec = CommandSpec {
    name: "leave",
    usage: "\n\n  Causes the agent to gracefully leave the cluster and shutdown.",
    flags: &[],
};

const FORCE_LEAVE: CommandSpec = CommandSpec {
    name: "force-leave",
    usage: "name\n\n  Forces a member of the cluster to enter the \"left\" state. If the node is\n  still alive, it will eventually rejoin the cluster.",
    flags: &[
        switch("prune", "Remove agent forcibly from list of members."),
        switch("wan", "Exclusively leave the agent from the WAN serf pool."),
    ],
};

/// Runs `synod leave <args>`.
pub fn leave(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let (f, client) = match LEAVE.parse(args, ui) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    if !f.positional.is_empty() {
        ui.error("The leave command does not take any arguments.");
        ui.error(&LEAVE.help());
        return EXIT_ERROR;
    }
    let target = client.target("/v1/agent/leave", &[]);
    match client.send("PUT", &target, &[]) {
        Ok(r) if r.status == 200 => {
            ui.info("Graceful leave complete");
            0
        }
        Ok(r) => {
            ui.error(&format!("Error leaving: {}", r.unexpected()));
            EXIT_ERROR
        }
        Err(e) => {
            ui.error(&format!("Error leaving: {e}"));
            EXIT_ERROR
        }
    }
}

/// Runs `synod force-leave <args>`.
pub fn force_leave(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let (f, client) = match FORCE_LEAVE.parse(args, ui) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    let [node] = f.positional.as_slice() else {
        ui.error("A single node name must be specified to force leave.");
        ui.error(&FORCE_LEAVE.help());
        return EXIT_ERROR;
    };
    let mut query = Vec::new();
    if f.switch("prune") {
        query.push(("prune", "1".to_owned()));
    }
    if f.switch("wan") {
        query.push(("wan", "1".to_owned()));
    }
    let target = client.target(&format!("/v1/agent/force-leave/{node}"), &query);
    match client.send("PUT", &target, &[]) {
        Ok(r) if r.status == 200 => 0,
        Ok(r) => {
            ui.error(&format!("Error force leaving: {}", r.unexpected()));
            EXIT_ERROR
        }
        Err(e) => {
            ui.error(&format!("Error force leaving: {e}"));
            EXIT_ERROR
        }
    }
}
