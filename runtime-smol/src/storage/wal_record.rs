//! The kinds of record a WAL segment holds, and their postcard encoding inside a checksummed
//! record frame.

use serde::{Deserialize, Serialize};
use synod_core::ids::LogIndex;
use synod_core::raft::{Entry, HardState};
use synod_core::wire::record;

use super::StorageError;

/// One decoded WAL record. Replay applies them in file order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(super) enum WalRecord {
    /// Append this entry, replacing any entry at or after its index.
    Entry(Entry),
    /// Remove every entry with index ≥ this (a follower's conflicting suffix).
    TruncateFrom(LogIndex),
    /// The hard state from here on.
    HardState(HardState),
}

/// The borrowed twin of [`WalRecord`], so writing an entry does not clone it. Variant order must
/// match: postcard encodes the variant by position.
#[derive(Serialize)]
pub(super) enum WalRecordRef<'a> {
    Entry(&'a Entry),
    TruncateFrom(LogIndex),
    HardState(&'a HardState),
}

/// Appends `rec` as one checksummed record to `out`.
pub(super) fn encode(rec: &WalRecordRef<'_>, out: &mut Vec<u8>) -> Result<(), StorageError> {
    let start = record::begin(out);
    let serialized = postcard::to_io(rec, &mut *out);
    if let Err(e) = serialized {
        out.truncate(start);
        return Err(StorageError::Encode(e.to_string()));
    }
    record::finish(out, start)?;
    Ok(())
}

/// Decodes a record payload; trailing bytes are an error, so every payload has one meaning.
pub(super) fn decode(payload: &[u8]) -> Result<WalRecord, postcard::Error> {
    match postcard::take_from_bytes(payload)? {
        (rec, []) => Ok(rec),
        _ => Err(postcard::Error::DeserializeBadEncoding),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use synod_core::ids::{NodeId, Term};
    use synod_core::raft::{EntryPayload, Membership};

    fn round_trip(rec: WalRecordRef<'_>) -> WalRecord {
        let mut buf = Vec::new();
        encode(&rec, &mut buf).unwrap();
        let (payload, consumed) = record::decode_next(&buf).unwrap().unwrap();
        assert_eq!(consumed, buf.len());
        decode(payload).unwrap()
    }

    #[test]
    fn every_kind_round_trips() {
        let entries = [
            EntryPayload::Blank,
            EntryPayload::Command(Bytes::from_static(b"set k v")),
            EntryPayload::Membership(Membership::voters([(NodeId(1), "a:1".to_string())])),
        ]
        .map(|payload| Entry {
            index: LogIndex(7),
            term: Term(3),
            payload,
        });
        for e in &entries {
            assert_eq!(
                round_trip(WalRecordRef::Entry(e)),
                WalRecord::Entry(e.clone())
            );
        }
        assert_eq!(
            round_trip(WalRecordRef::TruncateFrom(LogIndex(5))),
            WalRecord::TruncateFrom(LogIndex(5))
        );
        let hs = HardState {
            term: Term(4),
            vote: Some(NodeId(2)),
            commit: LogIndex(9),
        };
        assert_eq!(
            round_trip(WalRecordRef::HardState(&hs)),
            WalRecord::HardState(hs)
        );
    }

    #[test]
    fn payload_with_trailing_bytes_is_rejected() {
        let mut payload = postcard::to_stdvec(&WalRecordRef::TruncateFrom(LogIndex(5))).unwrap();
        payload.push(0);
        assert!(decode(&payload).is_err());
    }

    #[test]
    fn unknown_kind_is_rejected() {
        assert!(decode(&[9]).is_err());
    }
}
