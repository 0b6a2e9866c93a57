//! Service definition files for `synod services register|deregister`: the same JSON as the
//! agent's config files (`{"service": {...}}`, `{"services": [...]}`), validated with the
//! agent's decoder so errors name the file, key and reason.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value};
use synod_core::health::ServiceDefinition;
use synod_core::health::definition::decode_config;

/// One service of a file: the JSON object as written (the register body) and what it means.
#[derive(Clone, Debug, PartialEq)]
pub struct FileService {
    /// The definition's JSON object, with any flag values merged in.
    pub body: Map<String, Value>,
    /// The decoded definition.
    pub definition: ServiceDefinition,
}

/// Values from `-id`, `-name`, `-address`, `-port`, `-tag` and `-meta`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlagService {
    /// `-id`.
    pub id: String,
    /// `-name`.
    pub name: String,
    /// `-address`.
    pub address: String,
    /// `-port` (0: not given).
    pub port: u16,
    /// `-tag`, in order.
    pub tags: Vec<String>,
    /// `-meta key=value`.
    pub meta: BTreeMap<String, String>,
}

impl FlagService {
    /// The register body for a service given by flags alone (Consul's API field names).
    pub fn body(&self) -> Map<String, Value> {
        let mut body = Map::new();
        if !self.id.is_empty() {
            body.insert("ID".into(), Value::from(self.id.as_str()));
        }
        body.insert("Name".into(), Value::from(self.name.as_str()));
        if !self.tags.is_empty() {
            body.insert("Tags".into(), Value::from(self.tags.clone()));
        }
        if !self.address.is_empty() {
            body.insert("Address".into(), Value::from(self.address.as_str()));
        }
        if self.port != 0 {
            body.insert("Port".into(), Value::from(self.port));
        }
        if !self.meta.is_empty() {
            body.insert("Meta".into(), meta_object(&self.meta));
        }
        body
    }

    /// Consul's `CombineArgs`: flag values fill what the file leaves unset, meta entries from
    /// flags win, and flag tags are appended.
    fn combine_into(&self, service: &mut Map<String, Value>) {
        let scalars = [
            (
                "id",
                "ID",
                Value::from(self.id.as_str()),
                self.id.is_empty(),
            ),
            (
                "name",
                "Name",
                Value::from(self.name.as_str()),
                self.name.is_empty(),
            ),
            (
                "address",
                "Address",
                Value::from(self.address.as_str()),
                self.address.is_empty(),
            ),
            ("port", "Port", Value::from(self.port), self.port == 0),
        ];
        for (key, api_name, value, unset) in scalars {
            if unset {
                continue;
            }
            match key_of(service, key) {
                Some(existing) if !is_empty(&service[&existing]) => {}
                Some(existing) => {
                    service.insert(existing, value);
                }
                None => {
                    service.insert(api_name.into(), value);
                }
            }
        }
        if !self.meta.is_empty() {
            let key = key_of(service, "meta").unwrap_or_else(|| "Meta".into());
            let mut meta = match service.remove(&key) {
                Some(Value::Object(meta)) => meta,
                _ => Map::new(),
            };
            if let Value::Object(flags) = meta_object(&self.meta) {
                meta.extend(flags);
            }
            service.insert(key, Value::Object(meta));
        }
        if !self.tags.is_empty() {
            let key = key_of(service, "tags").unwrap_or_else(|| "Tags".into());
            let mut tags = match service.remove(&key) {
                Some(Value::Array(tags)) => tags,
                _ => Vec::new(),
            };
            tags.extend(self.tags.iter().map(|t| Value::from(t.as_str())));
            service.insert(key, Value::Array(tags));
        }
    }
}

fn meta_object(meta: &BTreeMap<String, String>) -> Value {
    Value::Object(
        meta.iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
            .collect(),
    )
}

/// The key of `object` that matches `normalized` the way the decoder matches keys
/// (case-insensitively, ignoring `_`).
fn key_of(object: &Map<String, Value>, normalized: &str) -> Option<String> {
    object.keys().find(|k| normalize(k) == normalized).cloned()
}

fn normalize(key: &str) -> String {
    key.chars()
        .filter(|c| *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Number(n) => n.as_u64() == Some(0),
        _ => false,
    }
}

