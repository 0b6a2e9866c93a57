//! Turns a frame a node asked to send into the de-framed message its peer is fed.

use bytes::Bytes;

/// The payload of one complete frame (`[len u32 BE][version u8][postcard]`; `len` counts the
/// version byte and the payload, which a peer receives together).
pub fn deframe(frame: &Bytes) -> Result<Bytes, String> {
    let Some((len, rest)) = frame.split_first_chunk::<4>() else {
        return Err(format!(
            "frame of {} bytes has no length prefix",
            frame.len()
        ));
    };
    let len = u32::from_be_bytes(*len) as usize;
    if len != rest.len() {
        return Err(format!("frame says {len} bytes but carries {}", rest.len()));
    }
    Ok(frame.slice(4..))
}
