//! `synod agent`: flags and config files → [`AgentConfig`].

use std::path::PathBuf;

use super::flags::{self, FlagError, FlagKind, FlagSpec, ParsedFlags};
use crate::agent::AgentConfig;
use crate::agent::config_file::{self, ConfigSource};
use crate::agent::settings::{PortSetting, PortSettings, Settings};
use crate::dns::DnsSettings;
use crate::shell::log::UnknownLevel;

const fn switch(name: &'static str, help: &'static str) -> FlagSpec {
    FlagSpec {
        name,
        kind: FlagKind::Switch,
        help,
    }
}

const fn value(name: &'static str, help: &'static str) -> FlagSpec {
    FlagSpec {
        name,
        kind: FlagKind::Value,
        help,
    }
}

/// Flags `synod agent` accepts.
pub const AGENT_FLAGS: &[FlagSpec] = &[
    switch(
        "dev",
        "Starts the agent in development mode: in memory, a single server that elects itself at once.",
    ),
    switch(
        "ui",
        "Serves the built-in web UI at /ui/ on the HTTP address (always on in -dev).",
    ),
    switch(
        "server",
        "Switches the agent to server mode (a Raft voter).",
    ),
    switch(
        "bootstrap",
        "Bootstraps a new cluster with this server as its only member.",
    ),
    value(
        "bootstrap-expect",
        "Servers expected before the cluster bootstraps. 1 bootstraps this server at once.",
    ),
    value(
        "data-dir",
        "Path to a data directory to store agent state. Required except in -dev.",
    ),
    value(
        "config-file",
        "A JSON config file to load. Repeatable; later files override earlier ones.",
    ),
    value(
        "config-dir",
        "A directory whose *.json files are loaded in lexical order. Repeatable.",
    ),
    value(
        "node",
        "Name of this node. Must be unique in the cluster. Defaults to the host name.",
    ),
    value(
        "node-id",
        "A unique ID for this node (UUID). Generated and persisted in -data-dir by default.",
    ),
    value(
        "bind",
        "Address the server RPC listener binds. Defaults to 0.0.0.0.",
    ),
    value(
        "advertise",
        "Address advertised to other servers. Defaults to the bind address.",
    ),
    value(
        "client",
        "Address the HTTP and DNS interfaces bind. Defaults to 127.0.0.1.",
    ),
    value("datacenter", "Datacenter of the agent. Defaults to dc1."),
    value("server-port", "Server RPC port. Defaults to 8300."),
    value(
        "http-port",
        "HTTP API port. Defaults to 8500; -1 disables it.",
    ),
    value("dns-port", "DNS port. Defaults to 8600; -1 disables it."),
    value(
        "domain",
        "Domain the DNS interface answers for. Defaults to consul.",
    ),
    value(
        "alt-domain",
        "A second domain the DNS interface answers for, the same way.",
    ),
    value(
        "recursor",
        "Address of an upstream DNS server for names outside our domains. Repeatable.",
    ),
    value(
        "serf-lan-port",
        "Gossip LAN port. Defaults to 8301; -1 disables it.",
    ),
    value(
        "serf-wan-port",
        "Gossip WAN port. Defaults to 8302; -1 disables it.",
    ),
    value(
        "retry-join",
        "Address of an agent to join at start, retried until it succeeds. Repeatable.",
    ),
    value("join", "Address of an agent to join at start. Repeatable."),
    value(
        "retry-join-wan",
        "Address of a server of another datacenter to join over WAN gossip at start, retried until it succeeds. Repeatable.",
    ),
    value(
        "join-wan",
        "Address of a server of another datacenter to join over WAN gossip at start. Repeatable.",
    ),
    value(
        "retry-interval",
        "Time to wait between -retry-join attempts. Defaults to 30s.",
    ),
    value(
        "retry-max",
        "Maximum number of -retry-join attempts. Defaults to 0 (retry forever).",
    ),
    value(
        "encrypt",
        "Gossip encryption key (see `synod keygen`); used when no keyring file exists yet.",
    ),
    switch(
        "enable-script-checks",
        "Enables health checks that run scripts.",
    ),
    switch(
        "enable-local-script-checks",
        "Enables health checks that run scripts, for checks defined in config files only.",
    ),
    value(
        "log-level",
        "Log level: trace, debug, info, warn or error. Defaults to info (debug in -dev).",
    ),
];

/// Why `synod agent`'s arguments were rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AgentArgsError {
    /// The flags themselves are malformed (usage is printed).
    Flags(FlagError),
    /// The flags parse but the configuration is invalid, or a config file is refused (Consul
    /// prints these after `==> `).
    Config(String),
}

impl From<FlagError> for AgentArgsError {
    fn from(e: FlagError) -> Self {
        AgentArgsError::Flags(e)
    }
}

