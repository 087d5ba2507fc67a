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
    /// A type-mapping setting (`decimal.handling.mode`, `time.precision.mode`, …) has a value
    /// Sluice does not accept.
    #[error("connector setting `{key}` = `{value}` is invalid: {reason}")]
    InvalidTypeOption {
        key: String,
        value: String,
        reason: String,
    },
    /// A value in Postgres's text output format could not be read as its column type.
    #[error("cannot read {text:?} as a Postgres `{type_name}` value: {reason}")]
    InvalidColumnValue {
        type_name: String,
        text: String,
        reason: String,
    },
    /// A value decoded through sluice-schemas (decimal or temporal encodings, schema checks)
    /// was refused; `context` says which value.
    #[error("{context}")]
    Schema {
        context: String,
        #[source]
        source: sluice_schemas::Error,
    },
    /// Reading the server's type catalog (pg_type, pg_enum) failed.
    #[error("cannot read the Postgres type catalog ({context})")]
    TypeCatalog {
        context: String,
        #[source]
        source: tokio_postgres::Error,
    },
    /// A `column.include.list` / `column.exclude.list` entry is not a valid regular expression.
    #[error("connector setting `{key}` has an invalid regular expression {pattern:?}")]
    InvalidColumnPattern {
        key: String,
        pattern: String,
        #[source]
        source: regex::Error,
    },
    /// `message.key.columns` cannot be parsed or names a column the table does not have.
    #[error("connector setting `message.key.columns` = {text:?} is invalid: {reason}")]
    InvalidMessageKeyColumns { text: String, reason: String },
    /// A row handed to a table mapping has a different number of cells than the table has
    /// columns.
    #[error("table {table} has {expected} columns, but a row with {actual} values was given")]
    RowShapeMismatch {
        table: String,
        expected: usize,
        actual: usize,
    },
    /// One column's value of a row could not be converted; the cause says why.
    #[error("cannot convert column {column} of table {table}")]
    ColumnConversion {
        table: String,
        column: String,
        #[source]
        source: Box<Error>,
    },
    /// A captured table could not be found in the catalog.
    #[error(
        "table {table} does not exist or has no columns the connector's user can see; check \
         table.include.list and the user's privileges"
    )]
    TableNotFound { table: String },
    /// A query or connection on the ordinary (non-replication) connection failed.
    #[error("{context}: {}", postgres_reason(source))]
    Postgres {
        context: String,
        #[source]
        source: tokio_postgres::Error,
    },
    /// The replication-protocol connection failed.
    #[error("{context}: {source}")]
    Replication {
        context: String,
        #[source]
        source: pgwire_replication::PgWireError,
    },
    /// A TLS connection could not be set up as `database.sslmode` asks; `fix` names the
    /// setting (or server option) to change.
    #[error(
        "{context}: the TLS connection (database.sslmode={mode}) failed: {reason}. To fix: {fix}"
    )]
    Tls {
        context: String,
        mode: crate::tls::SslMode,
        reason: String,
        fix: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The `database.sslrootcert` file cannot serve as the CA list.
    #[error("connector setting database.sslrootcert = {path:?} cannot be used: {problem}")]
    TlsRootCert {
        path: std::path::PathBuf,
        problem: String,
        #[source]
        source: Option<rustls::pki_types::pem::Error>,
    },
    /// The TLS client could not be configured.
    #[error("cannot set up TLS: {problem}")]
    TlsSetup {
        problem: String,
        #[source]
        source: rustls::Error,
    },
    /// The server is not set up for logical replication the way the connector needs; `fix`
    /// says what to change on the server.
    #[error("{problem}. To fix: {fix}")]
    ServerSetup { problem: String, fix: String },
    /// A captured table cannot be turned into change events (unsupported shape, bad data).
    #[error("table {table}: {reason}")]
    Table { table: String, reason: String },
    /// A row of `COPY … TO STDOUT` text is malformed.
    #[error("malformed COPY row of table {table}: {reason}")]
    CopyFormat { table: String, reason: String },
    /// The connector configuration is not valid (boxed: the runtime's error is large).
    #[error(transparent)]
    Config(Box<sluice_connect::Error>),
    /// The task is stopping: the queue to `poll` is gone.
    #[error("the connector task is stopping")]
    Stopped,
    /// The type mapping or the runtime rejected a change event.
    #[error("cannot build the change event of {table}: {source}")]
    Event {
        table: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// The server's own message (with its detail and hint) when there is one, else the
/// client's description: tokio-postgres prints only "db error" for server errors.
fn postgres_reason(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => {
            let mut text = format!("{}: {}", db.severity(), db.message());
            if let Some(detail) = db.detail() {
                text.push_str(&format!(" ({detail})"));
            }
            if let Some(hint) = db.hint() {
                text.push_str(&format!("; hint: {hint}"));
            }
            text
        }
        None => match std::error::Error::source(error) {
            Some(cause) => format!("{error}: {cause}"),
            None => error.to_string(),
        },
    }
}

impl Error {
    /// A failed query or connection, with what was being done.
    pub fn postgres(context: impl Into<String>, source: tokio_postgres::Error) -> Self {
        Self::Postgres {
            context: context.into(),
            source,
        }
    }

    /// Whether retrying after a pause may succeed: the server went away or restarts,
    /// the network dropped. Configuration and permission problems are not retried.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Postgres { source, .. } => match source.as_db_error() {
                // 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now,
                // 08xxx connection exceptions, 55006 object in use (slot still active).
                Some(db) => {
                    let code = db.code().code();
                    code.starts_with("57P") || code.starts_with("08") || code == "55006"
                }
                None => source.is_closed() || std::error::Error::source(source).is_some(),
            },
            Self::Replication { source, .. } => {
                use pgwire_replication::PgWireError as E;
                match source {
                    E::Io(_) | E::Task(_) => true,
                    E::Server(message) => ["SQLSTATE 57P", "SQLSTATE 08", "SQLSTATE 55006"]
                        .iter()
                        .any(|code| message.contains(code)),
                    _ => false,
                }
            }
            _ => false,
        }
    }
}

impl From<sluice_connect::Error> for Error {
    fn from(error: sluice_connect::Error) -> Self {
        Self::Config(Box::new(error))
    }
}

impl From<Error> for sluice_connect::Error {
    fn from(error: Error) -> Self {
        if let Error::Config(config) = error {
            return *config;
        }
        sluice_connect::Error::Connector {
            context: "postgres source".into(),
            source: Box::new(error),
        }
    }
}

/// Result alias used throughout sluice-postgres.
pub type Result<T, E = Error> = std::result::Result<T, E>;
