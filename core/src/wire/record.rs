//! Checksummed records of the write-ahead log (pure encode/decode).
//!
//! Layout of one record: `[len u32 LE][crc u32 LE][payload; len bytes]`, where `crc` is CRC-32C
//! over the four length bytes followed by the payload. Covering the length means a flipped bit in
//! it is caught by the checksum instead of silently re-framing everything after it.
//!
//! A decoder reading a file must tell a **torn tail** (the last write was cut short by a crash;
//! dropping it loses nothing that was acknowledged) from **corruption** (a record that was once
//! durable is now damaged; dropping it would lose committed data). The rule used here: a record
//! that is incomplete or fails its checksum is a torn tail only if no valid record starts anywhere
//! after it in the buffer. Anything that does — valid data following the damage — is corruption.
//! A false "corruption" (a payload that happens to embed a well-formed record) makes recovery
//! refuse to start rather than drop data, which is the safe direction.

use core::fmt;

/// Bytes of the `[len][crc]` header before every payload.
pub const HEADER_LEN: usize = 8;

/// Largest payload accepted. Larger length fields are treated as damage, not as a request to
/// read gigabytes.
pub const MAX_PAYLOAD_LEN: usize = 64 << 20;

/// Why a record could not be encoded or decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordError {
    /// The buffer ends with an incomplete or damaged record and nothing valid after it: the
    /// remains of a write interrupted by a crash.
    TornTail,
    /// A damaged record followed by valid data: something that was written is now corrupt.
    Corrupt(Corruption),
    /// A payload longer than [`MAX_PAYLOAD_LEN`] was given to the encoder.
    PayloadTooLarge {
        /// Its length.
        len: usize,
    },
}

/// What is wrong with a corrupt record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Corruption {
    /// The stored checksum does not match the length and payload.
    ChecksumMismatch,
    /// The length field exceeds [`MAX_PAYLOAD_LEN`] or runs past the end of the buffer.
    BadLength,
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Corruption::ChecksumMismatch => f.write_str("checksum mismatch"),
            Corruption::BadLength => f.write_str("record length out of range"),
        }
    }
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::TornTail => f.write_str("torn record at end of data"),
            RecordError::Corrupt(c) => c.fmt(f),
            RecordError::PayloadTooLarge { len } => {
                write!(f, "record payload of {len} bytes exceeds {MAX_PAYLOAD_LEN}")
            }
        }
    }
}

impl std::error::Error for RecordError {}

/// Appends one record carrying `payload` to `out`.
pub fn encode(payload: &[u8], out: &mut Vec<u8>) -> Result<(), RecordError> {
    let start = begin(out);
    out.extend_from_slice(payload);
    finish(out, start)
}

/// Reserves a header in `out` so a payload can be serialized straight after it, without an
/// intermediate buffer. Returns the record's start; pass it to [`finish`].
pub fn begin(out: &mut Vec<u8>) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0; HEADER_LEN]);
    start
}

/// Fills in the header reserved by [`begin`] at `start`, covering everything appended since.
/// On error the partial record is removed from `out`.
pub fn finish(out: &mut Vec<u8>, start: usize) -> Result<(), RecordError> {
    let payload_len = out.len() - start - HEADER_LEN;
    let len = match u32::try_from(payload_len) {
        Ok(len) if payload_len <= MAX_PAYLOAD_LEN => len,
        _ => {
            out.truncate(start);
            return Err(RecordError::PayloadTooLarge { len: payload_len });
        }
    };
    let len_bytes = len.to_le_bytes();
    let crc = checksum(len_bytes, &out[start + HEADER_LEN..]);
    out[start..start + 4].copy_from_slice(&len_bytes);
    out[start + 4..start + HEADER_LEN].copy_from_slice(&crc.to_le_bytes());
    Ok(())
}

/// Decodes the record at the start of `buf`.
///
/// `Ok(None)`: `buf` is empty. `Ok(Some((payload, consumed)))`: a valid record spanning
/// `consumed` bytes. `Err(TornTail)`: the rest of `buf` is an interrupted write.
/// `Err(Corrupt(_))`: the record is damaged but valid data follows it.
pub fn decode_next(buf: &[u8]) -> Result<Option<(&[u8], usize)>, RecordError> {
    if buf.is_empty() {
        return Ok(None);
    }
    match check(buf) {
        Ok(found) => Ok(Some(found)),
        Err(damage) if valid_record_after(buf) => Err(RecordError::Corrupt(damage)),
        Err(_) => Err(RecordError::TornTail),
    }
}

