//! A KV entry as `/v1/kv/` returns it, with its value decoded from base64.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize;

use crate::cli::http_client::HttpResponse;

/// One entry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct KvPair {
    pub(crate) key: String,
    pub(crate) create_index: u64,
    pub(crate) modify_index: u64,
    pub(crate) lock_index: u64,
    pub(crate) flags: u64,
    pub(crate) value: Vec<u8>,
    pub(crate) session: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PairJson {
    key: String,
    #[serde(default)]
    create_index: u64,
    #[serde(default)]
    modify_index: u64,
    #[serde(default)]
    lock_index: u64,
    #[serde(default)]
    flags: u64,
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    session: Option<String>,
}

/// The entries of a `GET /v1/kv/...` answer: none on 404, an error for other failures.
pub(crate) fn pairs_from(response: &HttpResponse) -> Result<Vec<KvPair>, String> {
    match response.status {
        200 => {}
        404 => return Ok(Vec::new()),
        _ => return Err(response.unexpected()),
    }
    let raw: Vec<PairJson> =
        serde_json::from_slice(&response.body).map_err(|e| format!("decoding the answer: {e}"))?;
    raw.into_iter()
        .map(|p| {
            let value = match p.value {
                Some(text) => BASE64
                    .decode(text)
                    .map_err(|e| format!("decoding the value of {}: {e}", p.key))?,
                None => Vec::new(),
            };
            Ok(KvPair {
                key: p.key,
                create_index: p.create_index,
                modify_index: p.modify_index,
                lock_index: p.lock_index,
                flags: p.flags,
                value,
                session: p.session.unwrap_or_default(),
            })
        })
        .collect()
}

/// Whether a write answered `true`; an error for a failed request.
pub(crate) fn written(response: &HttpResponse) -> Result<bool, String> {
    if response.status != 200 {
        return Err(response.unexpected());
    }
    Ok(response.text() == "true")
}
