//! Consul's `kv get -detailed` layout and `kv export` JSON.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};

use super::pair::KvPair;
use crate::http::json::escape_like_go;

/// Go's tabwriter with padding 6 over `label\tvalue` rows, as `kv get -detailed` prints them:
/// labels padded to the widest label plus six spaces. No trailing newline.
pub(crate) fn detailed(pair: &KvPair, base64: bool) -> Vec<u8> {
    let session = if pair.session.is_empty() {
        "-".to_string()
    } else {
        pair.session.clone()
    };
    let value = if base64 {
        BASE64.encode(&pair.value).into_bytes()
    } else {
        pair.value.clone()
    };
    let rows: [(&str, Vec<u8>); 7] = [
        ("CreateIndex", pair.create_index.to_string().into_bytes()),
        ("Flags", pair.flags.to_string().into_bytes()),
        ("Key", pair.key.clone().into_bytes()),
        ("LockIndex", pair.lock_index.to_string().into_bytes()),
        ("ModifyIndex", pair.modify_index.to_string().into_bytes()),
        ("Session", session.into_bytes()),
        ("Value", value),
    ];
    let width = rows.iter().map(|(label, _)| label.len()).max().unwrap_or(0) + 6;
    let mut out = Vec::new();
    for (i, (label, value)) in rows.iter().enumerate() {
        if i > 0 {
            out.push(b'\n');
        }
        out.extend_from_slice(format!("{label:<width$}").as_bytes());
        out.extend_from_slice(value);
    }
    out
}

/// One exported entry: Consul's `impexp.Entry`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ExportEntry {
    /// The key.
    pub(crate) key: String,
    /// The flags.
    #[serde(default)]
    pub(crate) flags: u64,
    /// The value, base64.
    #[serde(default)]
    pub(crate) value: String,
}

impl From<&KvPair> for ExportEntry {
    fn from(pair: &KvPair) -> Self {
        ExportEntry {
            key: pair.key.clone(),
            flags: pair.flags,
            value: BASE64.encode(&pair.value),
        }
    }
}

/// `json.MarshalIndent(entries, "", "\t")`: tab indentation and Go's HTML-safe escaping.
pub(crate) fn export_json(entries: &[ExportEntry]) -> String {
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    // Serializing plain strings and integers into memory cannot fail.
    let _ = entries.serialize(&mut serializer);
    String::from_utf8_lossy(&escape_like_go(out)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> KvPair {
        KvPair {
            key: "foo".into(),
            create_index: 12,
            modify_index: 34,
            lock_index: 0,
            flags: 42,
            value: b"bar".to_vec(),
            session: String::new(),
        }
    }

    #[test]
    fn detailed_aligns_values_six_spaces_past_the_longest_label() {
        let text = String::from_utf8(detailed(&pair(), false)).expect("utf8");
        assert_eq!(
            text,
            "CreateIndex      12\n\
             Flags            42\n\
             Key              foo\n\
             LockIndex        0\n\
             ModifyIndex      34\n\
             Session          -\n\
             Value            bar"
        );
        let b64 = String::from_utf8(detailed(&pair(), true)).expect("utf8");
        assert!(b64.ends_with("Value            YmFy"), "{b64}");
    }

    #[test]
    fn export_is_tab_indented_with_base64_values_and_go_escaping() {
        let entries = [
            ExportEntry::from(&pair()),
            ExportEntry {
                key: "a<b>&".into(),
                flags: 0,
                value: String::new(),
            },
        ];
        assert_eq!(
            export_json(&entries),
            "[\n\t{\n\t\t\"key\": \"foo\",\n\t\t\"flags\": 42,\n\t\t\"value\": \"YmFy\"\n\t},\n\
             \t{\n\t\t\"key\": \"a\\u003cb\\u003e\\u0026\",\n\t\t\"flags\": 0,\n\t\t\"value\": \"\"\n\t}\n]"
        );
        assert_eq!(export_json(&[]), "[]");
    }
}
