//! The errors of the Connect runtime, one enum for the crate; each variant keeps its cause.

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

    /// A connector configuration is not valid JSON or not a JSON object of strings.
    #[error("malformed connector configuration: {reason}")]
    MalformedConfig {
        reason: String,
        #[source]
        source: Option<serde_json::Error>,
    },

    /// A required configuration key is absent.
    #[error("missing required configuration \"{key}\": {doc}")]
    MissingConfig { key: String, doc: String },

    /// A configuration key holds a value it cannot take.
    #[error("invalid value {value:?} for configuration \"{key}\": {reason}")]
    InvalidConfig {
        key: String,
        value: String,
        reason: String,
    },

    /// The worker configuration (file, environment or flags) cannot be read or parsed.
    #[error("invalid {what}: {source}")]
    InvalidWorkerConfig {
        what: String,
        #[source]
        source: config::ConfigError,
    },

    /// Reading or writing one of the worker's internal topics failed.
    #[error("{context}: {source}")]
    Store {
        context: String,
        #[source]
        source: sluice_broker::Error,
    },

    /// An internal topic holds a record the worker cannot read.
    #[error("internal topic {topic} holds an unreadable record: {record}")]
    CorruptStoreRecord { topic: String, record: String },

    /// A `${provider:...}` reference in a configuration value could not be resolved.
    #[error("cannot resolve {reference} in configuration \"{key}\": {reason}")]
    UnresolvedReference {
        key: String,
        reference: String,
        reason: String,
        #[source]
        source: Option<io::Error>,
    },
}

/// Result alias used throughout sluice-connect.
pub type Result<T, E = Error> = std::result::Result<T, E>;
