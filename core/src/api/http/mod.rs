//! HTTP/1.1 request parsing and response rendering (Consul-compatible), as pure functions over
//! bytes: the runtime owns sockets and clocks, this module owns the protocol.

mod chunked;
pub mod path;
pub mod query;
pub mod request;
pub mod response;

#[cfg(test)]
mod request_tests;

pub use crate::go_duration::{DurationError, parse_go_duration};
pub use path::{clean_path, escape_path, percent_decode};
pub use query::{Query, QueryError};
pub use request::{Header, Limits, Method, ParseError, Progress, Request, RequestParser, Version};
pub use response::{Framing, Response, reason_phrase, render};

/// Fuzz body: parse `data` as a stream of pipelined requests, whole and in two pieces, and check
/// both ways agree (the incremental parser must not depend on how bytes arrive).
pub fn fuzz_request(data: &[u8]) {
    let whole = parse_stream(data, data.len());
    let split_at = data.first().map_or(0, |&b| usize::from(b)).min(data.len());
    let pieces = parse_stream(data, split_at);
    assert_eq!(whole, pieces, "parse depends on read boundaries");
    for request in whole.iter().flatten() {
        let _ = request.redirect_location();
        let framing = Framing {
            date: "",
            keep_alive: request.keep_alive,
            http10: false,
            head_only: false,
        };
        let mut out = Vec::new();
        render(
            &Response::json(200, request.body.clone()),
            framing,
            &mut out,
        );
        assert!(out.ends_with(&request.body));
    }
}

/// Feeds `data` to one parser as two reads (`..first_read`, then the rest) and collects every
/// request or the terminal error.
fn parse_stream(data: &[u8], first_read: usize) -> Vec<Result<Request, ParseError>> {
    let mut parser = RequestParser::new(Limits {
        max_head: 1024,
        max_headers: 16,
        max_body: 4096,
    });
    let mut outcomes = Vec::new();
    let mut start = 0;
    let mut available = first_read;
    loop {
        match parser.parse(&data[start..available]) {
            Ok(Progress::Done { request, consumed }) => {
                assert!(consumed > 0 && start + consumed <= available);
                start += consumed;
                outcomes.push(Ok(request));
            }
            Ok(Progress::NeedMore { .. }) if available < data.len() => available = data.len(),
            Ok(Progress::NeedMore { .. }) => return outcomes,
            Err(e) => {
                assert!(!e.to_string().is_empty());
                outcomes.push(Err(e));
                return outcomes;
            }
        }
    }
}

/// Fuzz body: any query string either fails with a typed error or round-trips through
/// [`Query::encode`] (which sorts keys, keeping each key's values in order).
pub fn fuzz_query(data: &[u8]) {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let Ok(query) = Query::parse(text) else {
        return;
    };
    let reparsed = Query::parse(&query.encode());
    let mut expected = query.pairs().to_vec();
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(reparsed.map(|q| q.pairs().to_vec()), Ok(expected));
}
