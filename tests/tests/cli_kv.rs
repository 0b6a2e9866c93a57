//! End to end: `synod kv` against a real dev agent, with Consul's exact output and exit codes.

mod cli_support;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use cli_support::{Agent, free_port, synod_binary, temp_dir};

/// A dev agent and the address of its HTTP API.
fn dev_agent() -> (Agent, String) {
    let http = free_port();
    let mut agent = Agent::start(&[
        "-dev",
        &format!("-http-port={http}"),
        &format!("-server-port={}", free_port()),
        "-dns-port=-1",
    ]);
    agent.wait_for("New leader elected", Duration::from_secs(10));
    (agent, format!("127.0.0.1:{http}"))
}

/// `synod args...` with `SYNOD_HTTP_ADDR=addr` and `stdin`: (exit code, stdout, stderr).
fn synod(addr: &str, args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let mut child = Command::new(synod_binary())
        .args(args)
        .env_remove("CONSUL_HTTP_ADDR")
        .env("SYNOD_HTTP_ADDR", addr)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run synod");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(stdin)
        .expect("write stdin");
    let out = child.wait_with_output().expect("synod output");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(out: &str) -> (i32, String, String) {
    (0, out.to_string(), String::new())
}

fn failed(err: &str) -> (i32, String, String) {
    (1, String::new(), err.to_string())
}

/// The ModifyIndex line of `kv get -detailed`.
fn modify_index(detailed: &str) -> u64 {
    detailed
        .lines()
        .find_map(|l| l.strip_prefix("ModifyIndex"))
        .and_then(|rest| rest.trim().parse().ok())
        .unwrap_or_else(|| panic!("no ModifyIndex in {detailed:?}"))
}

#[test]
fn put_get_delete_with_consuls_messages_and_exit_codes() {
    let (agent, addr) = dev_agent();
    let kv = |args: &[&str]| synod(&addr, args, b"");

    assert_eq!(
        kv(&["kv", "put", "foo", "bar"]),
        ok("Success! Data written to: foo\n")
    );
    assert_eq!(kv(&["kv", "get", "foo"]), ok("bar\n"));
    assert_eq!(kv(&["kv", "get", "-base64", "foo"]), ok("YmFy\n"));
    assert_eq!(
        kv(&["kv", "get", "missing"]),
        failed("Error! No key exists at: missing\n")
    );
    assert_eq!(kv(&["kv", "get"]), failed("Error! Missing KEY argument\n"));

    // -flags, then -detailed's layout.
    assert_eq!(
        kv(&["kv", "put", "-flags=42", "foo", "baz"]),
        ok("Success! Data written to: foo\n")
    );
    let (code, detailed, _) = kv(&["kv", "get", "-detailed", "foo"]);
    assert_eq!(code, 0);
    let index = modify_index(&detailed);
    let create = detailed
        .lines()
        .find_map(|l| l.strip_prefix("CreateIndex"))
        .map(str::trim)
        .expect("CreateIndex line");
    assert_eq!(
        detailed,
        format!(
            "CreateIndex      {create}\nFlags            42\nKey              foo\nLockIndex        0\n\
             ModifyIndex      {index}\nSession          -\nValue            baz\n"
        )
    );

    // CAS: a stale index fails with exit 1, the current one writes.
    let stale = (index - 1).to_string();
    assert_eq!(
        kv(&[
            "kv",
            "put",
            "-cas",
            &format!("-modify-index={stale}"),
            "foo",
            "x"
        ]),
        failed("Error! Did not write to foo: CAS failed\n")
    );
    assert_eq!(
        kv(&["kv", "put", "-cas", "foo", "x"]),
        failed("Must specify -modify-index with -cas!\n")
    );
    assert_eq!(
        kv(&[
            "kv",
            "put",
            "-cas",
            &format!("-modify-index={index}"),
            "foo",
            "x"
        ]),
        ok("Success! Data written to: foo\n")
    );

    // Data from stdin and from a file; -base64 decodes the data.
    assert_eq!(
        synod(&addr, &["kv", "put", "web/stdin", "-"], b"from stdin"),
        ok("Success! Data written to: web/stdin\n")
    );
    let file = temp_dir("kv-file").join("value.txt");
    std::fs::write(&file, "from file").expect("write value file");
    assert_eq!(
        kv(&["kv", "put", "web/file", &format!("@{}", file.display())]),
        ok("Success! Data written to: web/file\n")
    );
    assert_eq!(
        kv(&["kv", "put", "-base64", "web/sub/b64", "aGVsbG8="]),
        ok("Success! Data written to: web/sub/b64\n")
    );
    assert_eq!(
        kv(&["kv", "get", "-recurse", "web"]),
        ok("web/file:from file\nweb/stdin:from stdin\nweb/sub/b64:hello\n")
    );
    assert_eq!(
        kv(&["kv", "get", "-keys", "web/"]),
        ok("web/file\nweb/stdin\nweb/sub/\n")
    );
    assert_eq!(kv(&["kv", "get", "-keys"]), ok("foo\nweb/\n"));

    // Deletes: one key, a CAS miss, a prefix.
    assert_eq!(
        kv(&["kv", "delete", "web/file"]),
        ok("Success! Deleted key: web/file\n")
    );
    assert_eq!(
        kv(&["kv", "delete", "-cas", "-modify-index=1", "foo"]),
        failed("Error! Did not delete key foo: CAS failed\n")
    );
    assert_eq!(
        kv(&["kv", "delete", "-recurse", "web/"]),
        ok("Success! Deleted keys with prefix: web/\n")
    );
    assert_eq!(kv(&["kv", "get", "-recurse", "web/"]), ok(""));
    drop(agent);
}

#[test]
fn export_then_import_round_trips_a_tree() {
    let (agent, addr) = dev_agent();
    let kv = |args: &[&str]| synod(&addr, args, b"");
    kv(&["kv", "put", "app/a", "1"]);
    kv(&["kv", "put", "-flags=7", "app/b", "<two>"]);
    kv(&["kv", "put", "other", "x"]);

    let (code, exported, err) = kv(&["kv", "export", "app/"]);
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(
        exported,
        "[\n\t{\n\t\t\"key\": \"app/a\",\n\t\t\"flags\": 0,\n\t\t\"value\": \"MQ==\"\n\t},\n\
         \t{\n\t\t\"key\": \"app/b\",\n\t\t\"flags\": 7,\n\t\t\"value\": \"PHR3bz4=\"\n\t}\n]\n"
    );
    assert_eq!(kv(&["kv", "export", "nothing/"]), ok("[]\n"));

    assert_eq!(
        kv(&["kv", "delete", "-recurse", "app/"]),
        ok("Success! Deleted keys with prefix: app/\n")
    );
    let file = temp_dir("kv-export").join("app.json");
    std::fs::write(&file, &exported).expect("write export");
    assert_eq!(
        kv(&["kv", "import", &format!("@{}", file.display())]),
        ok("Imported: app/a\nImported: app/b\n")
    );
    assert_eq!(
        kv(&["kv", "get", "-recurse", "app/"]),
        ok("app/a:1\napp/b:<two>\n")
    );
    let (_, detailed, _) = kv(&["kv", "get", "-detailed", "app/b"]);
    assert!(detailed.contains("Flags            7\n"), "{detailed}");

    // From stdin, and a refusal for data that is not an export.
    assert_eq!(
        synod(
            &addr,
            &["kv", "import", "-"],
            br#"[{"key":"app/c","flags":0,"value":"Mw=="}]"#
        ),
        ok("Imported: app/c\n")
    );
    let (code, _, err) = kv(&["kv", "import", "not json"]);
    assert_eq!(code, 1);
    assert!(err.starts_with("Cannot unmarshal data: "), "{err}");
    drop(agent);
}

#[test]
fn http_addr_flag_wins_and_an_unreachable_agent_is_an_error() {
    let (agent, addr) = dev_agent();
    let dead = format!("127.0.0.1:{}", free_port());
    // The environment points at nothing; the flag at the agent.
    assert_eq!(
        synod(
            &dead,
            &["kv", "put", &format!("-http-addr={addr}"), "k", "v"],
            b""
        ),
        ok("Success! Data written to: k\n")
    );
    let (code, out, err) = synod(&dead, &["kv", "get", "k"], b"");
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(
        err.starts_with(&format!(
            "Error querying Consul agent: Get \"http://{dead}/v1/kv/k\": "
        )),
        "{err}"
    );
    drop(agent);
}
