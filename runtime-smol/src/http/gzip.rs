//! Response compression as Consul's HTTP server does it (gziphandler with no minimum size):
//! every answer varies on `Accept-Encoding`, and a non-empty body is gzipped for clients that
//! accept it.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use synod_core::api::http::{Request, Response};

/// Adds `Vary: Accept-Encoding` and compresses the body when `request` accepts gzip.
pub fn negotiate(request: &Request, mut response: Response) -> Response {
    response
        .headers
        .push(("Vary".to_owned(), "Accept-Encoding".to_owned()));
    let compressible = !response.body.is_empty()
        && response.header("Content-Encoding").is_none()
        && !matches!(response.status, 204 | 304);
    if !compressible || !accepts_gzip(request.header("Accept-Encoding")) {
        return response;
    }
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    // Writing into a Vec cannot fail; on the impossible error the plain body is sent instead.
    let Ok(body) = encoder
        .write_all(&response.body)
        .and_then(|()| encoder.finish())
    else {
        return response;
    };
    response.body = body;
    response.with_header("Content-Encoding", "gzip")
}

/// Whether an `Accept-Encoding` value allows gzip: listed (or `*`) without `q=0`.
fn accepts_gzip(header: Option<&[u8]>) -> bool {
    let Some(value) = header.and_then(|v| std::str::from_utf8(v).ok()) else {
        return false;
    };
    value.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let coding = parts.next().unwrap_or_default();
        let refused = parts.any(|param| {
            param
                .strip_prefix("q=")
                .and_then(|q| q.parse::<f32>().ok())
                .is_some_and(|q| q == 0.0)
        });
        (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_accepted_unless_refused_with_q_zero() {
        let accepts = |v: &str| accepts_gzip(Some(v.as_bytes()));
        assert!(accepts("gzip"));
        assert!(accepts("deflate, GZIP;q=0.5"));
        assert!(accepts("*"));
        assert!(!accepts("gzip;q=0"));
        assert!(!accepts("br, deflate"));
        assert!(!accepts_gzip(None));
    }
}
