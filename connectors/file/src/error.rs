//! The errors of sluice-file, one enum for the crate; each variant keeps its cause.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong in sluice-file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O operation failed; `context` says what was being done.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },

    /// A configuration value is wrong; `reason` says how to fix it.
    #[error("invalid value {value:?} for configuration {key}: {reason}")]
    Config {
        key: &'static str,
        value: String,
        reason: String,
    },

    /// The runtime's configuration checks refused a value (declared type, range, choice).
    #[error("{source}")]
    Declared {
        #[source]
        source: Box<sluice_connect::Error>,
    },

    /// A record cannot be written in the configured format or mode.
    #[error("record {topic}-{partition}@{offset} cannot be written: {reason}")]
    Unwritable {
        topic: String,
        partition: i32,
        offset: i64,
        reason: String,
    },

    /// The Parquet writer failed.
    #[error("parquet file {path}: {source}")]
    Parquet {
        path: PathBuf,
        #[source]
        source: parquet::errors::ParquetError,
    },

    /// Arrow refused a batch or a column (a mapping bug or a value out of range).
    #[error("arrow batch for {path}: {source}")]
    Arrow {
        path: PathBuf,
        #[source]
        source: arrow::error::ArrowError,
    },

    /// The Avro library rejected a schema or failed to compress a block.
    #[error("avro file {path}: {source}")]
    Avro {
        path: PathBuf,
        #[source]
        source: Box<apache_avro::Error>,
    },
}

impl Error {
    /// An [`Error::Io`] with what was being done and to which path.
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}

impl From<Error> for sluice_connect::Error {
    fn from(error: Error) -> Self {
        if let Error::Declared { source } = error {
            return *source;
        }
        sluice_connect::Error::Connector {
            context: "file sink".into(),
            source: Box::new(error),
        }
    }
}

/// Result alias used throughout sluice-file.
pub type Result<T, E = Error> = std::result::Result<T, E>;
