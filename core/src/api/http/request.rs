//! Incremental HTTP/1.x request parser on `httparse`: head and body limits, Content-Length and
//! chunked bodies, keep-alive rules and pipelining (one buffer may hold several requests).

use core::fmt;

use super::chunked::ChunkedDecoder;
use super::path::{DecodeError, percent_decode};
use super::query::{Query, QueryError};

/// Size limits for one request.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Request line plus headers, in bytes (larger: 431).
    pub max_head: usize,
    /// Number of header fields (more: 431).
    pub max_headers: usize,
    /// Body bytes (larger: 413). Consul's `kv_max_value_size` default is 524 288.
    pub max_body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_head: 8 * 1024,
            max_headers: 64,
            max_body: 512 * 1024,
        }
    }
}

/// The request method.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Method {
    /// GET
    Get,
    /// HEAD
    Head,
    /// POST
    Post,
    /// PUT
    Put,
    /// DELETE
    Delete,
    /// OPTIONS
    Options,
    /// PATCH
    Patch,
    /// Any other token (answered with 405 by every route).
    Other(String),
}

impl Method {
    fn from_token(token: &str) -> Method {
        match token {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            "OPTIONS" => Method::Options,
            "PATCH" => Method::Patch,
            other => Method::Other(other.to_owned()),
        }
    }

    /// The method as sent on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
            Method::Patch => "PATCH",
            Method::Other(token) => token,
        }
    }
}

/// The protocol version of a request.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Version {
    /// HTTP/1.0: connections close unless the client asks for keep-alive.
    Http10,
    /// HTTP/1.1: connections persist unless either side says `Connection: close`.
    Http11,
}

/// One header field; the name is lower-cased.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Lower-case name.
    pub name: String,
    /// Raw value bytes.
    pub value: Vec<u8>,
}

/// A complete, validated request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// Method.
    pub method: Method,
    /// Version.
    pub version: Version,
    /// Percent-decoded path (not yet cleaned; see [`Request::redirect_location`]).
    pub path: String,
    /// The query string as sent (after `?`, still encoded).
    pub raw_query: String,
    /// The parsed query string.
    pub query: Query,
    /// Header fields in request order.
    pub headers: Vec<Header>,
    /// The de-chunked body.
    pub body: Vec<u8>,
    /// Whether the connection may carry another request after this one.
    pub keep_alive: bool,
}

impl Request {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_slice())
    }

    /// Where Go's `ServeMux` would redirect (301) this request because its path is not clean
    /// (`//v1//kv` → `/v1/kv`); `None` when the path is already canonical.
    pub fn redirect_location(&self) -> Option<String> {
        let clean = super::path::clean_path(&self.path);
        if clean == self.path {
            return None;
        }
        let mut location = super::path::escape_path(&clean);
        if !self.raw_query.is_empty() {
            location.push('?');
            location.push_str(&self.raw_query);
        }
        Some(location)
    }
}

/// Why a request could not be parsed. Every variant is answered with its [`ParseError::status`]
/// and the connection is closed, as Go's server does for malformed requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// The request line or a header is malformed (httparse's reason).
    Malformed(&'static str),
    /// The head exceeds [`Limits::max_head`] or [`Limits::max_headers`].
    HeadTooLarge,
    /// HTTP/1.1 without a `Host` header.
    MissingHost,
    /// More than one `Host` header.
    DuplicateHost,
    /// A request target that is neither `/path`, `http://host/path` nor `*`.
    BadTarget,
    /// The path has a bad escape.
    BadPath(DecodeError),
    /// The query string is malformed.
    BadQuery(QueryError),
    /// `Content-Length` is not a number, or several disagree.
    BadContentLength,
    /// Both `Content-Length` and `Transfer-Encoding` (a request-smuggling vector).
    LengthAndChunked,
    /// A transfer coding other than `chunked`.
    UnsupportedTransferEncoding,
    /// A malformed chunked body.
    BadChunk(&'static str),
    /// The body is larger than [`Limits::max_body`]; `size` is the declared or decoded size.
    BodyTooLarge {
        /// Bytes declared (Content-Length) or seen so far (chunked).
        size: u64,
        /// The limit.
        limit: u64,
    },
}

impl ParseError {
    /// The status Go's server (or Consul, for 413) answers with.
    pub fn status(&self) -> u16 {
        match self {
            ParseError::HeadTooLarge => 431,
            ParseError::UnsupportedTransferEncoding => 501,
            ParseError::BodyTooLarge { .. } => 413,
            _ => 400,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Malformed(why) => write!(f, "malformed request: {why}"),
            ParseError::HeadTooLarge => f.write_str("request header fields too large"),
            ParseError::MissingHost => f.write_str("missing required Host header"),
            ParseError::DuplicateHost => f.write_str("too many Host headers"),
            ParseError::BadTarget => f.write_str("invalid request target"),
            ParseError::BadPath(e) => write!(f, "invalid URL path: {e}"),
            ParseError::BadQuery(e) => write!(f, "{e}"),
            ParseError::BadContentLength => f.write_str("bad Content-Length"),
            ParseError::LengthAndChunked => {
                f.write_str("both Transfer-Encoding and Content-Length are set")
            }
            ParseError::UnsupportedTransferEncoding => f.write_str("unsupported transfer encoding"),
            ParseError::BadChunk(why) => write!(f, "malformed chunked body: {why}"),
            ParseError::BodyTooLarge { size, limit } => write!(
                f,
                "Request body({size} bytes) too large, max size: {limit} bytes."
            ),
        }
    }
}

impl std::error::Error for ParseError {}

/// What one call to [`RequestParser::parse`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Progress {
    /// A whole request: drop its `consumed` bytes from the buffer before the next call.
    Done {
        /// The request.
        request: Request,
        /// Bytes it took at the start of the buffer.
        consumed: usize,
    },
    /// The buffer holds only part of a request.
    NeedMore {
        /// The head asked for `Expect: 100-continue` and the body has not come yet: send
        /// `HTTP/1.1 100 Continue` now (reported once per request).
        send_continue: bool,
    },
}

