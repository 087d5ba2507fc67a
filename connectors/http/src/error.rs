//! The errors of sluice-http, one enum for the crate; each variant keeps its cause.

use std::io;
use std::path::PathBuf;

/// Why one HTTP attempt did not succeed: an answer that was not 2xx, or no answer at all.
#[derive(Debug, thiserror::Error)]
pub enum AttemptFailure {
    /// The receiver answered with a status outside 2xx; `reason` is the start of its body
    /// (or the status' canonical reason when the body is empty).
    #[error("HTTP {status} {reason}")]
    Status { status: u16, reason: String },
    /// No answer: connection refused or reset, TLS failure, or the request timed out.
    #[error("request failed: {source}")]
    Transport {
        #[source]
        source: reqwest::Error,
    },
}

/// Everything that can go wrong in sluice-http.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O operation failed; `context` says what was being done.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },

    /// A configuration value the sink cannot use; `reason` says how to fix it.
    #[error("invalid value {value:?} for configuration \"{key}\": {reason}")]
    InvalidConfig {
        key: String,
        value: String,
        reason: String,
    },

    /// The runtime's configuration checks failed (boxed: the runtime's error is large).
    #[error(transparent)]
    Connect(Box<sluice_connect::Error>),

    /// `http.ssl.ca.file` could not be read.
    #[error("cannot read the CA certificates of http.ssl.ca.file {path:?}: {source}")]
    CaFile {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// `http.ssl.ca.file` holds no usable PEM certificate.
    #[error("http.ssl.ca.file {path:?} holds no valid PEM certificate: {source}")]
    Certificate {
        path: PathBuf,
        #[source]
        source: reqwest::Error,
    },

    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {source}")]
    Client {
        #[source]
        source: reqwest::Error,
    },

    /// A record could not be written as JSON.
    #[error("cannot write the record at {topic}-{partition}@{offset} as JSON: {source}")]
    Serialize {
        topic: String,
        partition: i32,
        offset: i64,
        #[source]
        source: sluice_schemas::Error,
    },

    /// The receiver refused a batch with a status that retrying cannot change (4xx other
    /// than 408 and 429).
    #[error("the receiver rejected batch {key} ({records} records): {source}")]
    Rejected {
        key: String,
        records: usize,
        #[source]
        source: AttemptFailure,
    },

    /// A batch still failed after `retry.max.attempts` attempts.
    #[error(
        "batch {key} failed {attempts} times, the last time with: {source}; the task stops so \
         nothing is skipped (raise retry.max.attempts, -1 retries for ever, and restart it)"
    )]
    RetriesExhausted {
        key: String,
        attempts: u32,
        #[source]
        source: AttemptFailure,
    },

    /// The task already failed (reported once with its cause); it sends nothing more.
    #[error("the HTTP sink stopped sending after batch {key} failed; restart the task")]
    AlreadyFailed { key: String },
}

/// Result alias used throughout sluice-http.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<sluice_connect::Error> for Error {
    fn from(error: sluice_connect::Error) -> Self {
        Error::Connect(Box::new(error))
    }
}

impl From<Error> for sluice_connect::Error {
    fn from(error: Error) -> Self {
        match error {
            Error::Connect(inner) => *inner,
            Error::InvalidConfig { key, value, reason } => {
                sluice_connect::Error::InvalidConfig { key, value, reason }
            }
            other => sluice_connect::Error::Connector {
                context: "http sink".into(),
                source: Box::new(other),
            },
        }
    }
}
