//! The HTTP API server (hand-rolled on `synod_core::api::http`): connections, routing and the
//! Consul-compatible endpoints, against a [`Backend`].

pub mod backend;
pub mod blocking;
pub mod connection;
pub mod date;
pub mod errors;
pub mod json;
pub mod kv;
pub mod memory_backend;
pub mod router;
pub mod server;
pub mod status;

pub use backend::{Backend, Status};
pub use blocking::QueryTimes;
pub use memory_backend::MemoryBackend;
pub use server::{Server, ServerConfig};
