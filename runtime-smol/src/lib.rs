//! synod's runtime: drives synod-core over real sockets, files and timers.

pub mod agent;
mod calendar;
pub mod cli;
pub mod dns;
pub mod http;
pub mod rpc;
pub mod serf;
pub mod shell;
pub mod storage;
