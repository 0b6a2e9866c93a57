//! Durable storage under -data-dir: WAL segments, hard state, snapshots.
