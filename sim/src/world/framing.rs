//! Turns a frame a node asked to send into the de-framed message its peer is fed, exactly as a
//! peer reading the TCP stream would (through `wire::FrameDecoder`).

use bytes::Bytes;
use synod_core::wire::{DEFAULT_MAX_FRAME, FrameDecoder};

/// The payload of the one complete frame `frame` must be.
pub fn deframe(frame: &Bytes) -> Result<Bytes, String> {
    let mut decoder = FrameDecoder::new(DEFAULT_MAX_FRAME);
    decoder.push(frame);
    match decoder.pop() {
        Ok(Some(payload)) if decoder.buffered() == 0 => Ok(payload),
        Ok(Some(_)) => Err(format!("{} bytes left after one frame", decoder.buffered())),
        Ok(None) => Err(format!("incomplete frame of {} bytes", frame.len())),
        Err(e) => Err(format!("undecodable frame: {e:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use synod_core::wire::encode_frame;

    #[test]
    fn one_whole_frame_yields_its_payload() {
        let frame = encode_frame(&42u32);
        let payload = deframe(&frame).unwrap();
        assert!(!payload.is_empty() && payload.len() < frame.len());
    }

    #[test]
    fn partial_or_trailing_bytes_are_rejected() {
        let frame = encode_frame(&42u32);
        assert!(deframe(&frame.slice(..frame.len() - 1)).is_err());
        let mut doubled = frame.to_vec();
        doubled.extend_from_slice(&frame);
        assert!(deframe(&Bytes::from(doubled)).is_err());
    }
}
