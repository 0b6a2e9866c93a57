//! `synod agent`: flags → [`AgentConfig`].

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use super::flags::{self, FlagError, FlagKind, FlagSpec};
use crate::agent::AgentConfig;
use crate::shell::log::Level;

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
        "server",
        "Switches the agent to server mode (a Raft voter).",
    ),
    switch(
        "bootstrap",
        "Bootstraps a new cluster with this server as its only member.",
    ),
    value(
        "data-dir",
        "Path to a data directory to store agent state. Required except in -dev.",
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
    value("http-port", "HTTP API port. Defaults to 8500."),
    value("dns-port", "DNS port. Defaults to 8600."),
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
    /// The flags parse but the configuration is invalid (Consul prints these after `==> `).
    Config(String),
}

impl From<FlagError> for AgentArgsError {
    fn from(e: FlagError) -> Self {
        AgentArgsError::Flags(e)
    }
}

/// Parses the arguments after `synod agent`.
pub fn parse_agent_args(args: &[String]) -> Result<AgentConfig, AgentArgsError> {
    let f = flags::parse(AGENT_FLAGS, args)?;
    if let Some(extra) = f.positional.first() {
        return Err(FlagError::Unexpected(extra.clone()).into());
    }
    let dev = f.switch("dev");
    let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let default_bind = if dev {
        loopback
    } else {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    };
    let default_level = if dev { Level::Debug } else { Level::Info };
    let log_level = match f.value("log-level") {
        None => default_level,
        Some(raw) => raw
            .parse()
            .map_err(|e: crate::shell::log::UnknownLevel| AgentArgsError::Config(e.to_string()))?,
    };
    let config = AgentConfig {
        dev,
        server: dev || f.switch("server"),
        bootstrap: dev || f.switch("bootstrap"),
        data_dir: f
            .value("data-dir")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from),
        node_name: f
            .value("node")
            .map_or_else(default_node_name, str::to_string),
        node_id: f.value("node-id").map(str::to_string),
        bind: f.parsed("bind", default_bind)?,
        advertise: f
            .value("advertise")
            .map(|_| f.parsed("advertise", loopback))
            .transpose()?,
        client: f.parsed("client", loopback)?,
        datacenter: f.value("datacenter").unwrap_or("dc1").to_string(),
        server_port: f.parsed("server-port", 8300)?,
        http_port: f.parsed("http-port", 8500)?,
        dns_port: f.parsed("dns-port", 8600)?,
        log_level,
    };
    validate(&config)?;
    Ok(config)
}

fn validate(config: &AgentConfig) -> Result<(), AgentArgsError> {
    let invalid = |msg: String| Err(AgentArgsError::Config(msg));
    if !config.dev && config.data_dir.is_none() {
        return invalid("data_dir cannot be empty".into());
    }
    if !config.server {
        return invalid("client agents are not supported yet: run with -server".into());
    }
    if config.bootstrap && !config.server {
        return invalid("bootstrap mode requires server mode (-server)".into());
    }
    if config.node_name.is_empty() {
        return invalid("node_name cannot be empty".into());
    }
    if config.datacenter.is_empty()
        || !config
            .datacenter
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return invalid(format!(
            "datacenter can only contain alphanumeric, dash and underscore characters: {:?}",
            config.datacenter
        ));
    }
    if let Some(id) = &config.node_id
        && !crate::agent::is_uuid(id)
    {
        return invalid(format!("node_id {id:?} is not a valid UUID"));
    }
    Ok(())
}

/// The host name, as Consul defaults `-node` to it.
fn default_node_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "synod".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
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
            (8300, 8500, 8600)
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
            "-dns-port=0",
            "-bind=10.0.0.5",
            "-datacenter=eu-west",
            "-log-level=WARN",
            "-node-id=0f9a3c4e-1b2d-4e5f-8a9b-0c1d2e3f4a5b",
        ]))
        .expect("valid");
        assert!(config.server && config.bootstrap && !config.dev);
        assert_eq!(config.data_dir, Some(PathBuf::from("/var/synod")));
        assert_eq!(config.node_name, "n1");
        assert_eq!(
            (config.server_port, config.http_port, config.dns_port),
            (9300, 9500, 0)
        );
        assert_eq!(config.bind, "10.0.0.5".parse::<IpAddr>().expect("ip"));
        assert_eq!(config.datacenter, "eu-west");
        assert_eq!(config.log_level, Level::Warn);
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
        assert_eq!(
            parse_agent_args(&args(&["-dev", "-http-port=http"])),
            Err(AgentArgsError::Flags(FlagError::BadValue {
                name: "http-port".into(),
                value: "http".into()
            }))
        );
    }

    #[test]
    fn unknown_flag_and_stray_argument_are_flag_errors() {
        assert_eq!(
            parse_agent_args(&args(&["-dev", "-join=x"])),
            Err(AgentArgsError::Flags(FlagError::Undefined("join".into())))
        );
        assert_eq!(
            parse_agent_args(&args(&["-dev", "now"])),
            Err(AgentArgsError::Flags(FlagError::Unexpected("now".into())))
        );
    }

    #[test]
    fn malformed_node_id_and_log_level_are_config_errors() {
        assert!(matches!(
            parse_agent_args(&args(&["-dev", "-node-id=abc"])),
            Err(AgentArgsError::Config(_))
        ));
        assert!(matches!(
            parse_agent_args(&args(&["-dev", "-log-level=loud"])),
            Err(AgentArgsError::Config(_))
        ));
    }
}
