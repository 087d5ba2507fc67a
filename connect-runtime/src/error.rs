//! The errors of sluice-connect, one enum for the crate; each variant keeps its cause.

use std::io;

/// Everything that can go wrong in sluice-connect.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O operation failed; `context` says what was being done.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
}

/// Result alias used throughout sluice-connect.
pub type Result<T, E = Error> = std::result::Result<T, E>;
