//! Client-facing protocol codecs: pure functions over bytes.
pub mod dns;
pub mod http;
