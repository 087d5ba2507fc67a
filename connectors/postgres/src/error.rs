//! The errors of sluice-postgres, one enum for the crate; each variant keeps its cause.

use std::io;

use crate::pgoutput::{DecodeError, Oid};

/// Everything that can go wrong in sluice-postgres.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O operation failed; `context` says what was being done.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    /// A pgoutput message could not be decoded.
    #[error("cannot decode a pgoutput logical replication message")]
    Decode(#[from] DecodeError),
    /// Text that should be a WAL position (`X/Y`, two hex numbers) is not one.
    #[error("{text:?} is not a WAL position: expected two hex numbers as `X/Y`, e.g. `0/16B3748`")]
    InvalidLsn { text: String },
    /// A change names a relation whose Relation message was never seen in this session.
    #[error(
        "a change refers to relation oid {oid}, but no Relation message described it; \
         pgoutput sends one before the first change of each relation in a session, so \
         messages were skipped or the relation cache was reset mid-session"
    )]
    UnknownRelation { oid: Oid },
    /// A tuple's column count differs from its relation's latest Relation message.
    #[error(
        "a tuple of relation {relation} (oid {oid}) has {actual} columns, but its Relation \
         message lists {expected}; the relation cache is out of date"
    )]
    TupleShapeMismatch {
        relation: String,
        oid: Oid,
        expected: usize,
        actual: usize,
    },
}

/// Result alias used throughout sluice-postgres.
pub type Result<T, E = Error> = std::result::Result<T, E>;
