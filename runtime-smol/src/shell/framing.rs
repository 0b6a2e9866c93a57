//! Splits a peer byte stream into frames for `Input::Frame`.
//!
//! Frame layout (owned by `synod_core::wire`): `[len u32 BE][len bytes: version + payload]`.
//! What the node receives is the `len` bytes after the prefix.
// TODO(merge): replace with `synod_core::wire` `FrameDecoder` once it lands on main, so the
// layout is defined in one place.

use bytes::{Buf, Bytes, BytesMut};

/// The stream is not made of frames we accept; the connection must be dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum FramingError {
    /// A frame announced more bytes than allowed.
    TooLarge {
        /// Announced length.
        len: usize,
        /// Limit.
        max: usize,
    },
}

/// Accumulates bytes and pops complete frames.
#[derive(Debug)]
pub(crate) struct FrameSplitter {
    buf: BytesMut,
    max_frame: usize,
}

const LEN_PREFIX: usize = 4;

impl FrameSplitter {
    pub(crate) fn new(max_frame: usize) -> Self {
        FrameSplitter {
            buf: BytesMut::new(),
            max_frame,
        }
    }

    pub(crate) fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete frame, `None` if more bytes are needed.
    pub(crate) fn pop(&mut self) -> Result<Option<Bytes>, FramingError> {
        let Some(prefix) = self.buf.get(..LEN_PREFIX) else {
            return Ok(None);
        };
        let mut len_bytes = [0u8; LEN_PREFIX];
        len_bytes.copy_from_slice(prefix);
        let len = usize::try_from(u32::from_be_bytes(len_bytes)).unwrap_or(usize::MAX);
        if len > self.max_frame {
            return Err(FramingError::TooLarge {
                len,
                max: self.max_frame,
            });
        }
        if self.buf.len() < LEN_PREFIX + len {
            return Ok(None);
        }
        self.buf.advance(LEN_PREFIX);
        Ok(Some(self.buf.split_to(len).freeze()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(body: &[u8]) -> Vec<u8> {
        let mut out =
            u32::try_from(body.len()).map_or_else(|_| vec![], |l| l.to_be_bytes().to_vec());
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn frames_split_across_reads_come_out_whole_and_in_order() {
        let mut stream = frame(b"\x01hello");
        stream.extend(frame(b"\x01world!"));
        let mut splitter = FrameSplitter::new(1024);
        let mut out = Vec::new();
        for chunk in stream.chunks(3) {
            splitter.push(chunk);
            while let Some(f) = splitter.pop().expect("valid stream") {
                out.push(f);
            }
        }
        assert_eq!(
            out,
            vec![
                Bytes::from_static(b"\x01hello"),
                Bytes::from_static(b"\x01world!")
            ]
        );
    }

    #[test]
    fn oversized_length_is_rejected_before_buffering_the_body() {
        let mut splitter = FrameSplitter::new(8);
        splitter.push(&1000u32.to_be_bytes());
        assert_eq!(
            splitter.pop(),
            Err(FramingError::TooLarge { len: 1000, max: 8 })
        );
    }
}
