//! Postcard encoding shared by frames, commands and snapshots: strict decoding (trailing bytes
//! are an error, so one value has exactly one accepted byte length) and versioned blobs.

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::wire::DecodeError;

/// Postcard bytes of `value`.
pub fn to_postcard<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    append_postcard(&mut out, value);
    out
}

/// Appends postcard bytes of `value` to `out`.
pub(crate) fn append_postcard<T: Serialize>(out: &mut Vec<u8>, value: &T) {
    // Postcard fails only for sequences of unknown length or `collect_str`; our types use
    // neither, so an error here is a programming bug, not bad input.
    let buf = std::mem::take(out);
    *out = postcard::to_extend(value, buf).expect("postcard cannot fail on in-memory types");
}

/// Decodes exactly one `T` from `bytes`; leftover bytes are [`DecodeError::Malformed`].
pub fn from_postcard<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    let (value, rest) = postcard::take_from_bytes::<T>(bytes)?;
    if !rest.is_empty() {
        return Err(DecodeError::Malformed(format!(
            "{} trailing bytes after value",
            rest.len()
        )));
    }
    Ok(value)
}

/// `[version][postcard]`: the shape of durable blobs (log commands, snapshots) whose format
/// must be recognisable years later.
pub fn encode_versioned<T: Serialize>(version: u8, value: &T) -> Bytes {
    let mut out = vec![version];
    append_postcard(&mut out, value);
    Bytes::from(out)
}

/// Decodes a blob written by [`encode_versioned`] with the same `version`.
pub fn decode_versioned<T: DeserializeOwned>(version: u8, bytes: &[u8]) -> Result<T, DecodeError> {
    match bytes.split_first() {
        None => Err(DecodeError::Truncated),
        Some((&v, _)) if v != version => Err(DecodeError::BadVersion(v)),
        Some((_, body)) => from_postcard(body),
    }
}