/// Reads the services of `path` with `flags` combined into each; the error is the text after
/// `Error: `.
pub fn read(path: &Path, flags: &FlagService) -> Result<Vec<FileService>, String> {
    let failed = |reason: String| format!("Error parsing {}: {reason}", path.display());
    let text =
        std::fs::read_to_string(path).map_err(|e| failed(format!("cannot read file: {e}")))?;
    let mut root: Value =
        serde_json::from_str(&text).map_err(|e| failed(format!("invalid JSON: {e}")))?;
    let Value::Object(top) = &mut root else {
        return Err(failed("the top level must be a JSON object".into()));
    };
    let mut objects: Vec<&mut Map<String, Value>> = Vec::new();
    // The decoder reads `service` before `services`; keep that order.
    for (key, value) in top.iter_mut() {
        match (normalize(key).as_str(), value) {
            ("service", Value::Object(service)) => objects.insert(0, service),
            ("services", Value::Array(items)) => {
                objects.extend(items.iter_mut().filter_map(Value::as_object_mut));
            }
            _ => {}
        }
    }
    for service in &mut objects {
        flags.combine_into(service);
    }
    let bodies: Vec<Map<String, Value>> = objects.into_iter().map(|s| s.clone()).collect();
    let combined = serde_json::to_vec(&root).map_err(|e| failed(e.to_string()))?;
    decode_config(&combined).map_err(|e| failed(e.to_string()))?;
    bodies
        .into_iter()
        .map(|body| {
            let single = serde_json::json!({ "service": body });
            let mut defs =
                decode_config(single.to_string().as_bytes()).map_err(|e| failed(e.to_string()))?;
            let definition = defs
                .services
                .pop()
                .ok_or_else(|| failed("a service definition did not decode".into()))?;
            Ok(FileService { body, definition })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("synod-service-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create dir");
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        path
    }

    #[test]
    fn the_seed_file_reads_as_one_service_whose_body_is_the_object() {
        let path = file(
            "web.json",
            r#"{"service": {"name": "web", "tags": ["rails"], "port": 80}}"#,
        );
        let services = read(&path, &FlagService::default()).expect("valid");
        assert_eq!(services.len(), 1);
        assert_eq!(services[0].definition.name, "web");
        assert_eq!(
            Value::Object(services[0].body.clone()),
            serde_json::json!({"name": "web", "tags": ["rails"], "port": 80})
        );
    }

    #[test]
    fn flags_fill_unset_fields_merge_meta_and_append_tags() {
        let path = file(
            "combine.json",
            r#"{"services": [{"Name": "api", "port": 0, "meta": {"a": "1", "b": "file"}, "tags": ["x"]}]}"#,
        );
        let flags = FlagService {
            id: "api-1".into(),
            name: "ignored".into(),
            address: "10.0.0.5".into(),
            port: 9000,
            tags: vec!["y".into()],
            meta: BTreeMap::from([("b".to_string(), "flag".to_string())]),
        };
        let services = read(&path, &flags).expect("valid");
        assert_eq!(
            Value::Object(services[0].body.clone()),
            serde_json::json!({
                "Name": "api", "port": 9000, "ID": "api-1", "Address": "10.0.0.5",
                "meta": {"a": "1", "b": "flag"}, "tags": ["x", "y"]
            })
        );
        let def = &services[0].definition;
        assert_eq!((def.id.as_str(), def.name.as_str()), ("api-1", "api"));
    }

    #[test]
    fn service_comes_before_services_as_the_decoder_reads_them() {
        let path = file(
            "order.json",
            r#"{"services": [{"name": "b"}], "service": {"name": "a"}}"#,
        );
        let names: Vec<String> = read(&path, &FlagService::default())
            .expect("valid")
            .into_iter()
            .map(|s| s.definition.name)
            .collect();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn a_bad_file_is_refused_with_file_key_and_reason() {
        let path = file("bad.json", r#"{"service": {"name": "web", "port": "x"}}"#);
        let error = read(&path, &FlagService::default()).expect_err("refused");
        assert!(
            error.starts_with(&format!("Error parsing {}: service.port: ", path.display())),
            "{error}"
        );
        let missing = read(&path.with_file_name("absent.json"), &FlagService::default())
            .expect_err("no file");
        assert!(missing.contains("cannot read file"), "{missing}");
    }
}
