//! Blocking queries (`?index=N&wait=D`) with Consul's rules: default 5 min, capped at 10 min,
//! plus a random stagger of up to a sixteenth of the wait so parked clients do not return in
//! lock-step.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use synod_core::api::http::{Query, parse_go_duration};
use synod_core::node::{ClientRequest, ClientResponse, Consistency};
use synod_core::rand::Rng;
use synod_core::state;

use super::backend::Backend;
use super::errors::HttpError;

/// Consul's `structs.JitterFraction`.
const JITTER_FRACTION: u32 = 16;

/// Server-side bounds on how long a blocking query may park.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct QueryTimes {
    /// Used when `wait` is absent or not positive (`default_query_time`, 300 s).
    pub default_wait: Duration,
    /// Longer waits are clamped to this (`max_query_time`, 600 s).
    pub max_wait: Duration,
}

impl Default for QueryTimes {
    fn default() -> Self {
        QueryTimes {
            default_wait: Duration::from_secs(300),
            max_wait: Duration::from_secs(600),
        }
    }
}

/// A parsed blocking request.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Blocking {
    /// Return once the result's index exceeds this.
    pub min_index: u64,
    /// Total time to park, jitter included.
    pub timeout: Duration,
}

/// Reads `index` and `wait`. `None` when the request does not block (`index` absent or 0).
pub fn parse_blocking(
    query: &Query,
    times: QueryTimes,
    rng: &Mutex<Rng>,
) -> Result<Option<Blocking>, HttpError> {
    let mut wait_nanos: i64 = 0;
    if let Some(wait) = query.get("wait").filter(|w| !w.is_empty()) {
        wait_nanos =
            parse_go_duration(wait).map_err(|_| HttpError::bad_request("Invalid wait time"))?;
    }
    let mut min_index = 0;
    if let Some(index) = query.get("index").filter(|i| !i.is_empty()) {
        min_index = parse_go_uint(index).ok_or_else(|| HttpError::bad_request("Invalid index"))?;
    }
    if min_index == 0 {
        return Ok(None);
    }
    let requested = u64::try_from(wait_nanos).map_or(Duration::ZERO, Duration::from_nanos);
    let wait = if requested.is_zero() {
        times.default_wait
    } else {
        requested.min(times.max_wait)
    };
    let stagger = rng
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .duration(Duration::ZERO, wait / JITTER_FRACTION);
    Ok(Some(Blocking {
        min_index,
        timeout: wait + stagger,
    }))
}

/// Go's `strconv.ParseUint(s, 10, 64)`: digits only, no sign, no overflow.
pub fn parse_go_uint(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Runs a read, parking while its index has not passed `blocking.min_index` and the wait has
/// not run out. Dropping the future (client gone) abandons the wait.
///
/// The consistency mode is honoured once, up front, as Consul does: the first read goes
/// through the leader (lease or ReadIndex; forwarded from a follower). If it has not moved
/// past `min_index`, the query parks on this server's own state and, once woken, answers from
/// it: the index it returns and the change that woke it come from the same place, and that
/// state already holds everything the first read saw (its index only grows past the barrier).
pub async fn read<B: Backend>(
    backend: &B,
    query: state::Query,
    consistency: Consistency,
    blocking: Option<Blocking>,
) -> ClientResponse {
    let request = ClientRequest::Read {
        query: query.clone(),
        consistency,
    };
    let first = backend.request(request.clone()).await;
    let Some(blocking) = blocking else {
        return first;
    };
    let deadline = Instant::now() + blocking.timeout;
    let barrier = match first {
        ClientResponse::Read { index, .. } if index <= blocking.min_index => index,
        _ => return first,
    };
    // Not kept while parked: a parked query should hold as little as possible.
    drop(first);
    let stale = ClientRequest::Read {
        query: query.clone(),
        consistency: Consistency::Stale,
    };
    loop {
        // `wait` ends at the deadline itself.
        backend.wait(&query, blocking.min_index, deadline).await;
        let local = backend.request(stale.clone()).await;
        let index = match local {
            ClientResponse::Read { index, .. } => index,
            _ => return local,
        };
        if index > blocking.min_index {
            return local;
        }
        if Instant::now() >= deadline {
            // Timed out unchanged. A local state lagging behind the first read must not report
            // an older index: ask again the way the client asked.
            return if index >= barrier {
                local
            } else {
                backend.request(request).await
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<Option<Blocking>, HttpError> {
        let rng = Mutex::new(Rng::new(1));
        parse_blocking(&Query::parse(raw).unwrap(), QueryTimes::default(), &rng)
    }

    fn timeout_of(raw: &str) -> Duration {
        parse(raw).unwrap().unwrap().timeout
    }

    #[test]
    fn no_index_or_index_zero_does_not_block() {
        assert_eq!(parse(""), Ok(None));
        assert_eq!(parse("wait=10s"), Ok(None));
        assert_eq!(parse("index=0&wait=10s"), Ok(None));
    }

    #[test]
    fn wait_gets_up_to_a_sixteenth_of_jitter() {
        let t = timeout_of("index=5&wait=16s");
        assert!(
            t >= Duration::from_secs(16) && t < Duration::from_secs(17),
            "{t:?}"
        );
    }

    #[test]
    fn missing_or_non_positive_wait_means_five_minutes() {
        for raw in ["index=5", "index=5&wait=0s", "index=5&wait=-3s"] {
            let t = timeout_of(raw);
            assert!(
                t >= Duration::from_secs(300) && t < Duration::from_millis(318_750),
                "{raw}: {t:?}"
            );
        }
    }

    #[test]
    fn long_waits_are_capped_at_ten_minutes_before_jitter() {
        let t = timeout_of("index=5&wait=1h");
        assert!(
            t >= Duration::from_secs(600) && t < Duration::from_millis(637_500),
            "{t:?}"
        );
    }

    #[test]
    fn same_seed_draws_the_same_jitter() {
        assert_eq!(timeout_of("index=1&wait=1m"), timeout_of("index=1&wait=1m"));
    }

    #[test]
    fn bad_values_are_400_with_consul_text() {
        assert_eq!(
            parse("index=5&wait=soon"),
            Err(HttpError::bad_request("Invalid wait time"))
        );
        assert_eq!(
            parse("index=-1"),
            Err(HttpError::bad_request("Invalid index"))
        );
        assert_eq!(
            parse("index=+1"),
            Err(HttpError::bad_request("Invalid index"))
        );
        assert_eq!(
            parse("index=99999999999999999999"),
            Err(HttpError::bad_request("Invalid index"))
        );
    }
}