/// Parses the arguments after `synod agent`, loads the config files they name and merges
/// everything (flags win over files, later files over earlier ones).
pub fn parse_agent_args(args: &[String]) -> Result<AgentConfig, AgentArgsError> {
    let f = flags::parse(AGENT_FLAGS, args)?;
    if let Some(extra) = f.positional.first() {
        return Err(FlagError::Unexpected(extra.clone()).into());
    }
    let sources: Vec<ConfigSource> = f
        .occurrences(&["config-file", "config-dir"])
        .map(|(name, path)| match name {
            "config-file" => ConfigSource::File(PathBuf::from(path)),
            _ => ConfigSource::Dir(PathBuf::from(path)),
        })
        .collect();
    let from_files =
        config_file::load(&sources).map_err(|e| AgentArgsError::Config(e.to_string()))?;
    let settings = from_files.merge(flag_settings(&f)?);
    AgentConfig::from_settings(settings).map_err(AgentArgsError::Config)
}

/// The settings the flags give (unset where a flag is absent).
fn flag_settings(f: &ParsedFlags) -> Result<Settings, AgentArgsError> {
    let given_switch = |name: &str| f.value(name).map(|_| f.switch(name));
    let string = |name: &str| f.value(name).map(str::to_string);
    let log_level = f
        .value("log-level")
        .map(str::parse)
        .transpose()
        .map_err(|e: UnknownLevel| AgentArgsError::Config(e.to_string()))?;
    Ok(Settings {
        dev: given_switch("dev"),
        server: given_switch("server"),
        bootstrap: given_switch("bootstrap"),
        bootstrap_expect: optional(f, "bootstrap-expect")?,
        data_dir: string("data-dir"),
        node_name: string("node"),
        node_id: string("node-id"),
        datacenter: string("datacenter"),
        client_addr: optional(f, "client")?,
        bind_addr: optional(f, "bind")?,
        advertise_addr: optional(f, "advertise")?,
        ports: PortSettings {
            http: port(f, "http-port")?,
            dns: port(f, "dns-port")?,
            serf_lan: port(f, "serf-lan-port")?,
            serf_wan: port(f, "serf-wan-port")?,
            server: port(f, "server-port")?,
        },
        raft_multiplier: None,
        retry_join: f.values("retry-join").map(str::to_string).collect(),
        start_join: f.values("join").map(str::to_string).collect(),
        retry_join_wan: f.values("retry-join-wan").map(str::to_string).collect(),
        start_join_wan: f.values("join-wan").map(str::to_string).collect(),
        retry_interval: f
            .value("retry-interval")
            .map(crate::agent::go_duration::parse)
            .transpose()
            .map_err(|_| FlagError::BadValue {
                name: "retry-interval".to_string(),
                value: f.value("retry-interval").unwrap_or_default().to_string(),
            })?,
        retry_max: optional(f, "retry-max")?,
        encrypt: string("encrypt"),
        log_level,
        enable_script_checks: given_switch("enable-script-checks"),
        ui: given_switch("ui"),
        enable_local_script_checks: given_switch("enable-local-script-checks"),
        dns: DnsSettings {
            domain: string("domain"),
            alt_domain: string("alt-domain"),
            recursors: f.values("recursor").map(str::to_string).collect(),
            ..DnsSettings::default()
        },
        ..Settings::default()
    })
}

/// A value flag parsed as `T`, `None` when absent.
fn optional<T: std::str::FromStr>(f: &ParsedFlags, name: &str) -> Result<Option<T>, FlagError> {
    f.value(name)
        .map(|raw| {
            raw.parse().map_err(|_| FlagError::BadValue {
                name: name.to_string(),
                value: raw.to_string(),
            })
        })
        .transpose()
}

