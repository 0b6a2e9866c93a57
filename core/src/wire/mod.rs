//! Wire formats: versioned postcard messages in length-delimited frames.
pub mod record;
