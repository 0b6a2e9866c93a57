//! Length-delimited frames: `[len u32 BE][version u8][postcard bytes]`, where `len` counts the
//! version byte and the payload.
//!
//! [`FrameDecoder`] checks the length limit and the version as soon as the 5-byte header is in,
//! and yields the payload **without** the version byte, ready for [`crate::wire::from_postcard`]
//! or [`crate::wire::decode_envelope`].

use bytes::{Buf, Bytes, BytesMut};
use serde::Serialize;

use crate::wire::DecodeError;
use crate::wire::codec::append_postcard;

/// The frame format version this build writes and accepts.
pub const WIRE_VERSION: u8 = 1;

/// Bytes before the payload: length (4) + version (1).
pub const FRAME_HEADER_LEN: usize = 5;

/// Default limit on `len`: large enough for a snapshot chunk plus a full append batch.
pub const DEFAULT_MAX_FRAME: usize = 16 << 20;

/// A complete frame carrying `value` in postcard.
pub fn encode_frame<T: Serialize>(value: &T) -> Bytes {
    let mut out = vec![0, 0, 0, 0, WIRE_VERSION];
    append_postcard(&mut out, value);
    seal_length(out)
}

/// A complete frame around an already-encoded payload (the inverse of [`FrameDecoder::pop`]).
pub fn frame_payload(payload: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(FRAME_HEADER_LEN + payload.len());
    out.extend_from_slice(&[0, 0, 0, 0, WIRE_VERSION]);
    out.extend_from_slice(payload);
    seal_length(out)
}

/// Writes the length prefix of a frame whose header placeholder is already in `frame`.
fn seal_length(mut frame: Vec<u8>) -> Bytes {
    // Frames are bounded far below 4 GiB by the senders (chunked snapshots, byte-capped appends).
    let len = u32::try_from(frame.len() - 4).expect("frame larger than 4 GiB");
    frame[..4].copy_from_slice(&len.to_be_bytes());
    Bytes::from(frame)
}

/// Reassembles frames from a byte stream (e.g. TCP reads of any size).
///
/// After an error the stream is out of sync: drop the connection.
#[derive(Debug)]
pub struct FrameDecoder {
    buf: BytesMut,
    max_frame: usize,
}

impl FrameDecoder {
    /// A decoder rejecting frames whose `len` exceeds `max_frame`.
    pub fn new(max_frame: usize) -> Self {
        FrameDecoder {
            buf: BytesMut::new(),
            max_frame,
        }
    }

    /// Appends bytes read from the stream.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Bytes buffered but not yet returned as a frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next complete frame's payload (version byte stripped), `Ok(None)` when more bytes are
    /// needed.
    pub fn pop(&mut self) -> Result<Option<Bytes>, DecodeError> {
        let Some(header) = self.buf.get(..4) else {
            return Ok(None);
        };
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        if len == 0 {
            return Err(DecodeError::Malformed("frame without version byte".into()));
        }
        if len > self.max_frame {
            return Err(DecodeError::TooLarge {
                len: len as u64,
                max: self.max_frame as u64,
            });
        }
        // Reject a foreign version before waiting for a possibly huge body.
        match self.buf.get(4) {
            None => return Ok(None),
            Some(&v) if v != WIRE_VERSION => return Err(DecodeError::BadVersion(v)),
            Some(_) => {}
        }
        if self.buf.len() < 4 + len {
            return Ok(None);
        }
        self.buf.advance(FRAME_HEADER_LEN);
        Ok(Some(self.buf.split_to(len - 1).freeze()))
    }

    /// At end of stream: an error if a partial frame is left over.
    pub fn finish(&self) -> Result<(), DecodeError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::Truncated)
        }
    }
}

impl Default for FrameDecoder {
    fn default() -> Self {
        FrameDecoder::new(DEFAULT_MAX_FRAME)
    }
}
