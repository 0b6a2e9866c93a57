//! The HTTP API server (hand-rolled on `synod_core::api::http`): connections, routing and the
//! Consul-compatible endpoints, against a [`Backend`].
//!
//! Wiring it up: implement [`Backend`] over the node, then
//!
//! ```text
//! let server = Server::bind(addr, Arc::new(backend), ServerConfig::default()).await?;
//! server.run().await; // serves until this future is dropped
//! ```
//!
//! Endpoints so far: `/v1/kv/<key>` (GET, PUT, DELETE), `/v1/status/{leader,peers}` (GET),
//! `/v1/agent/self` (GET), `/v1/operator/raft/configuration` (GET) and
//! `/v1/operator/raft/peer` (DELETE), `/v1/catalog/*` and `/v1/health/*`.
//! Handlers for new endpoints go in their own module, registered in [`router`]; request bodies
//! decode with [`json::decode_case_insensitive`] and answers encode with [`json::encode`].

pub mod agent_checks;
pub mod agent_members;
pub mod agent_reload;
pub mod agent_self;
pub mod agent_services;
pub mod backend;
pub mod blocking;
pub mod catalog;
pub mod catalog_body;
pub mod catalog_json;
pub mod catalog_read;
pub mod client_slots;
pub mod connection;
pub mod date;
pub mod errors;
pub mod gzip;
pub mod health;
pub mod json;
pub mod kv;
pub mod memory_backend;
pub mod operator;
pub mod router;
pub mod server;
pub mod status;
pub mod ui;

pub use backend::{Backend, Status};
pub use blocking::QueryTimes;
pub use memory_backend::MemoryBackend;
pub use server::{Server, ServerConfig};
