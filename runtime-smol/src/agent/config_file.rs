//! JSON config files (`-config-file`, `-config-dir`) with Consul's key names → [`Settings`].
//!
//! Every key is checked: an unknown key or a value of the wrong type or range refuses the whole
//! file with its path, the dotted key and the reason, so a typo never silently falls back to a
//! default.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::definitions;
use super::go_duration;
use super::settings::{PortSetting, Settings};
use crate::shell::log::Level;

/// Why a config file was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigFileError {
    /// The file (or directory) at fault.
    pub file: PathBuf,
    /// What is wrong, naming the key where there is one.
    pub reason: String,
}

impl fmt::Display for ConfigFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error parsing {}: {}", self.file.display(), self.reason)
    }
}

impl std::error::Error for ConfigFileError {}

/// Where settings come from, in command-line order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigSource {
    /// `-config-file`.
    File(PathBuf),
    /// `-config-dir`: its `*.json` files in lexical order, not recursive.
    Dir(PathBuf),
}

/// Reads every source in order and merges them, later ones winning.
pub fn load(sources: &[ConfigSource]) -> Result<Settings, ConfigFileError> {
    let mut merged = Settings::default();
    for source in sources {
        let files = match source {
            ConfigSource::File(path) => vec![path.clone()],
            ConfigSource::Dir(dir) => json_files_in(dir)?,
        };
        for file in files {
            merged = merged.merge(load_file(&file)?);
        }
    }
    Ok(merged)
}

fn json_files_in(dir: &Path) -> Result<Vec<PathBuf>, ConfigFileError> {
    let refuse = |reason: String| ConfigFileError {
        file: dir.to_path_buf(),
        reason,
    };
    let entries =
        std::fs::read_dir(dir).map_err(|e| refuse(format!("cannot read config dir: {e}")))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| refuse(format!("cannot read config dir: {e}")))?
            .path();
        if path.extension().is_some_and(|ext| ext == "json") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Reads and parses one file.
pub fn load_file(path: &Path) -> Result<Settings, ConfigFileError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigFileError {
        file: path.to_path_buf(),
        reason: format!("cannot read file: {e}"),
    })?;
    let mut settings = parse(&text).map_err(|reason| ConfigFileError {
        file: path.to_path_buf(),
        reason,
    })?;
    for defs in &mut settings.definitions {
        defs.file = path.to_path_buf();
    }
    Ok(settings)
}

/// Parses one file's text; the error is the reason (the caller names the file).
pub fn parse(text: &str) -> Result<Settings, String> {
    let root: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let Value::Object(root) = root else {
        return Err("the top level must be a JSON object".to_string());
    };
    let mut s = Settings::default();
    let mut has_definitions = false;
    for (key, value) in &root {
        let v = Field { key, value };
        match key.as_str() {
            "server" => s.server = Some(v.bool()?),
            "bootstrap" => s.bootstrap = Some(v.bool()?),
            "bootstrap_expect" => s.bootstrap_expect = Some(v.int_in(0, u32::MAX.into())? as u32),
            "data_dir" => s.data_dir = Some(v.string()?),
            "node_name" => s.node_name = Some(v.string()?),
            "node_id" => s.node_id = Some(v.string()?),
            "datacenter" => s.datacenter = Some(v.string()?),
            "client_addr" => s.client_addr = Some(v.ip()?),
            "bind_addr" => s.bind_addr = Some(v.ip()?),
            "advertise_addr" => s.advertise_addr = Some(v.ip()?),
            "retry_join" => s.retry_join = v.strings()?,
            "start_join" => s.start_join = v.strings()?,
            "retry_join_wan" => s.retry_join_wan = v.strings()?,
            "start_join_wan" => s.start_join_wan = v.strings()?,
            "retry_interval" => s.retry_interval = Some(go_duration::parse(&v.string()?)?),
            "ae_interval" => s.ae_interval = Some(go_duration::parse(&v.string()?)?),
            "retry_max" => s.retry_max = Some(v.int_in(0, u32::MAX.into())? as u32),
            "encrypt" => s.encrypt = Some(v.string()?),
            "leave_on_terminate" => s.leave_on_terminate = Some(v.bool()?),
            "skip_leave_on_interrupt" => s.skip_leave_on_interrupt = Some(v.bool()?),
            "log_level" => s.log_level = Some(v.level()?),
            "enable_script_checks" => s.enable_script_checks = Some(v.bool()?),
            "enable_local_script_checks" => s.enable_local_script_checks = Some(v.bool()?),
            "ports" => parse_ports(v.object()?, &mut s)?,
            "performance" => parse_performance(v.object()?, &mut s)?,
            "limits" => parse_limits(v.object()?, &mut s)?,
            "ui" => s.ui = Some(v.bool()?),
            "ui_config" => parse_ui_config(v.object()?, &mut s)?,
            "acl" => {
                v.object()?;
                s.acl = Some(value.clone());
            }
            "service" | "check" => {
                v.object()?;
                has_definitions = true;
            }
            "services" | "checks" => {
                v.objects()?;
                has_definitions = true;
            }
            _ if s.dns.parse_key(key, value)? => {}
            _ => return Err(unknown(key)),
        }
    }
    if has_definitions {
        s.definitions.push(definitions::decode_file(text)?);
    }
    Ok(s)
}

