//! The errors of sluice-mysql, one enum for the crate; each variant keeps its cause.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong in sluice-mysql.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O operation failed; `context` says what was being done.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    /// The file does not start with the binlog magic bytes `fe 62 69 6e`.
    #[error(
        "{path} is not a MySQL binlog file: it starts with {found:02x?} instead of the magic \
         bytes fe 62 69 6e; point the reader at a binlog file (e.g. mysql-bin.000001)"
    )]
    NotABinlog { path: PathBuf, found: Vec<u8> },
    /// An event could not be decoded; `context` names the event and its position.
    #[error("cannot decode binlog event ({context}): {source}")]
    Decode {
        context: String,
        #[source]
        source: io::Error,
    },
    /// A rows event refers to a table id no TABLE_MAP event announced before it.
    #[error(
        "rows event at {position} refers to table id {table_id} but no TABLE_MAP event for it \
         was read before; start reading at a transaction boundary (a GTID event)"
    )]
    MissingTableMap { table_id: u64, position: String },
}

/// Result alias used throughout sluice-mysql.
pub type Result<T, E = Error> = std::result::Result<T, E>;