/// A port flag: -1 (disabled) to 65535.
fn port(f: &ParsedFlags, name: &str) -> Result<Option<PortSetting>, FlagError> {
    let Some(n) = optional::<i32>(f, name)? else {
        return Ok(None);
    };
    match n {
        -1 => Ok(Some(None)),
        n => u16::try_from(n)
            .map(|p| Some(Some(p)))
            .map_err(|_| FlagError::BadValue {
                name: name.to_string(),
                value: n.to_string(),
            }),
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;
    use crate::shell::log::Level;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn dns_flags_set_the_domains_and_repeat_for_recursors() {
        let config = parse_agent_args(&args(&[
            "-dev",
            "-domain=example.",
            "-alt-domain",
            "alt.",
            "-recursor=8.8.8.8",
            "-recursor=127.0.0.1:5353",
        ]))
        .expect("valid");
        assert_eq!(config.dns.answer.domain, "example.");
        assert_eq!(config.dns.answer.alt_domain.as_deref(), Some("alt."));
        let recursors: Vec<String> = config.dns.recursors.iter().map(|r| r.to_string()).collect();
        assert_eq!(recursors, ["8.8.8.8:53", "127.0.0.1:5353"]);
        assert_eq!(
            parse_agent_args(&args(&["-dev", "-recursor=resolver"])),
            Err(AgentArgsError::Config(
                r#"Invalid recursor address "resolver": expected an IP, optionally with a port"#
                    .into()
            ))
        );
    }

    #[test]
    fn dev_mode_is_a_bootstrapped_loopback_server_without_data_dir() {
        let config = parse_agent_args(&args(&["-dev"])).expect("valid");
        assert!(config.dev && config.server && config.bootstrap);
        assert_eq!(config.data_dir, None);
        assert_eq!(config.bind, IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_eq!(config.log_level, Level::Debug);
        assert_eq!(
            (config.server_port, config.http_port, config.dns_port),
            (8300, Some(8500), Some(8600))
        );
    }

    #[test]
    fn server_flags_are_read_in_every_syntax() {
        let config = parse_agent_args(&args(&[
            "--server",
            "-bootstrap",
            "-data-dir",
            "/var/synod",
            "-node=n1",
            "--server-port=9300",
            "-http-port",
            "9500",
            "-dns-port=-1",
            "-serf-lan-port",
            "-1",
            "-serf-wan-port=9302",
            "-bind=10.0.0.5",
            "-advertise=10.0.0.6",
            "-client=0.0.0.0",
            "-datacenter=eu-west",
            "-log-level=WARN",
            "-node-id=0f9a3c4e-1b2d-4e5f-8a9b-0c1d2e3f4a5b",
            "-retry-join=10.0.0.7",
            "-retry-join",
            "10.0.0.8",
            "-join=10.0.0.9",
            "-enable-script-checks",
        ]))
        .expect("valid");
        assert!(config.server && config.bootstrap && !config.dev);
        assert_eq!(config.data_dir, Some(PathBuf::from("/var/synod")));
        assert_eq!(config.node_name, "n1");
        assert_eq!(
            (
                config.server_port,
                config.http_port,
                config.dns_port,
                config.serf_lan_port,
                config.serf_wan_port
            ),
            (9300, Some(9500), None, None, Some(9302))
        );
        assert_eq!(config.bind, "10.0.0.5".parse::<IpAddr>().expect("ip"));
        assert_eq!(config.advertise, "10.0.0.6".parse().ok());
        assert_eq!(config.client, IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        assert_eq!(config.datacenter, "eu-west");
        assert_eq!(config.log_level, Level::Warn);
        assert_eq!(config.start_join, ["10.0.0.9"]);
        assert_eq!(config.retry_join, ["10.0.0.7", "10.0.0.8"]);
        assert!(config.enable_script_checks);
    }

    #[test]
    fn bootstrap_expect_one_is_bootstrap() {
        let config = parse_agent_args(&args(&[
            "-server",
            "-bootstrap-expect",
            "1",
            "-data-dir=/tmp/consul",
        ]))
        .expect("valid");
        assert!(config.bootstrap);
        assert_eq!(config.bootstrap_expect, 1);
    }

    #[test]
    fn flags_win_over_files_and_later_files_over_earlier_ones() {
        let dir = std::env::temp_dir().join(format!("synod-cli-agent-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let first = dir.join("1.json");
        let second = dir.join("2.json");
        std::fs::write(
            &first,
            r#"{"datacenter": "a", "node_name": "file", "ports": {"http": 1}}"#,
        )
        .expect("write");
        std::fs::write(&second, r#"{"datacenter": "b", "ports": {"dns": 2}}"#).expect("write");
        let config = parse_agent_args(&args(&[
            "-dev",
            &format!("-config-file={}", first.display()),
            "-node=flag",
            &format!("-config-file={}", second.display()),
        ]))
        .expect("valid");
        assert_eq!(config.datacenter, "b");
        assert_eq!(config.node_name, "flag");
        assert_eq!((config.http_port, config.dns_port), (Some(1), Some(2)));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn server_without_data_dir_is_refused_with_consuls_message() {
        assert_eq!(
            parse_agent_args(&args(&["-server"])),
            Err(AgentArgsError::Config("data_dir cannot be empty".into()))
        );
    }

    #[test]
    fn bad_port_names_the_flag() {
        for bad in ["http", "65536", "-2"] {
            assert_eq!(
                parse_agent_args(&args(&["-dev", &format!("-http-port={bad}")])),
                Err(AgentArgsError::Flags(FlagError::BadValue {
                    name: "http-port".into(),
                    value: bad.into()
                }))
            );
        }
    }

    #[test]
    fn unknown_flag_and_stray_argument_are_flag_errors() {
        assert_eq!(
            parse_agent_args(&args(&["-dev", "-joinn=x"])),
            Err(AgentArgsError::Flags(FlagError::Undefined("joinn".into())))
        );
        assert_eq!(
            parse_agent_args(&args(&["-dev", "now"])),
            Err(AgentArgsError::Flags(FlagError::Unexpected("now".into())))
        );
    }

    #[test]
    fn malformed_node_id_log_level_and_missing_config_file_are_config_errors() {
        assert!(matches!(
            parse_agent_args(&args(&["-dev", "-node-id=abc"])),
            Err(AgentArgsError::Config(_))
        ));
        assert!(matches!(
            parse_agent_args(&args(&["-dev", "-log-level=loud"])),
            Err(AgentArgsError::Config(_))
        ));
        assert!(matches!(
            parse_agent_args(&args(&["-dev", "-config-file=/nonexistent/synod.json"])),
            Err(AgentArgsError::Config(m)) if m.starts_with("Error parsing /nonexistent/synod.json: ")
        ));
    }
}
