//! Agent-API registrations in the data dir (`services/<id>.json`, `checks/<id>.json`, the ID
//! hex-encoded so any ID is a safe file name), written atomically: temp file, fsync, rename,
//! fsync of the directory. Without a data dir (dev mode) nothing is written.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use synod_core::health::definition::{decode_check_body, decode_service_body};
use synod_core::health::{CheckDefinition, ServiceDefinition};

use super::definition_json::{check_json, service_json};

/// The two directories of persisted registrations.
#[derive(Clone, Debug)]
pub(crate) struct Store {
    services: PathBuf,
    checks: PathBuf,
}

/// What a restart brings back, plus the files that could not be read.
#[derive(Debug, Default)]
pub(crate) struct Restored {
    pub(crate) services: Vec<ServiceDefinition>,
    pub(crate) checks: Vec<CheckDefinition>,
    pub(crate) errors: Vec<String>,
}

impl Store {
    /// The store under `data_dir`.
    pub(crate) fn new(data_dir: &Path) -> Store {
        Store {
            services: data_dir.join("services"),
            checks: data_dir.join("checks"),
        }
    }

    pub(crate) fn save_service(&self, def: &ServiceDefinition) -> Result<(), String> {
        write_atomic(&self.services, &def.id, &service_json(def))
    }

    pub(crate) fn save_check(&self, def: &CheckDefinition) -> Result<(), String> {
        write_atomic(&self.checks, &def.id, &check_json(def))
    }

    pub(crate) fn forget_service(&self, id: &str) -> Result<(), String> {
        remove(&self.services, id)
    }

    pub(crate) fn forget_check(&self, id: &str) -> Result<(), String> {
        remove(&self.checks, id)
    }

    /// Every persisted definition; unreadable files are reported and skipped.
    pub(crate) fn load(&self) -> Restored {
        let mut restored = Restored::default();
        for (path, bytes) in read_dir(&self.services, &mut restored.errors) {
            match decode_service_body(&bytes) {
                Ok(def) => restored.services.push(def),
                Err(e) => restored.errors.push(format!("{}: {e}", path.display())),
            }
        }
        for (path, bytes) in read_dir(&self.checks, &mut restored.errors) {
            match decode_check_body(&bytes) {
                Ok(def) => restored.checks.push(def),
                Err(e) => restored.errors.push(format!("{}: {e}", path.display())),
            }
        }
        restored
    }
}

fn file_name(id: &str) -> String {
    let mut name: String = id.bytes().map(|b| format!("{b:02x}")).collect();
    name.push_str(".json");
    name
}

fn write_atomic(dir: &Path, id: &str, value: &serde_json::Value) -> Result<(), String> {
    let context = |e: std::io::Error| format!("persisting {id:?} in {}: {e}", dir.display());
    fs::create_dir_all(dir).map_err(context)?;
    let target = dir.join(file_name(id));
    let temp = dir.join(format!("{}.tmp", file_name(id)));
    let bytes = serde_json::to_vec(value).map_err(|e| e.to_string())?;
    let mut file = fs::File::create(&temp).map_err(context)?;
    file.write_all(&bytes).map_err(context)?;
    file.sync_all().map_err(context)?;
    fs::rename(&temp, &target).map_err(context)?;
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(context)
}

fn remove(dir: &Path, id: &str) -> Result<(), String> {
    match fs::remove_file(dir.join(file_name(id))) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("removing {id:?} from {}: {e}", dir.display())),
    }
}

/// The `.json` files of `dir`, sorted by name (a missing dir is empty).
fn read_dir(dir: &Path, errors: &mut Vec<String>) -> Vec<(PathBuf, Vec<u8>)> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .filter_map(|p| match fs::read(&p) {
            Ok(bytes) => Some((p, bytes)),
            Err(e) => {
                errors.push(format!("{}: {e}", p.display()));
                None
            }
        })
        .collect()
}
