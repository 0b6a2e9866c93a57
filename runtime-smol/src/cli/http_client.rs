//! A small blocking HTTP/1.1 client for the CLI commands: one request per connection
//! (`Connection: close`), answers framed by `Content-Length`, chunked encoding or end of stream.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use synod_core::api::http::escape_path;
use synod_core::api::http::path::escape_query_component;

use super::flags::{FlagKind, FlagSpec, ParsedFlags};

/// Where the agent listens when nothing says otherwise.
pub const DEFAULT_HTTP_ADDR: &str = "127.0.0.1:8500";
/// A request that gets no answer within this long fails (blocking queries are not used here).
const IO_TIMEOUT: Duration = Duration::from_secs(60);

/// Flags every command that talks to the HTTP API accepts.
pub const HTTP_FLAGS: &[FlagSpec] = &[
    FlagSpec {
        name: "http-addr",
        kind: FlagKind::Value,
        help: "Address of the agent's HTTP API (host:port or http://host:port). Also \
               SYNOD_HTTP_ADDR or CONSUL_HTTP_ADDR. Defaults to 127.0.0.1:8500.",
    },
    FlagSpec {
        name: "datacenter",
        kind: FlagKind::Value,
        help: "Datacenter to query. Defaults to the agent's.",
    },
    FlagSpec {
        name: "token",
        kind: FlagKind::Value,
        help: "ACL token sent as X-Consul-Token. Also CONSUL_HTTP_TOKEN.",
    },
    FlagSpec {
        name: "stale",
        kind: FlagKind::Switch,
        help: "Allow any server to answer reads, not only the leader.",
    },
];

/// An answer from the agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The body as text (lossy), trimmed of the trailing newline Consul adds to error texts.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).trim_end().to_string()
    }

    /// The Go API client's error for a non-200 answer.
    pub fn unexpected(&self) -> String {
        format!(
            "Unexpected response code: {} ({})",
            self.status,
            self.text()
        )
    }
}

/// A client for one agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiClient {
    /// `host:port`.
    pub addr: String,
    datacenter: Option<String>,
    token: Option<String>,
    stale: bool,
}

impl ApiClient {
    /// From `-http-addr`/`-datacenter`/`-token`/`-stale`, then the environment (`env` looks up
    /// a variable), then the default.
    pub fn from_flags(
        flags: &ParsedFlags,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<ApiClient, String> {
        let raw = flags
            .value("http-addr")
            .map(str::to_string)
            .or_else(|| env("SYNOD_HTTP_ADDR"))
            .or_else(|| env("CONSUL_HTTP_ADDR"))
            .filter(|a| !a.is_empty())
            .unwrap_or_else(|| DEFAULT_HTTP_ADDR.to_string());
        Ok(ApiClient {
            addr: parse_addr(&raw)?,
            datacenter: flags.value("datacenter").map(str::to_string),
            token: flags
                .value("token")
                .map(str::to_string)
                .or_else(|| env("CONSUL_HTTP_TOKEN"))
                .filter(|t| !t.is_empty()),
            stale: flags.switch("stale"),
        })
    }

    /// Whether `-stale` was given.
    pub fn stale(&self) -> bool {
        self.stale
    }

    /// `/v1/kv/<key>` with `query` pairs (values escaped here).
    pub fn kv_target(&self, key: &str, query: &[(&str, String)]) -> String {
        self.target(&format!("/v1/kv/{}", escape_path(key)), query)
    }

    /// `path` with `query` pairs and `?dc=` when a datacenter was given.
    pub fn target(&self, path: &str, query: &[(&str, String)]) -> String {
        let mut pairs: Vec<(&str, String)> = query.to_vec();
        if let Some(dc) = &self.datacenter {
            pairs.push(("dc", dc.clone()));
        }
        let mut target = path.to_string();
        for (i, (key, value)) in pairs.iter().enumerate() {
            target.push(if i == 0 { '?' } else { '&' });
            target.push_str(key);
            if !value.is_empty() {
                target.push('=');
                target.push_str(&escape_query_component(value));
            }
        }
        target
    }

    /// Sends one request and reads the whole answer.
    pub fn send(&self, method: &str, target: &str, body: &[u8]) -> Result<HttpResponse, String> {
        // Go's url.Error wording, which Consul's CLI prints: `Put "http://…": <cause>`.
        let op: String = method
            .chars()
            .take(1)
            .chain(method.chars().skip(1).flat_map(char::to_lowercase))
            .collect();
        let fail = |e: std::io::Error| format!("{op} \"http://{}{target}\": {e}", self.addr);
        let mut stream = TcpStream::connect(&self.addr).map_err(fail)?;
        stream.set_read_timeout(Some(IO_TIMEOUT)).map_err(fail)?;
        stream.set_write_timeout(Some(IO_TIMEOUT)).map_err(fail)?;
        let mut head = format!(
            "{method} {target} HTTP/1.1\r\nHost: {}\r\nUser-Agent: synod-cli\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        if let Some(token) = &self.token {
            head.push_str(&format!("X-Consul-Token: {token}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).map_err(fail)?;
        stream.write_all(body).map_err(fail)?;
        read_response(BufReader::new(stream)).map_err(|e| format!("reading the answer: {e}"))
    }
}

/// `host:port`, `http://host:port[/]`; `https://` and unix sockets are refused clearly.
fn parse_addr(raw: &str) -> Result<String, String> {
    if raw.starts_with("https://") || raw.starts_with("unix://") {
        return Err(format!(
            "unsupported HTTP address {raw:?}: only plain http is supported"
        ));
    }
    let addr = raw
        .strip_prefix("http://")
        .unwrap_or(raw)
        .trim_end_matches('/');
    if addr.is_empty() || addr.contains('/') {
        return Err(format!("invalid HTTP address {raw:?}"));
    }
    if addr
        .rsplit_once(':')
        .is_some_and(|(_, port)| port.parse::<u16>().is_ok())
    {
        Ok(addr.to_string())
    } else {
        Ok(format!("{addr}:8500"))
    }
}

fn io_error(message: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, message.to_string())
}

/// Parses a response from `reader`.
pub fn read_response(mut reader: impl BufRead) -> std::io::Result<HttpResponse> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| io_error("malformed status line"))?;
    let mut length = None;
    let mut chunked = false;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(io_error("connection closed inside the headers"));
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(
                    value
                        .parse::<usize>()
                        .map_err(|_| io_error("bad Content-Length"))?,
                );
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.eq_ignore_ascii_case("chunked");
            }
        }
    }
    let mut body = Vec::new();
    if chunked {
        read_chunked(&mut reader, &mut body)?;
    } else if let Some(length) = length {
        body.resize(length, 0);
        reader.read_exact(&mut body)?;
    } else {
        reader.read_to_end(&mut body)?;
    }
    Ok(HttpResponse { status, body })
}

