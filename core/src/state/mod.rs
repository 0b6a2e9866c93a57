//! The replicated state machine.
pub mod kv_types;