#[derive(Clone, Debug)]
enum BodyKind {
    Length(usize),
    Chunked(ChunkedDecoder),
}

#[derive(Clone, Debug)]
struct PendingBody {
    request: Request,
    head_len: usize,
    kind: BodyKind,
}

/// Parses one request at a time from the front of a connection's buffer.
///
/// Call [`RequestParser::parse`] with every unconsumed byte after each read; the parser remembers
/// a parsed head, so a slow body does not re-parse it.
#[derive(Clone, Debug)]
pub struct RequestParser {
    limits: Limits,
    pending: Option<PendingBody>,
    /// Path of the request whose head was parsed last, until it completes (kept on errors).
    head_path: Option<String>,
}

impl RequestParser {
    /// A parser enforcing `limits`.
    pub fn new(limits: Limits) -> Self {
        RequestParser {
            limits,
            pending: None,
            head_path: None,
        }
    }

    /// Whether a head has been parsed and the body is still arriving (header-read timeouts no
    /// longer apply).
    pub fn head_complete(&self) -> bool {
        self.pending.is_some()
    }

    /// The decoded path of the request whose head was parsed but which did not complete — its
    /// body is still arriving, or it failed after the head (used to word a 413).
    pub fn pending_path(&self) -> Option<&str> {
        self.head_path.as_deref()
    }

    /// Parses from `buf`, which must start at the current request's first byte and include
    /// every byte passed before (plus new ones).
    pub fn parse(&mut self, buf: &[u8]) -> Result<Progress, ParseError> {
        let mut send_continue = false;
        if self.pending.is_none() {
            let Some((request, head_len)) = self.parse_head(buf)? else {
                return Ok(Progress::NeedMore {
                    send_continue: false,
                });
            };
            self.head_path = Some(request.path.clone());
            let kind = body_kind(&request, self.limits)?;
            send_continue = expects_continue(&request);
            self.pending = Some(PendingBody {
                request,
                head_len,
                kind,
            });
        }
        let Some(pending) = self.pending.as_mut() else {
            return Ok(Progress::NeedMore { send_continue });
        };
        let body_bytes = buf.get(pending.head_len..).unwrap_or_default();
        let body_end = match &mut pending.kind {
            BodyKind::Length(len) if body_bytes.len() >= *len => {
                pending.request.body = body_bytes[..*len].to_vec();
                *len
            }
            BodyKind::Length(len) => {
                let waiting = *len > 0;
                return Ok(Progress::NeedMore {
                    send_continue: send_continue && waiting,
                });
            }
            BodyKind::Chunked(decoder) => match decoder.decode(body_bytes)? {
                Some(end) => {
                    pending.request.body = decoder.take_body();
                    end
                }
                None => return Ok(Progress::NeedMore { send_continue }),
            },
        };
        let consumed = pending.head_len + body_end;
        self.head_path = None;
        let Some(done) = self.pending.take() else {
            return Ok(Progress::NeedMore { send_continue });
        };
        Ok(Progress::Done {
            request: done.request,
            consumed,
        })
    }

