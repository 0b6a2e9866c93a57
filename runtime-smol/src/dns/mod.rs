//! The DNS interface on UDP and TCP (Consul's port 8600): serves the answerer in
//! `synod_core::api::dns` from the node's published state on as many threads as there are cores,
//! never entering the consensus loop, and forwards names outside our domains to the recursors.
//!
//! UDP: every serving thread blocks in `recv_from` on one shared socket and answers in place.
//! TCP: an acceptor thread and one thread per connection (see [`tcp`]). Forwarded UDP queries go
//! to a small pool of threads so a slow recursor never stalls the zone.

mod forward;
mod options;
mod recursor;
mod responder;
mod settings;
mod staleness;
mod tcp;
mod udp;

#[cfg(test)]
mod tests;

pub use options::{DEFAULT_MAX_STALE, DEFAULT_RECURSOR_TIMEOUT, DnsOptions};
pub use responder::StateSource;
pub use settings::{DnsSettings, SoaSettings};
pub use staleness::Freshness;
pub use tcp::TcpLimits;

use std::io;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use synod_core::api::dns::Transport;

use crate::shell::log::Log;
use forward::Forwarder;
use recursor::Recursors;
use responder::{Responder, Zone};
use tcp::TcpContext;

/// Largest UDP reply sent to EDNS clients: the DNS Flag Day 2020 size, which avoids IP
/// fragmentation on common paths (clients asking for more get this much).
pub const UDP_MAX_SIZE: u16 = 1232;
/// Threads forwarding UDP queries to recursors.
const FORWARD_THREADS: usize = 4;

/// Everything the DNS server needs besides the state.
#[derive(Clone, Debug)]
pub struct DnsServerConfig {
    /// Address for both the UDP socket and the TCP listener (port 0: any free port, the same
    /// for both).
    pub addr: SocketAddr,
    /// Domains, TTLs, recursors, staleness.
    pub options: DnsOptions,
    /// The local datacenter.
    pub datacenter: String,
    /// This agent's node name and address (NS answers before servers register `consul`).
    pub node_name: String,
    /// This agent's advertised address.
    pub node_addr: IpAddr,
    /// UDP serving threads (at least one).
    pub threads: usize,
    /// Seeds the answer shuffling of every thread and connection.
    pub seed: u64,
    /// TCP limits.
    pub tcp: TcpLimits,
}

/// A running DNS server.
#[derive(Debug)]
pub struct DnsServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl DnsServer {
    /// Binds UDP and TCP on `config.addr` and starts serving from `source`.
    pub fn start(
        config: DnsServerConfig,
        source: Arc<dyn StateSource>,
        log: Log,
    ) -> io::Result<DnsServer> {
        let udp = Arc::new(UdpSocket::bind(config.addr)?);
        let addr = udp.local_addr()?;
        let tcp = TcpListener::bind(addr)?;
        let options = config.options;
        let domain = options.answer.domain.clone();
        let zone = Arc::new(Zone {
            source,
            config: options.answer,
            datacenter: config.datacenter,
            node_name: config.node_name,
            node_addr: config.node_addr,
            staleness: staleness::Staleness {
                allow_stale: options.allow_stale,
                max_stale: options.max_stale,
            },
        });
        let recursors = (!options.recursors.is_empty())
            .then(|| Recursors::new(options.recursors.clone(), options.recursor_timeout));
        let forwarder = match &recursors {
            Some(r) => Some(Forwarder::start(r.clone(), FORWARD_THREADS, log.clone())?),
            None => None,
        };
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        let transport = Transport::Udp {
            max_size: UDP_MAX_SIZE,
        };
        for i in 0..config.threads.max(1) {
            let responder = Responder::new(zone.clone(), config.seed.wrapping_add(i as u64));
            let (socket, forwarder, stop) = (udp.clone(), forwarder.clone(), stop.clone());
            threads.push(
                thread::Builder::new()
                    .name(format!("dns-udp-{i}"))
                    .spawn(move || udp::serve(socket, responder, forwarder, transport, stop))?,
            );
        }
        let context = Arc::new(TcpContext {
            zone,
            recursors,
            limits: config.tcp,
            stop: stop.clone(),
            // TCP connections draw seeds after the UDP threads'.
            seeds: AtomicU64::new(config.seed.wrapping_add(1 << 32)),
            open: AtomicUsize::new(0),
            log: log.clone(),
        });
        threads.push(
            thread::Builder::new()
                .name("dns-tcp-accept".into())
                .spawn(move || tcp::accept(tcp, context))?,
        );
        for network in ["udp", "tcp"] {
            log.info(
                "agent.dns",
                format_args!("DNS server listening on {addr} network={network}"),
            );
        }
        if !options.recursors.is_empty() {
            let list: Vec<String> = options.recursors.iter().map(|r| r.to_string()).collect();
            log.info(
                "agent.dns",
                format_args!(
                    "names outside {domain} go to recursors: {}",
                    list.join(", ")
                ),
            );
        }
        Ok(DnsServer {
            addr,
            stop,
            threads,
        })
    }

    /// The address both listeners are bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops every serving thread and waits for them (connections already open finish their
    /// current query and close at their idle timeout).
    pub fn stop(self) {
        self.stop.store(true, Ordering::Release);
        let udp_threads = self.threads.len().saturating_sub(1);
        if let Ok(waker) = UdpSocket::bind(SocketAddr::new(self.addr.ip(), 0)) {
            for _ in 0..udp_threads {
                let _ = waker.send_to(&[], self.addr);
            }
        }
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        for thread in self.threads {
            let _ = thread.join();
        }
    }
}
