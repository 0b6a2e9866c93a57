//! Client RPC over the server RPC port: servers answer client agents' requests
//! ([`server`]), client agents keep a connection to one server at a time and fail over to the
//! others ([`pool`] over [`conn`]). The frames are `synod_core::wire::client_rpc`'s.

pub mod conn;
pub mod pool;
pub mod server;
mod status;

pub use pool::{PoolError, PoolSettings, Retry, RpcPool};
pub use server::client_conn_handler;
pub use status::{status_from_wire, status_to_wire};

#[cfg(test)]
mod tests;
