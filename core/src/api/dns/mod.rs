//! The DNS interface (Consul-compatible) as a pure function: query bytes and a read-only catalog
//! view in, reply bytes out. The runtime owns sockets, TCP length prefixes and forwarding.
//!
//! Name forms: `[<tag>.]<service>.service[.<dc>].<domain>`, RFC 2782
//! `_<service>._<tag|tcp|udp>[.service][.<dc>].<domain>`, `<node>.node[.<dc>].<domain>`,
//! `<hexip>.addr[.<dc>].<domain>`, the apex (SOA, NS) and `in-addr.arpa`/`ip6.arpa` PTR for
//! node and service addresses. Datacenters other than the view's answer NXDOMAIN until WAN
//! federation exists.
//!
//! Where this deliberately differs from Consul: trimmed UDP answers set TC by default
//! (`enable_truncate` defaults to true, `udp_answer_limit` to none); names that exist only
//! because names below them do (`service.consul`, `node.dc1.consul`) get NODATA rather than
//! NXDOMAIN (RFC 8020); `_udp` in the RFC 2782 form means "any tag" like `_tcp`; unknown query
//! types get NODATA rather than FORMERR; names outside our domains get REFUSED without recursors.

mod config;
mod encode;
mod fuzz;
mod memory;
mod name;
mod plan;
mod query;
mod records;
mod state_view;
mod view;

#[cfg(test)]
mod tests;

pub use config::{DnsConfig, SoaConfig};
pub use fuzz::{fuzz_query, fuzz_response_huge};
pub use memory::{MemoryCatalog, MemoryInstance, MemoryNode};
pub use state_view::{LocalNode, StateView};
pub use view::{CatalogView, Health, InstanceView, NodeView, Weights};

use simple_dns::RCODE;

use crate::rand::Rng;
use query::Reject;
use records::Plan;

/// How the query arrived, which bounds the reply's size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// A datagram; `max_size` is the largest reply the server will send when the client
    /// advertises a larger EDNS buffer (without EDNS replies are capped at 512 bytes).
    Udp {
        /// Ceiling for EDNS replies, also advertised in our OPT record.
        max_size: u16,
    },
    /// A stream: replies up to 65535 bytes (the runtime adds the length prefix).
    Tcp,
}

/// A name outside our domains, to be sent to the recursors as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Forward {
    /// The reply to send when every recursor fails or times out (SERVFAIL).
    pub servfail: Vec<u8>,
}

/// What to do with a query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Send these bytes back.
    Reply(Vec<u8>),
    /// Forward the query to the recursors.
    Forward(Forward),
    /// Send nothing (not even a readable header, or not a query).
    Drop,
}

/// What [`answer_into`] left in its buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Written {
    /// The reply to send.
    Reply,
    /// The SERVFAIL to send if every recursor fails: forward the query to the recursors.
    Forward,
    /// Nothing: send nothing (not even a readable header, or not a query).
    Drop,
}

/// Answers one DNS query against `view`.
pub fn answer(
    query: &[u8],
    view: &impl CatalogView,
    config: &DnsConfig,
    transport: Transport,
    rng: &mut Rng,
) -> Outcome {
    let mut out = Vec::new();
    match answer_into(query, view, config, transport, rng, &mut out) {
        Written::Reply => Outcome::Reply(out),
        Written::Forward => Outcome::Forward(Forward { servfail: out }),
        Written::Drop => Outcome::Drop,
    }
}

/// [`answer`], writing over `out` so a serving thread reuses one buffer for every reply.
pub fn answer_into(
    query: &[u8],
    view: &impl CatalogView,
    config: &DnsConfig,
    transport: Transport,
    rng: &mut Rng,
    out: &mut Vec<u8>,
) -> Written {
    out.clear();
    let recursion = config.recursors_configured;
    let query = match decode(query, recursion, out) {
        Ok(query) => query,
        Err(written) => return written,
    };
    let plan = if query.edns.is_some_and(|e| e.version > 0) {
        Plan::bare(RCODE::BADVERS, false)
    } else {
        let budget = encode::answer_budget(&query, config, transport);
        match plan::plan(&query.question, view, config, budget, rng) {
            Some(plan) => plan,
            None if recursion => {
                let servfail = Plan::bare(RCODE::ServerFailure, false);
                encode::reply(&query, &servfail, config, transport, out);
                return Written::Forward;
            }
            None => Plan::bare(RCODE::Refused, false),
        }
    };
    encode::reply(&query, &plan, config, transport, out);
    Written::Reply
}

/// SERVFAIL for `query`: the runtime has no view fresh enough to answer from (no leader heard
/// from within `max_stale`). Malformed queries get what [`answer`] would give them.
pub fn server_failure(query: &[u8], config: &DnsConfig, transport: Transport) -> Outcome {
    let mut out = Vec::new();
    let written = match decode(query, config.recursors_configured, &mut out) {
        Ok(query) => {
            let servfail = Plan::bare(RCODE::ServerFailure, false);
            encode::reply(&query, &servfail, config, transport, &mut out);
            Written::Reply
        }
        Err(written) => written,
    };
    match written {
        Written::Drop => Outcome::Drop,
        Written::Reply | Written::Forward => Outcome::Reply(out),
    }
}

/// The query, or (written over `out`) what to send for bytes that are not one we can answer.
fn decode<'q>(
    query: &'q [u8],
    recursion: bool,
    out: &mut Vec<u8>,
) -> Result<query::Query<'q>, Written> {
    let (header, rcode) = match query::decode(query) {
        Ok(query) => return Ok(query),
        Err(Reject::Drop) => return Err(Written::Drop),
        Err(Reject::Malformed(header)) => (header, RCODE::FormatError),
        Err(Reject::NotImplemented(header)) => (header, RCODE::NotImplemented),
    };
    encode::header_only(header, rcode, recursion, out);
    Err(Written::Reply)
}
