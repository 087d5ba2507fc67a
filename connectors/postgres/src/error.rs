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
}

/// Result alias used throughout sluice-postgres.
pub type Result<T, E = Error> = std::result::Result<T, E>;