fn parse_ports(ports: &Map<String, Value>, s: &mut Settings) -> Result<(), String> {
    for_each_key("ports", ports, &[], |name, v| {
        let slot = match name {
            "http" => &mut s.ports.http,
            "dns" => &mut s.ports.dns,
            "serf_lan" => &mut s.ports.serf_lan,
            "serf_wan" => &mut s.ports.serf_wan,
            "server" => &mut s.ports.server,
            _ => return Ok(false),
        };
        *slot = Some(v.port()?);
        Ok(true)
    })
}

fn parse_performance(perf: &Map<String, Value>, s: &mut Settings) -> Result<(), String> {
    for_each_key("performance", perf, &[], |name, v| {
        match name {
            // Consul's bounds: 1 (fastest) to 10.
            "raft_multiplier" => s.raft_multiplier = Some(v.int_in(1, 10)? as u32),
            _ => return Ok(false),
        }
        Ok(true)
    })
}

/// Consul's `limits` keys synod accepts but does not enforce (yet).
const ACCEPTED_LIMITS: &[&str] = &[
    "txn_max_req_len",
    "rpc_max_conns_per_client",
    "rpc_rate",
    "rpc_max_burst",
    "rpc_handshake_timeout",
    "https_handshake_timeout",
    "rpc_client_timeout",
    "request_limits",
];

fn parse_limits(limits: &Map<String, Value>, s: &mut Settings) -> Result<(), String> {
    for_each_key("limits", limits, ACCEPTED_LIMITS, |name, v| {
        match name {
            "kv_max_value_size" => s.kv_max_value_size = Some(v.int_in(1, i64::MAX)? as u64),
            "http_max_conns_per_client" => {
                s.http_max_conns_per_client = Some(v.int_in(0, u32::MAX.into())? as u32);
            }
            _ => return Ok(false),
        }
        Ok(true)
    })
}

/// `ui_config` keys accepted without effect: the UI is embedded and has no metrics views.
const ACCEPTED_UI_CONFIG: &[&str] = &[
    "dir",
    "content_path",
    "metrics_provider",
    "metrics_provider_files",
    "metrics_provider_options_json",
    "metrics_proxy",
    "dashboard_url_templates",
];

fn parse_ui_config(ui: &Map<String, Value>, s: &mut Settings) -> Result<(), String> {
    for_each_key("ui_config", ui, ACCEPTED_UI_CONFIG, |name, v| {
        match name {
            "enabled" => s.ui = Some(v.bool()?),
            _ => return Ok(false),
        }
        Ok(true)
    })
}

