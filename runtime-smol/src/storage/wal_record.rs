//! The kinds of record a WAL segment holds, and their postcard encoding inside a checksummed
//! record frame.
//!
//! Every payload starts with the segment offset at which its batch (one write, one fdatasync)
//! began. Batch n+1 is only written after batch n's fdatasync returned, so a valid record whose
//! batch began after some damage proves the damaged bytes had been made durable: corruption,
//! not a torn write. Damage followed only by records of its own batch is a torn write, even with
//! holes: the kernel may write back an unsynced batch's pages in any order.

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

/// Appends `rec`, part of the batch that began at `batch_start`, as one checksummed record.
pub(super) fn encode(
    batch_start: u64,
    rec: &WalRecordRef<'_>,
    out: &mut Vec<u8>,
) -> Result<(), StorageError> {
    let start = record::begin(out);
    let serialized = postcard::to_io(&(batch_start, rec), &mut *out);
    if let Err(e) = serialized {
        out.truncate(start);
        return Err(StorageError::Encode(e.to_string()));
    }
    record::finish(out, start)?;
    Ok(())
}

/// Decodes a record payload into its batch start and record; trailing bytes are an error, so
/// every payload has one meaning.
pub(super) fn decode(payload: &[u8]) -> Result<(u64, WalRecord), postcard::Error> {
    match postcard::take_from_bytes(payload)? {
        (framed, []) => Ok(framed),
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
        encode(4096, &rec, &mut buf).unwrap();
        let (payload, consumed) = record::decode_next(&buf).unwrap().unwrap();
        assert_eq!(consumed, buf.len());
        let (batch_start, rec) = decode(payload).unwrap();
        assert_eq!(batch_start, 4096);
        rec
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
        let mut payload =
            postcard::to_stdvec(&(0_u64, WalRecordRef::TruncateFrom(LogIndex(5)))).unwrap();
        payload.push(0);
        assert!(decode(&payload).is_err());
    }

    #[test]
    fn unknown_kind_is_rejected() {
        assert!(decode(&[0, 9]).is_err());
    }
}