/// The record at the start of `buf` if it is complete and its checksum holds, without judging
/// what a failure would mean. For callers that scan past damage with their own knowledge of
/// what the records say (the WAL uses it to tell which write a record belongs to).
pub fn decode_valid(buf: &[u8]) -> Option<(&[u8], usize)> {
    check(buf).ok()
}

/// The fuzz target body: decoding arbitrary bytes never panics, and every record decoded
/// re-encodes to exactly the bytes it was decoded from.
pub fn fuzz_records(data: &[u8]) {
    let mut offset = 0;
    while let Ok(Some((payload, consumed))) = decode_next(&data[offset..]) {
        assert!(consumed >= HEADER_LEN && consumed <= data.len() - offset);
        assert_eq!(decode_valid(&data[offset..]), Some((payload, consumed)));
        let mut reencoded = Vec::with_capacity(consumed);
        assert!(encode(payload, &mut reencoded).is_ok());
        assert_eq!(reencoded, &data[offset..offset + consumed]);
        offset += consumed;
    }
}

/// Validates the record at the start of `buf` without deciding torn versus corrupt.
fn check(buf: &[u8]) -> Result<(&[u8], usize), Corruption> {
    let Some((header, rest)) = buf.split_first_chunk::<HEADER_LEN>() else {
        return Err(Corruption::BadLength);
    };
    let len_bytes = [header[0], header[1], header[2], header[3]];
    let stored_crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    let len = u32::from_le_bytes(len_bytes) as usize;
    if len > MAX_PAYLOAD_LEN || len > rest.len() {
        return Err(Corruption::BadLength);
    }
    let payload = &rest[..len];
    if checksum(len_bytes, payload) != stored_crc {
        return Err(Corruption::ChecksumMismatch);
    }
    Ok((payload, HEADER_LEN + len))
}

/// Whether a valid record starts at any offset after the first byte of `buf`.
fn valid_record_after(buf: &[u8]) -> bool {
    // Every valid header holds a non-zero byte (a non-zero length, or the CRC of an empty
    // record, which is not zero), so no record starts in a trailing run of zeros such as a
    // preallocated file's unused end: don't try those offsets.
    let end = buf.iter().rposition(|&b| b != 0).map_or(0, |last| last + 1);
    (1..end).any(|offset| check(&buf[offset..]).is_ok())
}

