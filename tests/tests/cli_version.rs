//! `synod version`, usage errors and configuration errors, through the real binary.

mod cli_support;

use cli_support::run_to_end;

#[test]
fn version_command_and_flag_print_the_version_and_protocol() {
    for form in ["version", "--version", "-version"] {
        let (status, stdout, _) = run_to_end(&[form]);
        assert!(status.success(), "{form}: {status}");
        let mut lines = stdout.lines();
        assert_eq!(lines.next(), Some("synod v0.1.0"), "{form}: {stdout}");
        assert!(
            lines.next().is_some_and(|l| l.starts_with("Protocol ")),
            "{form}: {stdout}"
        );
    }
}

#[test]
fn unknown_agent_flag_exits_1_with_the_error_and_usage() {
    let (status, _, stderr) = run_to_end(&["agent", "-dev", "-no-such-flag=1"]);
    assert_eq!(status.code(), Some(1));
    assert!(
        stderr.contains("flag provided but not defined: -no-such-flag"),
        "{stderr}"
    );
    assert!(stderr.contains("Usage: synod agent"), "{stderr}");
}

#[test]
fn server_without_data_dir_exits_1_with_consuls_message() {
    let (status, _, stderr) = run_to_end(&["agent", "-server"]);
    assert_eq!(status.code(), Some(1));
    assert_eq!(stderr.trim(), "==> data_dir cannot be empty");
}

#[test]
fn unknown_command_prints_the_command_list() {
    let (status, _, stderr) = run_to_end(&["frobnicate"]);
    assert_eq!(status.code(), Some(127));
    assert!(stderr.contains("Available commands are:"), "{stderr}");
}
