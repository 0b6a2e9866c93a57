//! Response values and their HTTP/1.1 rendering (Go's reason phrases and header order).

/// `Content-Type` of Consul's JSON answers.
pub const JSON: &str = "application/json";
/// `Content-Type` Go sniffs for Consul's text error bodies.
pub const TEXT: &str = "text/plain; charset=utf-8";

/// A response before rendering. Header names are written as given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Header fields (besides `Date`, `Content-Length` and `Connection`, which rendering adds).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Response {
    /// An empty-bodied response.
    pub fn empty(status: u16) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A one-line text body, as Consul answers errors (`No cluster leader`, `Missing key name`).
    pub fn text(status: u16, message: &str) -> Self {
        Response::empty(status).with_body(TEXT, message.as_bytes().to_vec())
    }

    /// A JSON body (already encoded).
    pub fn json(status: u16, body: Vec<u8>) -> Self {
        Response::empty(status).with_body(JSON, body)
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// Sets the body and its `Content-Type`.
    pub fn with_body(self, content_type: &str, body: Vec<u8>) -> Self {
        let mut response = self.with_header("Content-Type", content_type);
        response.body = body;
        response
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// How to frame a rendered response.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Framing<'a> {
    /// The `Date` value (an IMF-fixdate; core has no clock).
    pub date: &'a str,
    /// Keep the connection open after this response.
    pub keep_alive: bool,
    /// The request was HTTP/1.0 (keep-alive must then be announced explicitly).
    pub http10: bool,
    /// Answering a HEAD: headers only, `Content-Length` of the body that would have been sent.
    pub head_only: bool,
}

/// Go's `http.StatusText` for the codes we send.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Request Entity Too Large",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

/// Header values never carry a line break onto the wire (Go replaces them with spaces too).
fn push_header(out: &mut Vec<u8>, name: &str, value: &str) {
    for (part, sep) in [(name, ": "), (value, "\r\n")] {
        out.extend(
            part.bytes()
                .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
        );
        out.extend_from_slice(sep.as_bytes());
    }
}

/// Appends the wire form of `response` to `out`: status line, headers sorted by name (as Go's
/// `Header.Write` does), then `Connection`, `Date` and `Content-Length`, then the body.
pub fn render(response: &Response, framing: Framing<'_>, out: &mut Vec<u8>) {
    let phrase = reason_phrase(response.status);
    let status_line = format!("HTTP/1.1 {} {}\r\n", response.status, phrase);
    out.extend_from_slice(status_line.as_bytes());
    let mut headers: Vec<&(String, String)> = response.headers.iter().collect();
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, value) in headers {
        push_header(out, name, value);
    }
    if !framing.keep_alive {
        push_header(out, "Connection", "close");
    } else if framing.http10 {
        push_header(out, "Connection", "keep-alive");
    }
    push_header(out, "Date", framing.date);
    push_header(out, "Content-Length", &response.body.len().to_string());
    out.extend_from_slice(b"\r\n");
    if !framing.head_only {
        out.extend_from_slice(&response.body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATE: &str = "Thu, 26 Nov 2026 06:00:00 GMT";

    fn framing() -> Framing<'static> {
        Framing {
            date: DATE,
            keep_alive: true,
            http10: false,
            head_only: false,
        }
    }

    fn rendered(response: &Response, framing: Framing<'_>) -> String {
        let mut out = Vec::new();
        render(response, framing, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn renders_sorted_headers_then_date_and_length() {
        let response = Response::json(200, b"true".to_vec())
            .with_header("X-Consul-Index", "7")
            .with_header("X-Consul-Default-Acl-Policy", "allow");
        assert_eq!(
            rendered(&response, framing()),
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
             X-Consul-Default-Acl-Policy: allow\r\nX-Consul-Index: 7\r\n\
             Date: Thu, 26 Nov 2026 06:00:00 GMT\r\nContent-Length: 4\r\n\r\ntrue"
        );
    }

    #[test]
    fn closing_connections_say_so() {
        let framing = Framing {
            keep_alive: false,
            ..framing()
        };
        assert_eq!(
            rendered(&Response::empty(404), framing),
            "HTTP/1.1 404 Not Found\r\nConnection: close\r\nDate: Thu, 26 Nov 2026 06:00:00 GMT\r\n\
             Content-Length: 0\r\n\r\n"
        );
    }

    #[test]
    fn http10_keep_alive_is_announced() {
        let framing = Framing {
            http10: true,
            ..framing()
        };
        assert!(
            rendered(&Response::empty(200), framing).contains("\r\nConnection: keep-alive\r\n")
        );
    }

    #[test]
    fn head_responses_keep_the_length_but_drop_the_body() {
        let framing = Framing {
            head_only: true,
            ..framing()
        };
        let text = rendered(&Response::text(200, "hello"), framing);
        assert!(text.ends_with("Content-Length: 5\r\n\r\n"), "{text}");
    }

    #[test]
    fn header_values_cannot_inject_lines() {
        let response = Response::empty(301).with_header("Location", "/a\r\nSet-Cookie: x");
        assert!(rendered(&response, framing()).contains("Location: /a  Set-Cookie: x\r\n"));
    }

    #[test]
    fn reason_phrases_follow_go() {
        assert_eq!(reason_phrase(413), "Request Entity Too Large");
        assert_eq!(reason_phrase(431), "Request Header Fields Too Large");
        assert_eq!(reason_phrase(405), "Method Not Allowed");
        assert_eq!(reason_phrase(299), "");
    }
}
