//! Incremental decoder for `Transfer-Encoding: chunked` request bodies.

use super::request::ParseError;

/// Longest chunk-size line (with extensions) or trailer section we accept.
const MAX_LINE: usize = 4096;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Stage {
    /// Expecting `<hex size>[;ext]\r\n`.
    Size,
    /// Inside a chunk's data.
    Data { remaining: u64 },
    /// Expecting the CRLF after a chunk's data.
    DataEnd,
    /// After the last (zero) chunk: trailer lines until an empty line.
    Trailer { seen: usize },
}

/// Decodes a chunked body fed as a growing buffer (everything after the request head).
/// Remembers how far it got, so each byte is looked at once.
#[derive(Clone, Debug)]
pub(crate) struct ChunkedDecoder {
    pos: usize,
    stage: Stage,
    body: Vec<u8>,
    limit: usize,
}

impl ChunkedDecoder {
    pub(crate) fn new(limit: usize) -> Self {
        ChunkedDecoder {
            pos: 0,
            stage: Stage::Size,
            body: Vec::new(),
            limit,
        }
    }

    /// Decodes what `input` holds beyond the last call. `Ok(Some(n))`: the body ended after `n`
    /// bytes of `input`; take it with [`ChunkedDecoder::take_body`].
    pub(crate) fn decode(&mut self, input: &[u8]) -> Result<Option<usize>, ParseError> {
        loop {
            let rest = input.get(self.pos..).unwrap_or_default();
            match self.stage {
                Stage::Size => {
                    let Some(line) = take_line(rest, MAX_LINE)? else {
                        return Ok(None);
                    };
                    self.pos += line.consumed;
                    let size = parse_chunk_size(line.text)?;
                    self.stage = if size == 0 {
                        Stage::Trailer { seen: 0 }
                    } else {
                        let total = (self.body.len() as u64).saturating_add(size);
                        if total > self.limit as u64 {
                            return Err(ParseError::BodyTooLarge {
                                size: total,
                                limit: self.limit as u64,
                            });
                        }
                        Stage::Data { remaining: size }
                    };
                }
                Stage::Data { remaining } => {
                    if rest.is_empty() {
                        return Ok(None);
                    }
                    let take = usize::try_from(remaining).map_or(rest.len(), |r| r.min(rest.len()));
                    self.body.extend_from_slice(&rest[..take]);
                    self.pos += take;
                    let left = remaining - take as u64;
                    self.stage = if left == 0 {
                        Stage::DataEnd
                    } else {
                        Stage::Data { remaining: left }
                    };
                }
                Stage::DataEnd => {
                    let Some(line) = take_line(rest, 2)? else {
                        return Ok(None);
                    };
                    if !line.text.is_empty() {
                        return Err(ParseError::BadChunk("missing CRLF after chunk data"));
                    }
                    self.pos += line.consumed;
                    self.stage = Stage::Size;
                }
                Stage::Trailer { seen } => {
                    let Some(line) = take_line(rest, MAX_LINE.saturating_sub(seen))? else {
                        return Ok(None);
                    };
                    self.pos += line.consumed;
                    if line.text.is_empty() {
                        return Ok(Some(self.pos));
                    }
                    // Trailer fields are allowed by the grammar; nothing we serve uses them.
                    self.stage = Stage::Trailer {
                        seen: seen + line.consumed,
                    };
                }
            }
        }
    }

    pub(crate) fn take_body(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.body)
    }
}

struct Line<'a> {
    /// The line without its `\r\n` (or bare `\n`, which Go also accepts).
    text: &'a [u8],
    consumed: usize,
}

/// The next line of `input`, if complete; errors when it is longer than `max` bytes.
fn take_line(input: &[u8], max: usize) -> Result<Option<Line<'_>>, ParseError> {
    match input.iter().position(|&b| b == b'\n') {
        Some(nl) if nl <= max => {
            let text = &input[..nl];
            let text = text.strip_suffix(b"\r").unwrap_or(text);
            Ok(Some(Line {
                text,
                consumed: nl + 1,
            }))
        }
        Some(_) => Err(ParseError::BadChunk("chunk line too long")),
        None if input.len() > max => Err(ParseError::BadChunk("chunk line too long")),
        None => Ok(None),
    }
}

fn parse_chunk_size(line: &[u8]) -> Result<u64, ParseError> {
    let digits = line.split(|&b| b == b';').next().unwrap_or_default();
    let digits = digits.trim_ascii();
    if digits.is_empty() || digits.len() > 16 {
        return Err(ParseError::BadChunk("invalid chunk size"));
    }
    let mut size: u64 = 0;
    for &b in digits {
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => return Err(ParseError::BadChunk("invalid chunk size")),
        };
        size = size << 4 | u64::from(digit);
    }
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(input: &[u8], limit: usize) -> Result<Option<(usize, Vec<u8>)>, ParseError> {
        let mut d = ChunkedDecoder::new(limit);
        Ok(d.decode(input)?.map(|n| (n, d.take_body())))
    }

    #[test]
    fn decodes_chunks_with_extensions_and_trailers() {
        let input = b"3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\nNEXT";
        let (consumed, body) = decode_all(input, 100).unwrap().unwrap();
        assert_eq!(body, b"abc0123456789");
        assert_eq!(&input[consumed..], b"NEXT");
    }

    #[test]
    fn accepts_bare_lf_line_endings() {
        let (_, body) = decode_all(b"2\nhi\n0\n\n", 100).unwrap().unwrap();
        assert_eq!(body, b"hi");
    }

    #[test]
    fn byte_by_byte_feeding_gives_the_same_body() {
        let input = b"4\r\nwiki\r\n5\r\npedia\r\n0\r\n\r\n";
        let mut d = ChunkedDecoder::new(100);
        for end in 1..input.len() {
            assert_eq!(d.decode(&input[..end]).unwrap(), None, "end {end}");
        }
        assert_eq!(d.decode(input).unwrap(), Some(input.len()));
        assert_eq!(d.take_body(), b"wikipedia");
    }

    #[test]
    fn rejects_bad_sizes() {
        for input in [&b"zz\r\n"[..], b"\r\n", b"11111111111111111\r\n", b"-1\r\n"] {
            assert_eq!(
                decode_all(input, 100).unwrap_err(),
                ParseError::BadChunk("invalid chunk size"),
                "{input:?}"
            );
        }
    }

    #[test]
    fn rejects_missing_crlf_after_data() {
        assert_eq!(
            decode_all(b"2\r\nhiX\r\n", 100).unwrap_err(),
            ParseError::BadChunk("missing CRLF after chunk data")
        );
    }

    #[test]
    fn rejects_overlong_size_lines_before_they_end() {
        let long = vec![b'1'; MAX_LINE + 1];
        assert_eq!(
            decode_all(&long, 100).unwrap_err(),
            ParseError::BadChunk("chunk line too long")
        );
    }

    #[test]
    fn rejects_bodies_over_the_limit_from_the_declared_chunk_size() {
        assert_eq!(
            decode_all(b"5\r\nabcde\r\n6\r\n", 10).unwrap_err(),
            ParseError::BodyTooLarge {
                size: 11,
                limit: 10
            }
        );
    }
}
