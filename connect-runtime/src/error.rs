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

    /// No connector of that name exists on this worker.
    #[error("connector {0} not found")]
    UnknownConnector(String),

    /// A connector of that name exists already.
    #[error("connector {0} already exists; update it with PUT /connectors/{0}/config")]
    ConnectorExists(String),

    /// The connector has no task with that id.
    #[error("connector {connector} has no task {task}")]
    UnknownTask { connector: String, task: u32 },

    /// An operation needs the connector in another state (e.g. offsets change only when STOPPED).
    #[error("{0}")]
    WrongConnectorState(String),

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

    /// `connector.class` names no registered connector.
    #[error("unknown connector class {class:?}; known connectors: {known}")]
    UnknownConnectorClass { class: String, known: String },

    /// Two plugins were registered under the same name.
    #[error("connector name {name:?} is already registered by {registered_by}")]
    DuplicateConnectorClass { name: String, registered_by: String },

    /// A record could not be converted to or from bytes for a topic.
    #[error("cannot convert the {part} of a record of topic {topic:?}: {source}")]
    Conversion {
        topic: String,
        /// `key` or `value`.
        part: &'static str,
        /// Boxed: the schemas error is large and this enum is returned everywhere.
        #[source]
        source: Box<sluice_schemas::Error>,
    },

    /// A transform failed on a record; `alias` is its name in `transforms=…`.
    #[error("transform {alias:?} failed: {reason}")]
    Transform {
        alias: String,
        reason: String,
        #[source]
        source: Option<Box<sluice_schemas::Error>>,
    },

    /// A connector failed; `context` says what it was doing.
    #[error("{context}: {source}")]
    Connector {
        context: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// A sink task reported a record it cannot process while `errors.tolerance=none`.
    #[error(
        "the sink task rejected the record at {topic}-{partition} offset {offset} \
         (set errors.tolerance=all to skip such records): {source}"
    )]
    RejectedRecord {
        topic: String,
        partition: i32,
        offset: i64,
        /// Shared: the task is handed the error and the runtime fails the task with it.
        #[source]
        source: std::sync::Arc<Error>,
    },

    /// A sink task's consumer group could not be joined or committed to.
    #[error("{context}: {source}")]
    Group {
        context: String,
        #[source]
        source: sluice_broker::Error,
    },

    /// A converter's settings (`key.converter.*` / `value.converter.*`) are invalid.
    #[error("invalid converter settings under \"{prefix}\": {source}")]
    InvalidConverterConfig {
        prefix: String,
        #[source]
        source: Box<sluice_schemas::Error>,
    },
}

/// Result alias used throughout sluice-connect.
pub type Result<T, E = Error> = std::result::Result<T, E>;
