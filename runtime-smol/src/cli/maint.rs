//! `synod maint [-enable|-disable] [-reason=] [-service=ID]`: node or service maintenance mode,
//! or (without flags) what is in maintenance now, with Consul's messages and exit codes.

use std::collections::BTreeMap;

use serde::Deserialize;
use synod_core::api::http::escape_path;

use super::command::{CommandSpec, EXIT_ERROR, switch, value};
use super::http_client::{ApiClient, HttpResponse};
use super::ui::Ui;

/// The check ID of node maintenance.
const NODE_MAINTENANCE: &str = "_node_maintenance";
/// The check ID prefix of service maintenance.
const SERVICE_MAINTENANCE_PREFIX: &str = "_service_maintenance:";

const MAINT: CommandSpec = CommandSpec {
    name: "maint",
    usage: "\n\n  Places a node or service into maintenance mode. During maintenance mode,\n  the node or service will be excluded from all queries through the DNS\n  or API interfaces, effectively taking it out of the pool of available\n  nodes. This is done by registering an additional critical health check.\n\n  When enabling maintenance mode for a node or service, you may optionally\n  specify a reason string. This string will appear in the \"Notes\" field\n  of the critical health check which is registered against the node or\n  service. If no reason is provided, a default value will be used.\n\n  Maintenance mode is persistent, and will be restored in the event of an\n  agent restart. It is therefore required to disable maintenance mode on\n  a given node or service before it will be placed back into the pool.\n\n  By default, we operate on the node as a whole. By specifying the\n  \"-service\" argument, this behavior can be changed to enable or disable\n  only a specific service.\n\n  If no arguments are given, the agent's maintenance status will be shown.\n  This will return blank if nothing is currently under maintenance.",
    flags: &[
        switch("enable", "Enable maintenance mode."),
        switch("disable", "Disable maintenance mode."),
        value("reason", "Text describing the maintenance reason."),
        value(
            "service",
            "Control maintenance mode for a specific service ID.",
        ),
    ],
};

/// The part of `/v1/agent/self` this command reads.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AgentSelf {
    config: SelfConfig,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SelfConfig {
    node_name: String,
}

/// The part of a `/v1/agent/checks` entry this command reads.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AgentCheck {
    #[serde(rename = "CheckID")]
    check_id: String,
    #[serde(rename = "ServiceID", default)]
    service_id: String,
    #[serde(default)]
    notes: String,
}

/// Runs `synod maint <args>`; returns the exit status.
pub fn run(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let (f, client) = match MAINT.parse(args, ui) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    let (enable, disable) = (f.switch("enable"), f.switch("disable"));
    let reason = f.value("reason").unwrap_or_default();
    let service = f.value("service").unwrap_or_default();
    if enable && disable {
        ui.error("Only one of -enable or -disable may be provided");
        return EXIT_ERROR;
    }
    if !enable && !reason.is_empty() {
        ui.error("Reason may only be provided with -enable");
        return EXIT_ERROR;
    }
    if !enable && !disable && !service.is_empty() {
        ui.error("Service requires either -enable or -disable");
        return EXIT_ERROR;
    }
    let node_name = match get_json::<AgentSelf>(&client, "/v1/agent/self") {
        Ok(agent) => agent.config.node_name,
        Err(e) => {
            ui.error(&format!("Error querying Consul agent: {e}"));
            return EXIT_ERROR;
        }
    };
    if !enable && !disable {
        return list(&client, &node_name, ui);
    }
    let path = if service.is_empty() {
        "/v1/agent/maintenance".to_owned()
    } else {
        format!("/v1/agent/service/maintenance/{}", escape_path(service))
    };
    let mut query = vec![("enable", enable.to_string())];
    if enable {
        query.push(("reason", reason.to_owned()));
    }
    let outcome = match client.send("PUT", &client.target(&path, &query), &[]) {
        Ok(r) if r.status == 200 => Ok(()),
        Ok(r) => Err(r.unexpected()),
        Err(e) => Err(e),
    };
    let (verb, state) = if enable {
        ("enabling", "enabled")
    } else {
        ("disabling", "disabled")
    };
    let what = if service.is_empty() {
        "node"
    } else {
        "service"
    };
    match outcome {
        Ok(()) if service.is_empty() => {
            ui.info(&format!("Node maintenance is now {state}"));
            0
        }
        Ok(()) => {
            ui.info(&format!(
                "Service maintenance is now {state} for {service:?}"
            ));
            0
        }
        Err(e) => {
            ui.error(&format!("Error {verb} {what} maintenance: {e}"));
            EXIT_ERROR
        }
    }
}

/// Prints the node and services in maintenance (nothing when none is).
fn list(client: &ApiClient, node_name: &str, ui: &mut Ui<'_>) -> i32 {
    let checks = match get_json::<BTreeMap<String, AgentCheck>>(client, "/v1/agent/checks") {
        Ok(checks) => checks,
        Err(e) => {
            ui.error(&format!("Error getting checks: {e}"));
            return EXIT_ERROR;
        }
    };
    for check in checks.values() {
        if check.check_id == NODE_MAINTENANCE {
            ui.info("Node:");
            ui.info(&format!("  Name:   {node_name}"));
            ui.info(&format!("  Reason: {}", check.notes));
            ui.info("");
        } else if check.check_id.starts_with(SERVICE_MAINTENANCE_PREFIX) {
            ui.info("Service:");
            ui.info(&format!("  ID:     {}", check.service_id));
            ui.info(&format!("  Reason: {}", check.notes));
            ui.info("");
        }
    }
    0
}

/// `GET path`, decoded; the error is the Go API client's text.
fn get_json<T: serde::de::DeserializeOwned>(client: &ApiClient, path: &str) -> Result<T, String> {
    let response: HttpResponse = client.send("GET", &client.target(path, &[]), &[])?;
    if response.status != 200 {
        return Err(response.unexpected());
    }
    serde_json::from_slice(&response.body).map_err(|e| format!("decoding the answer: {e}"))
}