fn checksum(len_bytes: [u8; 4], payload: &[u8]) -> u32 {
    crc32c::crc32c_append(crc32c::crc32c(&len_bytes), payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn encoded(payloads: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for p in payloads {
            encode(p, &mut out).unwrap();
        }
        out
    }

    /// Where decoding stopped early, and why.
    type Stop = (usize, RecordError);

    fn decode_all(buf: &[u8]) -> (Vec<Vec<u8>>, Result<(), Stop>) {
        let mut offset = 0;
        let mut payloads = Vec::new();
        loop {
            match decode_next(&buf[offset..]) {
                Ok(None) => return (payloads, Ok(())),
                Ok(Some((payload, consumed))) => {
                    payloads.push(payload.to_vec());
                    offset += consumed;
                }
                Err(e) => return (payloads, Err((offset, e))),
            }
        }
    }

    #[test]
    fn empty_buffer_has_no_record() {
        assert_eq!(decode_next(&[]), Ok(None));
    }

    #[test]
    fn record_round_trips_with_documented_layout() {
        let buf = encoded(&[b"hello"]);
        assert_eq!(buf.len(), HEADER_LEN + 5);
        assert_eq!(&buf[..4], &5u32.to_le_bytes());
        let crc = crc32c::crc32c_append(crc32c::crc32c(&5u32.to_le_bytes()), b"hello");
        assert_eq!(&buf[4..8], &crc.to_le_bytes());
        assert_eq!(decode_next(&buf), Ok(Some((&b"hello"[..], buf.len()))));
    }

    #[test]
    fn every_valid_header_holds_a_non_zero_byte() {
        // `valid_record_after` relies on this to skip zero runs.
        assert_ne!(checksum([0; 4], &[]), 0);
    }

    #[test]
    fn empty_payload_is_a_valid_record() {
        let buf = encoded(&[b""]);
        assert_eq!(decode_next(&buf), Ok(Some((&b""[..], HEADER_LEN))));
    }

    #[test]
    fn begin_finish_matches_encode() {
        let mut out = vec![1, 2, 3];
        let start = begin(&mut out);
        out.extend_from_slice(b"payload");
        finish(&mut out, start).unwrap();
        let mut expected = vec![1, 2, 3];
        encode(b"payload", &mut expected).unwrap();
        assert_eq!(out, expected);
    }

    #[test]
    fn oversized_payload_is_rejected_and_removed() {
        let mut out = vec![9];
        let start = begin(&mut out);
        out.resize(out.len() + MAX_PAYLOAD_LEN + 1, 0);
        assert_eq!(
            finish(&mut out, start),
            Err(RecordError::PayloadTooLarge {
                len: MAX_PAYLOAD_LEN + 1
            })
        );
        assert_eq!(out, vec![9]);
    }

    #[test]
    fn truncated_last_record_is_torn_at_every_cut() {
        let buf = encoded(&[b"first", b"second record"]);
        let second = HEADER_LEN + 5;
        for cut in second + 1..buf.len() {
            let (payloads, end) = decode_all(&buf[..cut]);
            assert_eq!(payloads, vec![b"first".to_vec()]);
            assert_eq!(end, Err((second, RecordError::TornTail)), "cut at {cut}");
        }
    }

    #[test]
    fn zero_filled_tail_is_torn() {
        let mut buf = encoded(&[b"first"]);
        let end = buf.len();
        buf.resize(end + 4096, 0);
        let (payloads, result) = decode_all(&buf);
        assert_eq!(payloads, vec![b"first".to_vec()]);
        assert_eq!(result, Err((end, RecordError::TornTail)));
    }

    #[test]
    fn bit_flip_in_middle_record_is_corruption() {
        let mut buf = encoded(&[b"first", b"second", b"third"]);
        let second = HEADER_LEN + 5;
        buf[second + HEADER_LEN + 2] ^= 0x10;
        let (payloads, result) = decode_all(&buf);
        assert_eq!(payloads, vec![b"first".to_vec()]);
        assert_eq!(
            result,
            Err((second, RecordError::Corrupt(Corruption::ChecksumMismatch)))
        );
    }

    #[test]
    fn bit_flip_in_middle_length_is_corruption() {
        let mut buf = encoded(&[b"first", b"second", b"third"]);
        let second = HEADER_LEN + 5;
        buf[second + 3] ^= 0x80;
        let (_, result) = decode_all(&buf);
        assert_eq!(
            result,
            Err((second, RecordError::Corrupt(Corruption::BadLength)))
        );
    }

    #[test]
    fn bit_flip_in_last_record_is_torn() {
        let mut buf = encoded(&[b"first", b"second"]);
        let last = buf.len() - 1;
        buf[last] ^= 0x01;
        let (payloads, result) = decode_all(&buf);
        assert_eq!(payloads, vec![b"first".to_vec()]);
        assert_eq!(result, Err((HEADER_LEN + 5, RecordError::TornTail)));
    }

    #[test]
    fn error_messages_name_the_problem() {
        assert_eq!(
            RecordError::Corrupt(Corruption::ChecksumMismatch).to_string(),
            "checksum mismatch"
        );
        assert_eq!(
            RecordError::TornTail.to_string(),
            "torn record at end of data"
        );
    }

    proptest! {
        #[test]
        fn records_round_trip(payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..20)) {
            let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
            let buf = encoded(&refs);
            let (decoded, end) = decode_all(&buf);
            prop_assert_eq!(decoded, payloads);
            prop_assert_eq!(end, Ok(()));
        }

        #[test]
        fn any_cut_keeps_every_complete_record(
            payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..100), 1..10),
            cut_seed in any::<usize>(),
        ) {
            let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
            let buf = encoded(&refs);
            let cut = cut_seed % (buf.len() + 1);
            let complete = payloads
                .iter()
                .scan(0, |end, p| { *end += HEADER_LEN + p.len(); Some(*end) })
                .take_while(|end| *end <= cut)
                .count();
            let (decoded, _) = decode_all(&buf[..cut]);
            prop_assert_eq!(decoded.len(), complete);
            prop_assert_eq!(&decoded[..], &payloads[..complete]);
        }

        #[test]
        fn arbitrary_bytes_never_panic_and_reencode_exactly(data in prop::collection::vec(any::<u8>(), 0..512)) {
            fuzz_records(&data);
        }
    }
}
