//! Runs the web UI's own tests (`runtime-smol/ui/tests`, pure view functions) under Node.js, so
//! the README's one test command covers the UI too. CI installs `nodejs`.

use std::path::Path;
use std::process::Command;

#[test]
fn ui_view_functions_pass_their_node_tests() {
    let ui = Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime-smol/ui");
    let output = Command::new("node")
        .arg("--test")
        .arg("tests/")
        .current_dir(&ui)
        .output()
        .expect("Node.js is needed for the UI tests: install the `nodejs` package");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "UI tests failed:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(report.contains("# fail 0"), "{report}");
}
