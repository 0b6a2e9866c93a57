use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::SystemTime;

use super::*;
use crate::cli::agent::{AgentArgsError, parse_agent_args};
use crate::shell::log::Level;

/// One replacement as the sink saw it: (service IDs with ports, check IDs).
type Replacement = (Vec<(String, u16)>, Vec<String>);

/// Remembers every replacement it was handed.
#[derive(Clone, Default)]
struct RecordingSink(Rc<RefCell<Vec<Replacement>>>);

impl DefinitionSink for RecordingSink {
    fn replace_config_definitions(
        &self,
        services: Vec<ServiceDefinition>,
        checks: Vec<CheckDefinition>,
    ) -> impl Future<Output = Result<(), String>> {
        self.0.borrow_mut().push((
            services.into_iter().map(|s| (s.id, s.port)).collect(),
            checks.into_iter().map(|c| c.id).collect(),
        ));
        std::future::ready(Ok(()))
    }
}

impl RecordingSink {
    fn last(&self) -> Replacement {
        self.0.borrow().last().cloned().expect("a replacement")
    }

    fn count(&self) -> usize {
        self.0.borrow().len()
    }
}

fn config_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("synod-reload-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create config dir");
    dir
}

fn write(dir: &Path, file: &str, text: &str) {
    std::fs::write(dir.join(file), text).expect("write config file");
}

fn loader(dir: &Path) -> ConfigLoader {
    let args = vec!["-dev".to_string(), format!("-config-dir={}", dir.display())];
    Arc::new(move || {
        parse_agent_args(&args).map_err(|e| match e {
            AgentArgsError::Flags(e) => e.to_string(),
            AgentArgsError::Config(message) => message,
        })
    })
}

fn started(dir: &Path, sink: &RecordingSink) -> Reloader<RecordingSink> {
    let load = loader(dir);
    let config = load().expect("valid start config");
    let log = Log::new(config.log_level, SystemTime::now);
    smol::block_on(Reloader::start(load, sink.clone(), config, log)).expect("started")
}

#[test]
fn start_hands_the_config_file_services_to_the_sink() {
    let dir = config_dir("start");
    write(
        &dir,
        "web.json",
        r#"{"service": {"name": "web", "tags": ["rails"], "port": 80}}"#,
    );
    let sink = RecordingSink::default();
    started(&dir, &sink);
    assert_eq!(sink.last(), (vec![("web".to_string(), 80)], vec![]));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn reload_adds_changes_and_removes_services() {
    let dir = config_dir("apply");
    write(
        &dir,
        "web.json",
        r#"{"service": {"name": "web", "port": 80}}"#,
    );
    write(
        &dir,
        "db.json",
        r#"{"service": {"name": "db", "port": 5432}}"#,
    );
    let sink = RecordingSink::default();
    let mut reloader = started(&dir, &sink);
    write(
        &dir,
        "web.json",
        r#"{"service": {"name": "web", "port": 8080}}"#,
    );
    std::fs::remove_file(dir.join("db.json")).expect("remove db.json");
    write(
        &dir,
        "api.json",
        r#"{"service": {"name": "api", "port": 9000}, "check": {"name": "mem", "ttl": "30s"}}"#,
    );
    let before = reloader.running().definitions.clone();
    smol::block_on(reloader.reload()).expect("reloaded");
    assert_eq!(
        sink.last(),
        (
            vec![("api".to_string(), 9000), ("web".to_string(), 8080)],
            vec!["mem".to_string()]
        )
    );
    assert_eq!(
        DefinitionChanges::between(&before, &reloader.running().definitions),
        DefinitionChanges {
            added: vec!["api".into(), "check:mem".into()],
            changed: vec!["web".into()],
            removed: vec!["db".into()],
        }
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_invalid_file_refuses_the_reload_and_keeps_the_running_definitions() {
    let dir = config_dir("refuse");
    write(
        &dir,
        "web.json",
        r#"{"service": {"name": "web", "port": 80}}"#,
    );
    let sink = RecordingSink::default();
    let mut reloader = started(&dir, &sink);
    let running = reloader.running().clone();
    write(
        &dir,
        "web.json",
        r#"{"service": {"name": "web", "port": 80}}"#,
    );
    write(&dir, "z.json", r#"{"service": {"name": "z", "port": -1}}"#);
    let error = smol::block_on(reloader.reload()).expect_err("refused");
    let file = dir.join("z.json");
    assert!(
        error.starts_with(&format!("Error parsing {}: service.port: ", file.display())),
        "{error}"
    );
    assert_eq!(
        sink.count(),
        1,
        "the sink is not touched by a refused reload"
    );
    assert_eq!(reloader.running(), &running);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn reload_applies_a_new_log_level() {
    let dir = config_dir("level");
    write(&dir, "agent.json", r#"{"log_level": "info"}"#);
    let sink = RecordingSink::default();
    let mut reloader = started(&dir, &sink);
    assert!(!reloader.log.enabled(Level::Debug));
    write(&dir, "agent.json", r#"{"log_level": "debug"}"#);
    smol::block_on(reloader.reload()).expect("reloaded");
    assert!(reloader.log.enabled(Level::Debug));
    assert_eq!(reloader.running().log_level, Level::Debug);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn settings_that_need_a_restart_keep_their_running_value() {
    let dir = config_dir("restart");
    write(&dir, "agent.json", r#"{"datacenter": "east"}"#);
    let sink = RecordingSink::default();
    let mut reloader = started(&dir, &sink);
    write(&dir, "agent.json", r#"{"datacenter": "west"}"#);
    smol::block_on(reloader.reload()).expect("reloaded");
    assert_eq!(reloader.running().datacenter, "east");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn handles_answer_with_the_outcome_and_fail_once_the_reloader_is_gone() {
    let dir = config_dir("handle");
    write(&dir, "web.json", r#"{"service": {"name": "web"}}"#);
    let sink = RecordingSink::default();
    let reloader = started(&dir, &sink);
    let (handle, requests) = channel();
    let executor = smol::LocalExecutor::new();
    let served = executor.spawn(reloader.serve(requests));
    let outcome = smol::block_on(executor.run(handle.reload()));
    assert_eq!(outcome, Ok(()));
    write(&dir, "web.json", r#"{"service": {}}"#);
    let refused = smol::block_on(executor.run(handle.reload()));
    assert_eq!(
        refused,
        Err(format!(
            "Error parsing {}: service.name: missing service name",
            dir.join("web.json").display()
        ))
    );
    smol::block_on(executor.run(served.cancel()));
    assert_eq!(
        smol::block_on(handle.reload()),
        Err(RELOAD_UNAVAILABLE.to_string())
    );
    let _ = std::fs::remove_dir_all(&dir);
}