/// Reads the keys of object `section`: `read` takes those it knows (answering true), keys in
/// `ignored` are accepted without effect, and any other key refuses the file.
fn for_each_key(
    section: &str,
    object: &Map<String, Value>,
    ignored: &[&str],
    mut read: impl FnMut(&str, &Field<'_>) -> Result<bool, String>,
) -> Result<(), String> {
    for (name, value) in object {
        let key = format!("{section}.{name}");
        let field = Field { key: &key, value };
        if !read(name, &field)? && !ignored.contains(&name.as_str()) {
            return Err(unknown(&key));
        }
    }
    Ok(())
}

fn unknown(key: &str) -> String {
    format!("unknown key {key:?}")
}

/// One key and its value, with typed readers whose errors name the key.
pub(crate) struct Field<'a> {
    pub(crate) key: &'a str,
    pub(crate) value: &'a Value,
}

impl Field<'_> {
    pub(crate) fn invalid(&self, expected: &str) -> String {
        format!(
            "invalid value for {:?}: expected {expected}, got {}",
            self.key, self.value
        )
    }

    pub(crate) fn bool(&self) -> Result<bool, String> {
        self.value
            .as_bool()
            .ok_or_else(|| self.invalid("a boolean"))
    }

    pub(crate) fn string(&self) -> Result<String, String> {
        self.value
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| self.invalid("a string"))
    }

    pub(crate) fn int_in(&self, min: i64, max: i64) -> Result<i64, String> {
        self.value
            .as_i64()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| self.invalid(&format!("an integer from {min} to {max}")))
    }

    fn port(&self) -> Result<PortSetting, String> {
        let n = self.int_in(-1, u16::MAX.into())?;
        Ok(u16::try_from(n).ok())
    }

    fn ip(&self) -> Result<IpAddr, String> {
        self.value
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| self.invalid("an IP address"))
    }

    fn level(&self) -> Result<Level, String> {
        self.value
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| self.invalid("one of trace, debug, info, warn, error"))
    }

    pub(crate) fn strings(&self) -> Result<Vec<String>, String> {
        let items = self
            .value
            .as_array()
            .ok_or_else(|| self.invalid("a list of strings"))?;
        items
            .iter()
            .map(|item| item.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| self.invalid("a list of strings"))
    }

    pub(crate) fn object(&self) -> Result<&Map<String, Value>, String> {
        self.value
            .as_object()
            .ok_or_else(|| self.invalid("an object"))
    }

    fn objects(&self) -> Result<&[Value], String> {
        match self.value.as_array() {
            Some(items) if items.iter().all(Value::is_object) => Ok(items),
            _ => Err(self.invalid("a list of objects")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::settings::PortSettings;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("synod-config-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        dir
    }

    #[test]
    fn every_supported_key_is_read() {
        let s = parse(
            r#"{
                "server": true, "bootstrap": false, "bootstrap_expect": 3,
                "data_dir": "/var/synod", "node_name": "n1",
                "node_id": "0f9a3c4e-1b2d-4e5f-8a9b-0c1d2e3f4a5b", "datacenter": "eu",
                "client_addr": "0.0.0.0", "bind_addr": "10.0.0.1", "advertise_addr": "10.0.0.2",
                "ports": {"http": 9500, "dns": -1, "serf_lan": 9301, "serf_wan": 9302, "server": 9300},
                "performance": {"raft_multiplier": 5},
                "retry_join": ["10.0.0.3"], "start_join": ["10.0.0.4"], "log_level": "WARN",
                "enable_script_checks": true,
                "limits": {"kv_max_value_size": 1024, "http_max_conns_per_client": 50, "rpc_rate": 10},
                "acl": {"enabled": false},
                "enable_local_script_checks": true,
                "service": {"name": "web"}, "checks": [{"name": "c", "ttl": "10s"}]
            }"#,
        )
        .expect("valid");
        assert_eq!(s.server, Some(true));
        assert_eq!(s.bootstrap, Some(false));
        assert_eq!(s.bootstrap_expect, Some(3));
        assert_eq!(s.data_dir.as_deref(), Some("/var/synod"));
        assert_eq!(s.node_name.as_deref(), Some("n1"));
        assert_eq!(s.datacenter.as_deref(), Some("eu"));
        assert_eq!(s.client_addr, "0.0.0.0".parse().ok());
        assert_eq!(s.bind_addr, "10.0.0.1".parse().ok());
        assert_eq!(s.advertise_addr, "10.0.0.2".parse().ok());
        assert_eq!(
            s.ports,
            PortSettings {
                http: Some(Some(9500)),
                dns: Some(None),
                serf_lan: Some(Some(9301)),
                serf_wan: Some(Some(9302)),
                server: Some(Some(9300)),
            }
        );
        assert_eq!(s.raft_multiplier, Some(5));
        assert_eq!(s.retry_join, vec!["10.0.0.3"]);
        assert_eq!(s.start_join, vec!["10.0.0.4"]);
        assert_eq!(s.log_level, Some(Level::Warn));
        assert_eq!(s.enable_script_checks, Some(true));
        assert_eq!(s.kv_max_value_size, Some(1024));
        assert_eq!(s.http_max_conns_per_client, Some(50));
        assert!(s.acl.is_some());
        assert_eq!(s.enable_local_script_checks, Some(true));
        assert_eq!(s.definitions.len(), 1);
        assert_eq!(s.definitions[0].definitions.services.len(), 1);
        assert_eq!(s.definitions[0].definitions.checks.len(), 1);
    }

    #[test]
    fn dns_keys_are_read_and_their_unknown_subkeys_refused() {
        let s = parse(
            r#"{"domain": "example.", "recursors": ["8.8.8.8"],
                "dns_config": {"only_passing": true, "soa": {"min_ttl": 5}}}"#,
        )
        .expect("valid");
        assert_eq!(s.dns.domain.as_deref(), Some("example."));
        assert_eq!(s.dns.recursors, ["8.8.8.8"]);
        assert_eq!(s.dns.only_passing, Some(true));
        assert_eq!(s.dns.soa.min_ttl, Some(5));
        assert_eq!(
            parse(r#"{"dns_config": {"ttl": "1s"}}"#),
            Err(r#"unknown key "dns_config.ttl""#.into())
        );
    }

    #[test]
    fn unknown_keys_are_refused_with_their_dotted_path() {
        assert_eq!(
            parse(r#"{"prots": {}}"#),
            Err(r#"unknown key "prots""#.into())
        );
        assert_eq!(
            parse(r#"{"ports": {"htp": 1}}"#),
            Err(r#"unknown key "ports.htp""#.into())
        );
        assert_eq!(
            parse(r#"{"performance": {"raft_multipler": 1}}"#),
            Err(r#"unknown key "performance.raft_multipler""#.into())
        );
        assert_eq!(
            parse(r#"{"limits": {"kv_max": 1}}"#),
            Err(r#"unknown key "limits.kv_max""#.into())
        );
    }

    #[test]
    fn values_of_the_wrong_type_or_range_are_refused_with_key_and_reason() {
        let cases = [
            (
                r#"{"server": "yes"}"#,
                r#"invalid value for "server": expected a boolean, got "yes""#,
            ),
            (
                r#"{"data_dir": 1}"#,
                r#"invalid value for "data_dir": expected a string, got 1"#,
            ),
            (
                r#"{"ports": {"http": 70000}}"#,
                r#"invalid value for "ports.http": expected an integer from -1 to 65535, got 70000"#,
            ),
            (
                r#"{"ports": {"dns": -2}}"#,
                r#"invalid value for "ports.dns": expected an integer from -1 to 65535, got -2"#,
            ),
            (
                r#"{"performance": {"raft_multiplier": 11}}"#,
                r#"invalid value for "performance.raft_multiplier": expected an integer from 1 to 10, got 11"#,
            ),
            (
                r#"{"bootstrap_expect": -1}"#,
                r#"invalid value for "bootstrap_expect": expected an integer from 0 to 4294967295, got -1"#,
            ),
            (
                r#"{"limits": {"kv_max_value_size": 0}}"#,
                r#"invalid value for "limits.kv_max_value_size": expected an integer from 1 to 9223372036854775807, got 0"#,
            ),
            (
                r#"{"bind_addr": "not-an-ip"}"#,
                r#"invalid value for "bind_addr": expected an IP address, got "not-an-ip""#,
            ),
            (
                r#"{"log_level": "loud"}"#,
                r#"invalid value for "log_level": expected one of trace, debug, info, warn, error, got "loud""#,
            ),
            (
                r#"{"retry_join": ["a", 1]}"#,
                r#"invalid value for "retry_join": expected a list of strings, got ["a",1]"#,
            ),
            (
                r#"{"ports": 8500}"#,
                r#"invalid value for "ports": expected an object, got 8500"#,
            ),
            (
                r#"{"acl": true}"#,
                r#"invalid value for "acl": expected an object, got true"#,
            ),
            (
                r#"{"services": [1]}"#,
                r#"invalid value for "services": expected a list of objects, got [1]"#,
            ),
        ];
        for (text, reason) in cases {
            assert_eq!(parse(text), Err(reason.to_string()), "{text}");
        }
    }

    #[test]
    fn malformed_json_and_non_object_tops_are_refused() {
        assert!(
            parse("{\"server\": true,")
                .expect_err("truncated")
                .starts_with("invalid JSON: ")
        );
        assert_eq!(
            parse("[]"),
            Err("the top level must be a JSON object".to_string())
        );
    }

    #[test]
    fn a_dir_is_read_in_lexical_order_and_only_its_json_files() {
        let dir = temp_dir("dir");
        std::fs::write(
            dir.join("b.json"),
            r#"{"datacenter": "b", "ports": {"http": 1}}"#,
        )
        .expect("write");
        std::fs::write(
            dir.join("a.json"),
            r#"{"datacenter": "a", "node_name": "n"}"#,
        )
        .expect("write");
        std::fs::write(dir.join("c.hcl"), "not json").expect("write");
        let s = load(&[ConfigSource::Dir(dir.clone())]).expect("valid dir");
        assert_eq!(s.datacenter.as_deref(), Some("b"));
        assert_eq!(s.node_name.as_deref(), Some("n"));
        assert_eq!(s.ports.http, Some(Some(1)));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_bad_definition_is_refused_with_file_key_and_reason() {
        let dir = temp_dir("bad-definition");
        let file = dir.join("web.json");
        std::fs::write(&file, r#"{"service": {"name": "web", "prot": 80}}"#).expect("write");
        let err = load(&[ConfigSource::Dir(dir.clone())]).expect_err("refused");
        assert_eq!(
            err.to_string(),
            format!(
                "Error parsing {}: service.prot: unknown key",
                file.display()
            )
        );
        std::fs::write(&file, r#"{"service": {"name": "web", "port": 80}}"#).expect("write");
        let s = load(&[ConfigSource::Dir(dir.clone())]).expect("valid");
        assert_eq!(s.definitions.len(), 1);
        assert_eq!(s.definitions[0].file, file);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_bad_file_is_named_in_the_error() {
        let dir = temp_dir("bad");
        let file = dir.join("a.json");
        std::fs::write(&file, r#"{"prots": {}}"#).expect("write");
        let err = load(&[ConfigSource::File(file.clone())]).expect_err("refused");
        assert_eq!(
            err.to_string(),
            format!("Error parsing {}: unknown key \"prots\"", file.display())
        );
        let missing = load(&[ConfigSource::Dir(dir.join("absent"))]).expect_err("no dir");
        assert!(
            missing.reason.starts_with("cannot read config dir: "),
            "{missing}"
        );
        let absent = load(&[ConfigSource::File(dir.join("none.json"))]).expect_err("no file");
        assert!(absent.reason.starts_with("cannot read file: "), "{absent}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
