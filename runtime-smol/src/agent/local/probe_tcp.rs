//! TCP checks: passing when a connection opens, with Consul's output.

use async_net::TcpStream;
use synod_core::health::scheduler::Outcome;
use synod_core::state::catalog::types::HealthStatus;

/// Connects to `address` (`host:port`; an empty host means localhost) and closes at once.
pub(super) async fn probe(address: &str) -> Outcome {
    let target = match address.strip_prefix(':') {
        Some(port) => format!("127.0.0.1:{port}"),
        None => address.to_owned(),
    };
    match TcpStream::connect(target.as_str()).await {
        Ok(stream) => {
            drop(stream);
            Outcome {
                status: HealthStatus::Passing,
                output: format!("TCP connect {address}: Success"),
            }
        }
        Err(e) => Outcome {
            status: HealthStatus::Critical,
            output: format!("dial tcp {address}: {e}"),
        },
    }
}
