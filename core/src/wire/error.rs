//! The one error type every decoder in `wire` (and the state machine's decoders) returns.

use core::fmt;

/// Why bytes could not be decoded. Decoders return this instead of panicking, on any input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The input ended in the middle of a value or frame.
    Truncated,
    /// The version byte names a format this build does not speak.
    BadVersion(u8),
    /// A frame announced a length above the decoder's limit (the connection should be dropped).
    TooLarge {
        /// Announced length (version byte + payload).
        len: u64,
        /// The limit.
        max: u64,
    },
    /// The bytes are complete but do not form a valid value.
    Malformed(String),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated => write!(f, "input truncated"),
            DecodeError::BadVersion(v) => write!(f, "unsupported format version {v}"),
            DecodeError::TooLarge { len, max } => {
                write!(f, "frame of {len} bytes exceeds the {max}-byte limit")
            }
            DecodeError::Malformed(why) => write!(f, "malformed input: {why}"),
        }
    }
}

impl std::error::Error for DecodeError {}

impl From<postcard::Error> for DecodeError {
    fn from(e: postcard::Error) -> Self {
        match e {
            postcard::Error::DeserializeUnexpectedEnd => DecodeError::Truncated,
            other => DecodeError::Malformed(other.to_string()),
        }
    }
}
