//! Service and check definitions from config files: decoded per file (so every error names its
//! file), then checked against agent-wide rules once all sources are merged.

use std::path::{Path, PathBuf};

use synod_core::health::definition::{ConfigDefinitions, decode_config};
use synod_core::health::{CheckDefinition, CheckKind, ServiceDefinition};

use super::config_file::ConfigFileError;

/// Consul's refusal of a script check when neither script option is on.
pub const SCRIPTS_DISABLED: &str = "scripts are disabled on this agent; to enable, configure \
     'enable_script_checks' or 'enable_local_script_checks' to true";

/// The `service`/`services`/`check`/`checks` of one config file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileDefinitions {
    /// The file they came from (empty until the loader names it).
    pub file: PathBuf,
    /// What it defines, in file order.
    pub definitions: ConfigDefinitions,
}

/// Every definition of every config source, in load order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Definitions {
    /// Services (with their checks).
    pub services: Vec<ServiceDefinition>,
    /// Standalone checks.
    pub checks: Vec<CheckDefinition>,
}

/// Decodes the definitions of one config file's text; the error is `key path: reason`.
pub fn decode_file(text: &str) -> Result<FileDefinitions, String> {
    let definitions = decode_config(text.as_bytes()).map_err(|e| e.to_string())?;
    Ok(FileDefinitions {
        file: PathBuf::new(),
        definitions,
    })
}

/// Joins the files' definitions in order, refusing script checks unless `scripts_allowed`
/// (`enable_script_checks` or `enable_local_script_checks`): the error names the file, the
/// check and the reason.
pub fn merge(files: Vec<FileDefinitions>, scripts_allowed: bool) -> Result<Definitions, String> {
    let mut out = Definitions::default();
    for FileDefinitions { file, definitions } in files {
        if !scripts_allowed {
            refuse_scripts(&file, &definitions)?;
        }
        out.services.extend(definitions.services);
        out.checks.extend(definitions.checks);
    }
    Ok(out)
}

fn refuse_scripts(file: &Path, definitions: &ConfigDefinitions) -> Result<(), String> {
    let in_services = definitions.services.iter().flat_map(|service| {
        service.checks.iter().map(move |check| {
            (
                format!("service {:?} check {:?}", service.id, check.id),
                check,
            )
        })
    });
    let standalone = definitions
        .checks
        .iter()
        .map(|check| (format!("check {:?}", check.id), check));
    match in_services
        .chain(standalone)
        .find(|(_, check)| matches!(check.kind, CheckKind::Script { .. }))
    {
        Some((what, _)) => Err(ConfigFileError {
            file: file.to_path_buf(),
            reason: format!("{what}: {SCRIPTS_DISABLED}"),
        }
        .to_string()),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, text: &str) -> FileDefinitions {
        FileDefinitions {
            file: PathBuf::from(name),
            ..decode_file(text).expect("valid definitions")
        }
    }

    #[test]
    fn the_seed_walkthrough_file_decodes_to_one_service() {
        let defs = merge(
            vec![file(
                "web.json",
                r#"{"service": {"name": "web", "tags": ["rails"], "port": 80}}"#,
            )],
            false,
        )
        .expect("valid");
        assert_eq!(defs.services.len(), 1);
        let web = &defs.services[0];
        assert_eq!(
            (web.id.as_str(), web.name.as_str(), web.port),
            ("web", "web", 80)
        );
        assert_eq!(web.tags, vec!["rails"]);
        assert!(defs.checks.is_empty());
    }

    #[test]
    fn files_merge_in_load_order() {
        let defs = merge(
            vec![
                file("a.json", r#"{"services": [{"name": "a"}, {"name": "b"}]}"#),
                file(
                    "b.json",
                    r#"{"service": {"name": "c"}, "check": {"name": "mem", "ttl": "30s"}}"#,
                ),
            ],
            false,
        )
        .expect("valid");
        let names: Vec<_> = defs.services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(defs.checks.len(), 1);
        assert_eq!(defs.checks[0].id, "mem");
    }

    #[test]
    fn a_bad_definition_is_refused_with_its_key_and_reason() {
        assert_eq!(
            decode_file(r#"{"service": {"name": "web", "port": "eighty"}}"#)
                .map(|_| ())
                .expect_err("bad port")
                .split_once(':')
                .map(|(key, _)| key.to_string()),
            Some("service.port".to_string())
        );
        assert_eq!(
            decode_file(r#"{"service": {"tags": ["x"]}}"#),
            Err("service.name: missing service name".to_string())
        );
    }

    #[test]
    fn script_checks_need_a_script_option_and_the_error_names_file_and_check() {
        let scripted = || {
            vec![
                file("ok.json", r#"{"service": {"name": "db"}}"#),
                file(
                    "/etc/synod.d/web.json",
                    r#"{"service": {"name": "web", "check": {"args": ["/bin/true"], "interval": "10s"}}}"#,
                ),
            ]
        };
        assert_eq!(
            merge(scripted(), false),
            Err(format!(
                "Error parsing /etc/synod.d/web.json: service \"web\" check \"service:web\": {SCRIPTS_DISABLED}"
            ))
        );
        let allowed = merge(scripted(), true).expect("scripts enabled");
        assert_eq!(allowed.services.len(), 2);
        let standalone = vec![file(
            "c.json",
            r#"{"checks": [{"name": "disk", "script": "df", "interval": "1m"}]}"#,
        )];
        assert_eq!(
            merge(standalone, false),
            Err(format!(
                "Error parsing c.json: check \"disk\": {SCRIPTS_DISABLED}"
            ))
        );
    }
}
