//! `synod services register [-id= -name= -address= -port= -tag= -meta=k=v] [FILE...]` and
//! `synod services deregister [-id=] [FILE...]`, with Consul's messages and exit codes.

use std::collections::BTreeMap;
use std::path::Path;

use synod_core::api::http::escape_path;

use super::command::{CommandSpec, EXIT_ERROR, number, value};
use super::flags::ParsedFlags;
use super::service_files::{self, FlagService};
use super::ui::Ui;

const SERVICES_USAGE: &str = "Usage: synod services <subcommand> [options] [args]\n\n  \
    Interacts with services registered with the local agent. Services registered\n  \
    here are synced to the catalog by the agent.\n\nSubcommands:\n    \
    deregister    Deregister services with the local agent\n    \
    register      Register services with the local agent";

const REGISTER: CommandSpec = CommandSpec {
    name: "services register",
    usage: "[FILE...]\n\n  Register one or more services using the local agent API. Services can\n  be registered from JSON service definition files or using flags. The\n  service is registered and the command returns. The caller must remember\n  to call \"synod services deregister\" to deregister the service when complete.\n\n      $ synod services register web.json",
    flags: &[
        value(
            "id",
            "ID of the service to register for arg-based registration. If this isn't set, it will default to the -name value.",
        ),
        value(
            "name",
            "Name of the service to register for arg-based registration.",
        ),
        value(
            "address",
            "Address of the service to register for arg-based registration.",
        ),
        value(
            "port",
            "Port of the service to register for arg-based registration.",
        ),
        value(
            "tag",
            "Tag to add to the service. This flag can be specified multiple times to set multiple tags.",
        ),
        value(
            "meta",
            "Metadata to set on the service, formatted as key=value. This flag may be specified multiple times to set multiple meta fields.",
        ),
    ],
};

const DEREGISTER: CommandSpec = CommandSpec {
    name: "services deregister",
    usage: "[FILE...]\n\n  Deregister one or more services that were previously registered with\n  the local agent.\n\n      $ synod services deregister web.json db.json\n\n  The -id flag may be used to deregister a single service by ID:\n\n      $ synod services deregister -id=web",
    flags: &[value(
        "id",
        "ID to delete. This must not be set if arguments are given.",
    )],
};

/// Runs `synod services <args>`; returns the exit status.
pub fn run(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let Some((sub, rest)) = args.split_first() else {
        ui.error(SERVICES_USAGE);
        return EXIT_ERROR;
    };
    match sub.as_str() {
        "register" => register(rest, ui),
        "deregister" => deregister(rest, ui),
        "-h" | "-help" | "--help" => {
            ui.info(SERVICES_USAGE);
            0
        }
        other => {
            ui.error(&format!(
                "Unknown subcommand: {other:?}\n\n{SERVICES_USAGE}"
            ));
            EXIT_ERROR
        }
    }
}

fn register(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let (f, client) = match REGISTER.parse(args, ui) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    let flags = match flag_service(&f) {
        Ok(flags) => flags,
        Err(e) => {
            ui.error(&format!("{e}\n\n{}", REGISTER.help()));
            return EXIT_ERROR;
        }
    };
    if f.positional.is_empty() && flags.name.is_empty() {
        ui.error("Service registration requires at least one argument or flags.");
        return EXIT_ERROR;
    }
    if !f.positional.is_empty() && !flags.name.is_empty() {
        ui.error("Service registration requires arguments or -id, not both.");
        return EXIT_ERROR;
    }
    let services = if f.positional.is_empty() {
        vec![(flags.name.clone(), flags.body())]
    } else {
        match from_files(&f.positional, &flags) {
            Ok(services) => services
                .into_iter()
                .map(|s| (s.definition.name, s.body))
                .collect(),
            Err(e) => {
                ui.error(&format!("Error: {e}"));
                return EXIT_ERROR;
            }
        }
    };
    let target = client.target("/v1/agent/service/register", &[]);
    for (name, body) in services {
        let body = serde_json::Value::Object(body).to_string();
        let error = match client.send("PUT", &target, body.as_bytes()) {
            Ok(r) if r.status == 200 => {
                ui.info(&format!("Registered service: {name}"));
                continue;
            }
            Ok(r) => r.unexpected(),
            Err(e) => e,
        };
        ui.error(&format!("Error registering service {name:?}: {error}"));
        return EXIT_ERROR;
    }
    0
}

fn deregister(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let (f, client) = match DEREGISTER.parse(args, ui) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    let id = f.value("id").unwrap_or_default();
    if f.positional.is_empty() && id.is_empty() {
        ui.error("Service deregistration requires at least one argument or -id.");
        return EXIT_ERROR;
    }
    if !f.positional.is_empty() && !id.is_empty() {
        ui.error("Service deregistration requires arguments or -id, not both.");
        return EXIT_ERROR;
    }
    let ids = if f.positional.is_empty() {
        vec![id.to_owned()]
    } else {
        match from_files(&f.positional, &FlagService::default()) {
            Ok(services) => services.into_iter().map(|s| s.definition.id).collect(),
            Err(e) => {
                ui.error(&format!("Error: {e}"));
                return EXIT_ERROR;
            }
        }
    };
    for id in ids {
        let path = format!("/v1/agent/service/deregister/{}", escape_path(&id));
        let error = match client.send("PUT", &client.target(&path, &[]), &[]) {
            Ok(r) if r.status == 200 => {
                ui.info(&format!("Deregistered service: {id}"));
                continue;
            }
            Ok(r) => r.unexpected(),
            Err(e) => e,
        };
        ui.error(&format!("Error deregistering service {id:?}: {error}"));
        return EXIT_ERROR;
    }
    0
}

/// Every service of every file, in order; all files are read before anything is sent.
fn from_files(
    files: &[String],
    flags: &FlagService,
) -> Result<Vec<service_files::FileService>, String> {
    let mut services = Vec::new();
    for file in files {
        services.extend(service_files::read(Path::new(file), flags)?);
    }
    Ok(services)
}

/// The service the flags describe; the error is Go's flag error text.
fn flag_service(f: &ParsedFlags) -> Result<FlagService, String> {
    let mut meta = BTreeMap::new();
    for pair in f.values("meta") {
        let (key, value) = pair.split_once('=').ok_or_else(|| {
            format!("invalid value {pair:?} for flag -meta: missing \"=\" in argument: {pair}")
        })?;
        meta.insert(key.to_owned(), value.to_owned());
    }
    Ok(FlagService {
        id: f.value("id").unwrap_or_default().to_owned(),
        name: f.value("name").unwrap_or_default().to_owned(),
        address: f.value("address").unwrap_or_default().to_owned(),
        port: number(f, "port", 0u16)?,
        tags: f.values("tag").map(str::to_owned).collect(),
        meta,
    })
}
