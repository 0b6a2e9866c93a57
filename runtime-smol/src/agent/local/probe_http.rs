//! HTTP checks over plain HTTP/1.1: 2xx passing, 429 warning, anything else critical, with
//! Consul's output (`HTTP GET <url>: 200 OK Output: <body>`). `https://` URLs are reported
//! critical: this agent has no TLS client.

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use synod_core::health::HttpProbe;
use synod_core::health::check::DEFAULT_OUTPUT_MAX_SIZE;
use synod_core::health::scheduler::Outcome;
use synod_core::state::catalog::types::HealthStatus;

use super::probe_tcp::connect;

/// Most response bytes read (head plus the start of the body).
const MAX_READ: u64 = 16 * 1024 + DEFAULT_OUTPUT_MAX_SIZE as u64;

/// `http://host[:port]/path` split into its parts.
#[derive(Debug, PartialEq, Eq)]
struct Target {
    host_port: String,
    host_header: String,
    path: String,
}

fn parse_url(url: &str) -> Result<Target, String> {
    if url.starts_with("https://") {
        return Err("https checks are not supported by this agent (no TLS client)".to_owned());
    }
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("unsupported protocol scheme in {url:?}"))?;
    let (authority, path) = match rest.find(['/', '?']) {
        Some(at) if rest[at..].starts_with('/') => (&rest[..at], rest[at..].to_owned()),
        Some(at) => (&rest[..at], format!("/{}", &rest[at..])),
        None => (rest, "/".to_owned()),
    };
    if authority.is_empty() {
        return Err(format!("no host in {url:?}"));
    }
    let has_port = match authority.rfind(':') {
        Some(at) => !authority[at..].contains(']'),
        None => false,
    };
    let host_port = if has_port {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    Ok(Target {
        host_port,
        host_header: authority.to_owned(),
        path,
    })
}

fn request_bytes(probe: &HttpProbe, target: &Target) -> Vec<u8> {
    let mut head = format!("{} {} HTTP/1.1\r\n", probe.method, target.path);
    let has = |name: &str| probe.header.keys().any(|k| k.eq_ignore_ascii_case(name));
    if !has("host") {
        head.push_str(&format!("Host: {}\r\n", target.host_header));
    }
    if !has("user-agent") {
        head.push_str("User-Agent: Consul Health Check\r\n");
    }
    if !has("accept") {
        head.push_str("Accept: text/plain, text/*, */*\r\n");
    }
    for (name, values) in &probe.header {
        for value in values {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        probe.body.len()
    ));
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(probe.body.as_bytes());
    bytes
}

/// The status code, reason and body of a raw response (body cut where reading stopped).
fn parse_response(raw: &[u8]) -> Result<(u16, String, &[u8]), String> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| "malformed HTTP response".to_owned())?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let status_line = head.lines().next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let _version = parts.next();
    let code = parts
        .next()
        .and_then(|c| c.parse::<u16>().ok())
        .ok_or_else(|| format!("malformed HTTP status line {status_line:?}"))?;
    let reason = parts.next().unwrap_or_default().to_owned();
    Ok((code, reason, &raw[end + 4..]))
}

/// Sends the request and classifies the answer.
pub(super) async fn probe(probe: &HttpProbe) -> Outcome {
    let prefix = format!("HTTP {} {}", probe.method, probe.url);
    let target = match parse_url(&probe.url) {
        Ok(target) => target,
        Err(e) => return critical(format!("{prefix}: {e}")),
    };
    let exchange = async {
        let mut stream = connect(&target.host_port)
            .await
            .map_err(|e| format!("dial tcp {}: {e}", target.host_port))?;
        stream
            .write_all(&request_bytes(probe, &target))
            .await
            .map_err(|e| e.to_string())?;
        let mut raw = Vec::new();
        (&mut stream)
            .take(MAX_READ)
            .read_to_end(&mut raw)
            .await
            .map_err(|e| e.to_string())?;
        Ok::<_, String>(raw)
    };
    let raw = match exchange.await {
        Ok(raw) => raw,
        Err(e) => return critical(format!("{prefix}: {e}")),
    };
    let (code, reason, body) = match parse_response(&raw) {
        Ok(parsed) => parsed,
        Err(e) => return critical(format!("{prefix}: {e}")),
    };
    let body = &body[..body.len().min(DEFAULT_OUTPUT_MAX_SIZE)];
    let output = format!(
        "{prefix}: {code} {reason} Output: {}",
        String::from_utf8_lossy(body)
    );
    let status = match code {
        200..=299 => HealthStatus::Passing,
        429 => HealthStatus::Warning,
        _ => HealthStatus::Critical,
    };
    Outcome { status, output }
}

fn critical(output: String) -> Outcome {
    Outcome {
        status: HealthStatus::Critical,
        output,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_with_port_and_path_splits() {
        assert_eq!(
            parse_url("http://127.0.0.1:8080/health?x=1"),
            Ok(Target {
                host_port: "127.0.0.1:8080".into(),
                host_header: "127.0.0.1:8080".into(),
                path: "/health?x=1".into(),
            })
        );
    }

    #[test]
    fn url_without_port_or_path_defaults_to_80_and_root() {
        assert_eq!(
            parse_url("http://example.com"),
            Ok(Target {
                host_port: "example.com:80".into(),
                host_header: "example.com".into(),
                path: "/".into(),
            })
        );
    }

    #[test]
    fn https_is_refused_with_a_reason() {
        assert!(parse_url("https://x/").is_err());
    }

    #[test]
    fn response_parses_code_reason_and_body() {
        let raw = b"HTTP/1.1 429 Too Many Requests\r\nA: b\r\n\r\nslow down";
        assert_eq!(
            parse_response(raw),
            Ok((429, "Too Many Requests".to_owned(), &b"slow down"[..]))
        );
    }

    #[test]
    fn garbage_response_is_an_error_not_a_panic() {
        assert!(parse_response(b"HTTP/1.1 abc\r\n\r\n").is_err());
        assert!(parse_response(b"no head end").is_err());
    }
}
