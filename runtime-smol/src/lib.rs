//! synod's runtime: drives synod-core over real sockets, files and timers.

pub mod http;
pub mod shell;
pub mod storage;
