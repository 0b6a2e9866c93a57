//! Checksummed records of the write-ahead log (pure encode/decode).
