//! TCP checks: passing when a connection opens, with Consul's output.

use std::net::SocketAddr;

use async_net::TcpStream;
use synod_core::health::scheduler::Outcome;
use synod_core::state::catalog::types::HealthStatus;

/// Connects to `host:port`; a literal IP address skips name resolution (which would go
/// through a blocking thread pool: too costly for thousands of checks).
pub(super) async fn connect(target: &str) -> std::io::Result<TcpStream> {
    match target.parse::<SocketAddr>() {
        Ok(addr) => TcpStream::connect(addr).await,
        Err(_) => TcpStream::connect(target).await,
    }
}

/// Closes a probe connection with a reset instead of a FIN exchange: no TIME_WAIT socket is
/// left behind per probe (10,000 checks would keep tens of thousands of them), and the kernel
/// does less work. The target sees a reset after the accept, as with other TCP health checkers.
pub(super) fn close_with_reset(stream: TcpStream) {
    let _ = rustix::net::sockopt::set_socket_linger(&stream, Some(std::time::Duration::ZERO));
    drop(stream);
}

/// Connects to `address` (`host:port`; an empty host means localhost) and closes at once.
pub(super) async fn probe(address: &str) -> Outcome {
    let target = match address.strip_prefix(':') {
        Some(port) => format!("127.0.0.1:{port}"),
        None => address.to_owned(),
    };
    match connect(&target).await {
        Ok(stream) => {
            close_with_reset(stream);
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
