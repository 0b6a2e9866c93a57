//! The `synod` command line: `synod <command> [flags]`, flags parsed like Consul's (Go's
//! `flag` package): `-flag=v`, `-flag v`, `--flag`.

pub mod agent;
pub mod catalog;
pub mod columnize;
pub mod command;
pub mod flags;
pub mod http_client;
pub mod join;
pub mod keygen;
pub mod kv;
pub mod leave;
pub mod members;
pub mod operator;
pub mod ui;
pub mod version;

use std::io::Write;

use agent::{AGENT_FLAGS, AgentArgsError, parse_agent_args};

/// Exit status for a bad command line or a failed start.
const EXIT_FAILURE: i32 = 1;
/// Exit status for an unknown command (what Consul's CLI returns).
const EXIT_NO_COMMAND: i32 = 127;

fn top_usage() -> String {
    "Usage: synod [--version] [--help] <command> [<args>]\n\n\
     Available commands are:\n    \
     agent        Runs a synod agent\n    \
     catalog      Interact with the catalog\n    \
     force-leave  Forces a member of the cluster to enter the \"left\" state\n    \
     join         Tell the local agent to join a cluster\n    \
     keygen       Generates a new encryption key\n    \
     kv           Interact with the key-value store\n    \
     leave        Gracefully leaves the cluster and shuts down\n    \
     members      Lists the members of a cluster\n    \
     operator     Provides cluster-level tools (raft list-peers, remove-peer)\n    \
     version      Prints the synod version\n"
        .to_string()
}

fn agent_usage() -> String {
    format!(
        "Usage: synod agent [options]\n\n  Starts the synod agent and runs until an interrupt is received.\n\n\
         Options:\n\n{}",
        flags::usage(AGENT_FLAGS)
    )
}

fn print_out(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

fn print_err(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// Runs the command line `args` (without the program name); returns the exit status.
pub fn run(args: &[String]) -> i32 {
    let Some((command, rest)) = args.split_first() else {
        print_err(&top_usage());
        return EXIT_NO_COMMAND;
    };
    match command.as_str() {
        "version" | "-version" | "--version" | "-v" => {
            print_out(&version::version_text());
            0
        }
        "-h" | "-help" | "--help" | "help" => {
            print_out(&top_usage());
            0
        }
        "agent" => run_agent(rest),
        "kv" => with_ui(|ui| kv::run(rest, ui)),
        "catalog" => with_ui(|ui| catalog::run(rest, ui)),
        "operator" => with_ui(|ui| operator::run(rest, ui)),
        "members" => with_ui(|ui| members::run(rest, ui)),
        "join" => with_ui(|ui| join::run(rest, ui)),
        "leave" => with_ui(|ui| leave::leave(rest, ui)),
        "force-leave" => with_ui(|ui| leave::force_leave(rest, ui)),
        "keygen" => with_ui(|ui| keygen::run(rest, ui)),
        other => {
            print_err(&format!("Unknown command: {other:?}\n\n{}", top_usage()));
            EXIT_NO_COMMAND
        }
    }
}

/// Runs a command writing to the process's stdout and stderr.
fn with_ui(command: impl FnOnce(&mut ui::Ui<'_>) -> i32) -> i32 {
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    command(&mut ui::Ui::new(&mut out, &mut err))
}

fn run_agent(args: &[String]) -> i32 {
    if args
        .iter()
        .any(|a| matches!(a.as_str(), "-h" | "-help" | "--help"))
    {
        print_out(&agent_usage());
        return 0;
    }
    let config = match parse_agent_args(args) {
        Ok(config) => config,
        Err(AgentArgsError::Flags(error)) => {
            print_err(&format!("{error}\n{}", agent_usage()));
            return EXIT_FAILURE;
        }
        Err(AgentArgsError::Config(message)) => {
            print_err(&format!("==> {message}\n"));
            return EXIT_FAILURE;
        }
    };
    match crate::agent::run(config) {
        Ok(()) => 0,
        Err(error) => {
            print_err(&format!("==> {error}\n"));
            EXIT_FAILURE
        }
    }
}
