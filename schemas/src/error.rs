//! The errors of sluice-schemas, one enum for the crate; each variant keeps its cause.

use std::io;

/// Everything that can go wrong in sluice-schemas.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O operation failed; `context` says what was being done.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },

    /// A schema definition is inconsistent (duplicate field, default of the wrong type, …).
    #[error("invalid schema{}: {reason}", name.as_deref().map(|n| format!(" `{n}`")).unwrap_or_default())]
    InvalidSchema {
        name: Option<String>,
        reason: String,
    },

    /// A value does not fit its schema; `path` names the field (e.g. `after.price`).
    #[error("value for `{path}` does not match its schema: expected {expected}, found {found}")]
    ValueMismatch {
        path: String,
        expected: String,
        found: String,
    },

    /// A struct has no field of that name.
    #[error("struct `{schema}` has no field `{field}`; its fields are: {known}")]
    NoSuchField {
        schema: String,
        field: String,
        known: String,
    },

    /// A required struct field was left null.
    #[error("required field `{path}` is null; set it or make its schema optional")]
    MissingRequired { path: String },

    /// A decimal could not be encoded or decoded.
    #[error("invalid decimal `{text}`: {reason}")]
    InvalidDecimal { text: String, reason: String },

    /// A date/time value is out of range or malformed.
    #[error("invalid temporal value `{text}`: {reason}")]
    InvalidTemporal { text: String, reason: String },

    /// A converter setting has a value that cannot be used.
    #[error("converter setting `{key}` = `{value}` is invalid: {reason}")]
    InvalidConfig {
        key: String,
        value: String,
        reason: String,
    },

    /// JSON bytes could not be parsed; `offset` is the byte position of the problem.
    #[error("malformed JSON at byte {offset}: {reason}")]
    MalformedJson { offset: usize, reason: String },

    /// Parsed JSON does not have the shape the converter needs.
    #[error("JSON does not match the Kafka Connect layout at `{path}`: {reason}")]
    JsonShape { path: String, reason: String },

    /// Base64 text in a JSON payload could not be decoded.
    #[error("invalid base64 at `{path}`")]
    Base64 {
        path: String,
        #[source]
        source: base64::DecodeError,
    },

    // --- schema registry and Avro (modules `registry`, `avro`) ---
    /// The registry has no subject of that name.
    #[error("Subject '{subject}' not found.")]
    SubjectNotFound { subject: String },

    /// The subject exists but has no such version.
    #[error("Version {version} not found for subject '{subject}'.")]
    VersionNotFound { subject: String, version: String },

    /// No schema matches the id or text that was asked for.
    #[error("Schema not found: {what}")]
    SchemaNotFound { what: String },

    /// A version string is neither a positive integer nor `latest`.
    #[error(
        "The specified version '{value}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\""
    )]
    InvalidVersion { value: String },

    /// A soft delete was asked for a subject that is already soft-deleted.
    #[error("Subject '{subject}' was soft deleted. Set permanent=true to delete permanently")]
    SubjectSoftDeleted { subject: String },

    /// A permanent delete was asked for a subject or version that was not soft-deleted first.
    #[error(
        "Subject '{subject}'{} was not deleted first before being permanently deleted",
        version.as_deref().map(|v| format!(" version {v}")).unwrap_or_default()
    )]
    NotSoftDeleted {
        subject: String,
        version: Option<String>,
    },

    /// The subject has no compatibility level of its own (ask with `defaultToGlobal=true`).
    #[error("Subject '{subject}' does not have subject-level compatibility configured")]
    SubjectCompatibilityNotConfigured { subject: String },

    /// A new schema breaks the subject's compatibility rule; each problem names a field and both types.
    #[error("Schema being registered is incompatible with an earlier schema for subject '{subject}' ({level}): {}. Keep the change compatible, or relax the subject's rule with PUT /config/{subject} {{\"compatibility\": \"NONE\"}}", problems.join("; "))]
    IncompatibleSchema {
        subject: String,
        level: String,
        problems: Vec<String>,
    },

    /// Schema text is not a valid Avro schema (or not a supported schema type).
    #[error("Invalid schema: {reason}")]
    InvalidAvroSchema {
        reason: String,
        #[source]
        source: Option<apache_avro::Error>,
    },

    /// A compatibility level name is not one of NONE, BACKWARD, FORWARD, FULL (+ `_TRANSITIVE`).
    #[error(
        "Invalid compatibility level `{value}`; valid values are NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE"
    )]
    InvalidCompatibilityLevel { value: String },

    /// A record of the registry's durable log could not be read back.
    #[error("schema registry store `{location}` is corrupt at record {record}: {reason}")]
    CorruptRegistryStore {
        location: String,
        record: usize,
        reason: String,
    },

    /// A registry request body or stored record is not the JSON the registry expects.
    #[error("{context}: {source}")]
    RegistryJson {
        context: String,
        #[source]
        source: serde_json::Error,
    },

    /// An HTTP request to a remote schema registry failed before an answer arrived.
    #[error("schema registry request {method} {url} failed: {source}")]
    RegistryHttp {
        method: &'static str,
        url: String,
        #[source]
        source: reqwest::Error,
    },

    /// `schema.registry.url` cannot be used as a registry address.
    #[error("schema.registry.url `{url}` is invalid: {reason}")]
    InvalidRegistryUrl { url: String, reason: String },

    /// A remote schema registry answered with an error body.
    #[error(
        "schema registry {method} {url} answered HTTP {status} (error_code {error_code}): {message}"
    )]
    RegistryResponse {
        method: &'static str,
        url: String,
        status: u16,
        error_code: i64,
        message: String,
    },

    /// Avro-encoded bytes could not be decoded; `offset` is the byte position of the problem.
    #[error("malformed Avro data at byte {offset}: {reason}")]
    MalformedAvro { offset: usize, reason: String },
}

/// Result alias used throughout sluice-schemas.
pub type Result<T, E = Error> = std::result::Result<T, E>;