    fn parse_head(&self, buf: &[u8]) -> Result<Option<(Request, usize)>, ParseError> {
        let mut slots = vec![httparse::EMPTY_HEADER; self.limits.max_headers];
        let mut raw = httparse::Request::new(&mut slots);
        let head_len = match raw.parse(buf) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) if buf.len() > self.limits.max_head => {
                return Err(ParseError::HeadTooLarge);
            }
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(httparse::Error::TooManyHeaders) => return Err(ParseError::HeadTooLarge),
            Err(e) => return Err(ParseError::Malformed(error_reason(e))),
        };
        if head_len > self.limits.max_head {
            return Err(ParseError::HeadTooLarge);
        }
        let (Some(method), Some(target), Some(minor)) = (raw.method, raw.path, raw.version) else {
            return Err(ParseError::Malformed("incomplete request line"));
        };
        let version = if minor == 0 {
            Version::Http10
        } else {
            Version::Http11
        };
        let headers: Vec<Header> = raw
            .headers
            .iter()
            .map(|h| Header {
                name: h.name.to_ascii_lowercase(),
                value: h.value.to_vec(),
            })
            .collect();
        let hosts = headers.iter().filter(|h| h.name == "host").count();
        if hosts > 1 {
            return Err(ParseError::DuplicateHost);
        }
        if hosts == 0 && version == Version::Http11 {
            return Err(ParseError::MissingHost);
        }
        let (raw_path, raw_query) = split_target(target)?;
        let path = percent_decode(raw_path, false).map_err(ParseError::BadPath)?;
        let query = Query::parse(raw_query).map_err(ParseError::BadQuery)?;
        let keep_alive = keep_alive(version, &headers);
        let request = Request {
            method: Method::from_token(method),
            version,
            path,
            raw_query: raw_query.to_owned(),
            query,
            headers,
            body: Vec::new(),
            keep_alive,
        };
        Ok(Some((request, head_len)))
    }
}

fn error_reason(e: httparse::Error) -> &'static str {
    match e {
        httparse::Error::HeaderName => "invalid header name",
        httparse::Error::HeaderValue => "invalid header value",
        httparse::Error::NewLine => "invalid line ending",
        httparse::Error::Status => "invalid status",
        httparse::Error::Token => "invalid token",
        httparse::Error::TooManyHeaders => "too many headers",
        httparse::Error::Version => "malformed HTTP version",
    }
}

/// Splits a request target into encoded path and query. Accepts origin-form (`/p?q`),
/// absolute-form (`http://host/p?q`, which Go also accepts) and `*` (OPTIONS).
fn split_target(target: &str) -> Result<(&str, &str), ParseError> {
    let path_and_query = if target.starts_with('/') || target == "*" {
        target
    } else if let Some(rest) = target
        .strip_prefix("http://")
        .or_else(|| target.strip_prefix("https://"))
    {
        rest.find('/').map_or("/", |slash| &rest[slash..])
    } else {
        return Err(ParseError::BadTarget);
    };
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    // A fragment never reaches a server; if one does, it is not part of the query.
    let query = query.split_once('#').map_or(query, |(q, _)| q);
    Ok((path, query))
}

/// Comma-separated tokens of every `name` header, lower-cased and trimmed.
fn header_tokens<'a>(headers: &'a [Header], name: &'a str) -> impl Iterator<Item = String> + 'a {
    headers
        .iter()
        .filter(move |h| h.name == name)
        .flat_map(|h| h.value.split(|&b| b == b','))
        .map(|token| String::from_utf8_lossy(token.trim_ascii()).to_ascii_lowercase())
}

fn keep_alive(version: Version, headers: &[Header]) -> bool {
    let mut close = false;
    let mut keep = false;
    for token in header_tokens(headers, "connection") {
        close |= token == "close";
        keep |= token == "keep-alive";
    }
    match version {
        Version::Http11 => !close,
        Version::Http10 => keep && !close,
    }
}

fn expects_continue(request: &Request) -> bool {
    request.version == Version::Http11
        && request
            .header("expect")
            .is_some_and(|v| v.trim_ascii().eq_ignore_ascii_case(b"100-continue"))
}

fn body_kind(request: &Request, limits: Limits) -> Result<BodyKind, ParseError> {
    let mut codings = header_tokens(&request.headers, "transfer-encoding").peekable();
    let chunked = match codings.next() {
        None => false,
        Some(first) if first == "chunked" && codings.peek().is_none() => true,
        Some(_) => return Err(ParseError::UnsupportedTransferEncoding),
    };
    let mut length: Option<u64> = None;
    for header in request
        .headers
        .iter()
        .filter(|h| h.name == "content-length")
    {
        let value = header.value.trim_ascii();
        if value.is_empty() || !value.iter().all(u8::is_ascii_digit) || value.len() > 19 {
            return Err(ParseError::BadContentLength);
        }
        let parsed = value.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
        if length.is_some_and(|l| l != parsed) {
            return Err(ParseError::BadContentLength);
        }
        length = Some(parsed);
    }
    match (chunked, length) {
        (true, Some(_)) => Err(ParseError::LengthAndChunked),
        (true, None) => Ok(BodyKind::Chunked(ChunkedDecoder::new(limits.max_body))),
        (false, Some(len)) if len > limits.max_body as u64 => Err(ParseError::BodyTooLarge {
            size: len,
            limit: limits.max_body as u64,
        }),
        (false, Some(len)) => Ok(BodyKind::Length(usize::try_from(len).unwrap_or(usize::MAX))),
        (false, None) => Ok(BodyKind::Length(0)),
    }
}
