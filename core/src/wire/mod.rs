//! Wire formats: versioned postcard messages in length-delimited frames.
//!
//! A driver reading a TCP stream pushes bytes into a [`FrameDecoder`], pops payloads, and hands
//! each to [`decode_envelope`]; it writes [`encode_envelope`]'s bytes as they are.
pub mod client_rpc;
mod codec;
mod envelope;
mod error;
mod frame;
pub mod record;

pub use codec::{decode_versioned, encode_versioned, from_postcard, to_postcard};
pub use envelope::{Body, Envelope, decode_envelope, encode_envelope};
pub use error::DecodeError;
pub use frame::{
    DEFAULT_MAX_FRAME, FRAME_HEADER_LEN, FrameDecoder, WIRE_VERSION, encode_frame, frame_payload,
};

#[cfg(test)]
mod strategies;
#[cfg(test)]
mod tests;
