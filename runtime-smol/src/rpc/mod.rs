//! Client RPC over the server RPC port: servers answer client agents' requests
//! ([`server`]), client agents keep a connection to one server at a time and fail over to the
//! others ([`pool`] over [`conn`]). The frames are `synod_core::wire::client_rpc`'s.

pub mod conn;
mod convert;
pub mod pool;
pub mod server;

pub use convert::{
    peer_from_wire, peer_to_wire, raft_configuration_from_wire, raft_configuration_to_wire,
    status_from_wire, status_to_wire,
};
pub use pool::{PoolError, PoolSettings, Retry, RpcPool};
pub use server::client_conn_handler;

#[cfg(test)]
mod tests;