fn read_chunked(reader: &mut impl BufRead, body: &mut Vec<u8>) -> std::io::Result<()> {
    let mut line = String::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let size_text = line.trim_end().split(';').next().unwrap_or("");
        let size = usize::from_str_radix(size_text, 16).map_err(|_| io_error("bad chunk size"))?;
        if size == 0 {
            return Ok(());
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        line.clear();
        reader.read_line(&mut line)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::flags;

    fn client(args: &[&str], env: &[(&str, &str)]) -> Result<ApiClient, String> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let parsed = flags::parse(HTTP_FLAGS, &args).expect("valid flags");
        ApiClient::from_flags(&parsed, |name| {
            env.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn address_comes_from_the_flag_then_synod_then_consul_env_then_the_default() {
        let env = [
            ("SYNOD_HTTP_ADDR", "10.0.0.1:1"),
            ("CONSUL_HTTP_ADDR", "10.0.0.2:2"),
        ];
        assert_eq!(
            client(&["-http-addr=http://h:3/"], &env).expect("ok").addr,
            "h:3"
        );
        assert_eq!(client(&[], &env).expect("ok").addr, "10.0.0.1:1");
        assert_eq!(client(&[], &env[1..]).expect("ok").addr, "10.0.0.2:2");
        assert_eq!(client(&[], &[]).expect("ok").addr, "127.0.0.1:8500");
        assert_eq!(
            client(&["-http-addr=host"], &[]).expect("ok").addr,
            "host:8500"
        );
        assert!(client(&["-http-addr=https://h:1"], &[]).is_err());
    }

    #[test]
    fn targets_escape_keys_and_values_and_add_the_datacenter() {
        let c = client(&["-datacenter=east"], &[]).expect("ok");
        assert_eq!(
            c.kv_target(
                "a b/c",
                &[("recurse", String::new()), ("separator", "/".into())]
            ),
            "/v1/kv/a%20b/c?recurse&separator=%2F&dc=east"
        );
    }

    #[test]
    fn responses_are_read_by_length_chunks_or_to_the_end() {
        let fixed = read_response(&b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ntrue"[..]);
        assert_eq!(
            fixed.expect("ok"),
            HttpResponse {
                status: 200,
                body: b"true".to_vec()
            }
        );
        let chunked = read_response(
            &b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n"[..],
        );
        assert_eq!(
            chunked.expect("ok"),
            HttpResponse {
                status: 404,
                body: b"abc".to_vec()
            }
        );
        let open =
            read_response(&b"HTTP/1.1 500 Internal Server Error\r\n\r\nNo cluster leader\n"[..]);
        let open = open.expect("ok");
        assert_eq!(
            open.unexpected(),
            "Unexpected response code: 500 (No cluster leader)"
        );
        assert!(read_response(&b"garbage"[..]).is_err());
    }
}
