//! Newtypes for every identifier and counter, so a term is never passed where an index belongs.

use core::fmt;
use serde::{Deserialize, Serialize};

macro_rules! id_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Copy, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub struct $name(pub u64);

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

id_newtype!(
    /// A server's identity in Raft and in the wire protocol.
    NodeId
);
id_newtype!(
    /// A Raft term.
    Term
);
id_newtype!(
    /// A position in the Raft log (1-based; 0 means "before the first entry").
    LogIndex
);
id_newtype!(
    /// A driver-chosen handle for one client request, echoed in its response.
    RequestId
);
id_newtype!(
    /// Names one persist action; the driver reports it back when the write is durable.
    IoToken
);
id_newtype!(
    /// Names one read-index request inside Raft.
    ReadId
);

impl LogIndex {
    /// The index after this one.
    pub fn next(self) -> LogIndex {
        LogIndex(self.0 + 1)
    }
    /// The index before this one (saturating at 0).
    pub fn prev(self) -> LogIndex {
        LogIndex(self.0.saturating_sub(1))
    }
}

impl Term {
    /// The term after this one.
    pub fn next(self) -> Term {
        Term(self.0 + 1)
    }
}
