//! URL paths: percent-decoding, Go `ServeMux`-style cleaning and re-escaping for `Location`.

use core::fmt;

/// Why a percent-encoded component could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// A `%` not followed by two hex digits, at this byte offset.
    BadEscape {
        /// Offset of the `%`.
        at: usize,
    },
    /// The decoded bytes are not UTF-8.
    NotUtf8,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::BadEscape { at } => write!(f, "invalid URL escape at byte {at}"),
            DecodeError::NotUtf8 => f.write_str("URL escape decodes to invalid UTF-8"),
        }
    }
}

impl std::error::Error for DecodeError {}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` escapes; with `plus_as_space` (query components) `+` becomes a space, as Go's
/// `url.QueryUnescape` does. Paths keep `+` literal, as Go's `url.PathUnescape` does.
pub fn percent_decode(input: &str, plus_as_space: bool) -> Result<String, DecodeError> {
    let bytes = input.as_bytes();
    if !(bytes.contains(&b'%') || plus_as_space && bytes.contains(&b'+')) {
        return Ok(input.to_owned());
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hi = bytes.get(i + 1).copied().and_then(hex_value);
                let lo = bytes.get(i + 2).copied().and_then(hex_value);
                match (hi, lo) {
                    (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                    _ => return Err(DecodeError::BadEscape { at: i }),
                }
                i += 3;
            }
            b'+' if plus_as_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| DecodeError::NotUtf8)
}

/// The canonical form of a decoded path, as Go's `ServeMux` computes it before routing: a leading
/// `/`, no empty, `.` or `..` segments, and a trailing `/` kept when the original had one.
/// A request whose path differs from this is answered with a 301 to the clean path.
pub fn clean_path(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut clean = String::with_capacity(path.len() + 1);
    for segment in &segments {
        clean.push('/');
        clean.push_str(segment);
    }
    if clean.is_empty() || path.ends_with('/') {
        clean.push('/');
    }
    clean
}

/// Bytes Go's `url.URL.EscapedPath` leaves as they are.
fn path_byte_is_safe(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.~$&+,/:;=@".contains(&b)
}

/// Bytes Go's `url.QueryEscape` leaves as they are (space becomes `+` separately).
fn query_byte_is_safe(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.~".contains(&b)
}

fn escape_with(input: &str, safe: fn(u8) -> bool, space_as_plus: bool) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(input.len());
    for &b in input.as_bytes() {
        if safe(b) {
            out.push(char::from(b));
        } else if b == b' ' && space_as_plus {
            out.push('+');
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xF)]));
        }
    }
    out
}

/// Escapes a decoded path for a URL (a `Location` header), like Go's `EscapedPath`.
pub fn escape_path(path: &str) -> String {
    escape_with(path, path_byte_is_safe, false)
}

/// Escapes one query key or value like Go's `url.QueryEscape`.
pub fn escape_query_component(component: &str) -> String {
    escape_with(component, query_byte_is_safe, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_turns_escapes_into_bytes() {
        assert_eq!(percent_decode("a%2Fb%20c", false).as_deref(), Ok("a/b c"));
        assert_eq!(percent_decode("caf%C3%A9", false).as_deref(), Ok("café"));
    }

    #[test]
    fn decode_treats_plus_as_space_only_in_queries() {
        assert_eq!(percent_decode("a+b", false).as_deref(), Ok("a+b"));
        assert_eq!(percent_decode("a+b", true).as_deref(), Ok("a b"));
        assert_eq!(percent_decode("a%2Bb", true).as_deref(), Ok("a+b"));
    }

    #[test]
    fn decode_rejects_truncated_and_non_hex_escapes() {
        assert_eq!(
            percent_decode("ab%", false),
            Err(DecodeError::BadEscape { at: 2 })
        );
        assert_eq!(
            percent_decode("%4", false),
            Err(DecodeError::BadEscape { at: 0 })
        );
        assert_eq!(
            percent_decode("x%zz", true),
            Err(DecodeError::BadEscape { at: 1 })
        );
    }

    #[test]
    fn decode_rejects_invalid_utf8() {
        assert_eq!(percent_decode("%FF%FE", false), Err(DecodeError::NotUtf8));
    }

    #[test]
    fn clean_path_matches_go_servemux() {
        let cases = [
            ("", "/"),
            ("/", "/"),
            ("//v1//kv", "/v1/kv"),
            ("/v1/kv/", "/v1/kv/"),
            ("/v1/kv//a//", "/v1/kv/a/"),
            ("/v1/./kv/../kv/x", "/v1/kv/x"),
            ("/..", "/"),
            ("/../a", "/a"),
            ("/a/b/..", "/a"),
            ("/a/.", "/a"),
            ("v1/kv", "/v1/kv"),
        ];
        for (input, want) in cases {
            assert_eq!(clean_path(input), want, "clean_path({input:?})");
        }
    }

    #[test]
    fn escape_path_keeps_go_safe_bytes_and_escapes_the_rest() {
        assert_eq!(escape_path("/v1/kv/a b?c"), "/v1/kv/a%20b%3Fc");
        assert_eq!(escape_path("/k/$&+,:;=@-_.~"), "/k/$&+,:;=@-_.~");
        assert_eq!(escape_path("/é"), "/%C3%A9");
    }

    #[test]
    fn escape_query_component_matches_go_query_escape() {
        assert_eq!(escape_query_component("a b&c=d/é"), "a+b%26c%3Dd%2F%C3%A9");
    }
}
