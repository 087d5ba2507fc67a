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
    /// A type-mapping setting has a value that is not one of the accepted ones.
    #[error("invalid value `{value}` for `{key}`: expected one of {allowed}")]
    InvalidOption {
        key: &'static str,
        value: String,
        allowed: String,
    },
    /// A string column uses a character set the type mapping cannot decode.
    #[error(
        "column {column} uses the character set {charset}, which sluice cannot decode; convert \
         the column to utf8mb4, utf8mb3, latin1, ascii, binary, ucs2, utf16, utf16le or utf32"
    )]
    UnsupportedCharset { column: String, charset: String },
    /// A column's type has no Debezium mapping (or lacks what the mapping needs).
    #[error("column {column} has a type sluice cannot map: {reason}")]
    UnsupportedColumnType { column: String, reason: String },
    /// The schema history topic is gone while an offset says streaming already began.
    #[error(
        "the schema history topic {topic} does not exist, so the table schemas at the stored \
         binlog position are unknown; restart the connector with snapshot.mode=recovery to \
         rebuild the history from the current schemas (correct when no DDL ran since the \
         stored position), or delete the connector's offsets to take a new snapshot"
    )]
    HistoryMissing { topic: String },
    /// A schema history record cannot be read back.
    #[error(
        "a schema history record cannot be read: {reason}; restart with snapshot.mode=recovery \
         after deleting the history topic to rebuild it"
    )]
    HistoryRecord { reason: String },
    /// A value does not fit its column's type.
    #[error("cannot convert a value{}: {reason}", crate::types::column_suffix(.column))]
    BadValue { column: String, reason: String },
    /// A value could not be encoded in its Connect schema (decimal, struct).
    #[error("cannot encode a value{}: {source}", crate::types::column_suffix(.column))]
    ValueEncoding {
        column: String,
        #[source]
        source: sluice_schemas::Error,
    },
    /// A `column.include.list` / `column.exclude.list` entry is not a valid regular expression.
    #[error("invalid regular expression `{pattern}` in `{key}`: {source}")]
    InvalidPattern {
        key: &'static str,
        pattern: String,
        #[source]
        source: regex::Error,
    },
    /// `message.key.columns` does not follow `db.table:col1,col2;db.table2:col`.
    #[error(
        "invalid message.key.columns `{text}`: {reason}; expected `<db>.<table>:<column>[,<column>…]` \
         entries separated by `;`"
    )]
    InvalidMessageKeyColumns { text: String, reason: String },
    /// A table's columns, key or row image do not fit together.
    #[error("table {table}: {reason}")]
    TableMapping { table: String, reason: String },
    /// The connector configuration is invalid (the runtime's error names the key).
    #[error(transparent)]
    Config(Box<sluice_connect::Error>),
    /// A statement or connection to the server failed; `context` says what was being done.
    #[error("{context}: {source}")]
    Database {
        context: String,
        #[source]
        source: mysql_async::Error,
    },
    /// A server setting CDC depends on has the wrong value.
    #[error(
        "the server has {variable}={found} but change data capture needs {variable}={needed}; \
         set it in the server configuration ([mysqld] {variable}={needed}) or with \
         SET GLOBAL {variable}='{needed}' and restart the connector"
    )]
    ServerSetting {
        variable: &'static str,
        found: String,
        needed: &'static str,
    },
    /// The connector's account lacks privileges.
    #[error(
        "the account {user} lacks the privilege(s) {missing}; grant them with \
         GRANT {missing} ON *.* TO {user}"
    )]
    MissingPrivileges { user: String, missing: String },
    /// The stored binlog position is no longer on the server.
    #[error(
        "the binlog position {position} the connector stopped at was purged from the server \
         (its oldest binlog is {oldest}); changes in between are lost to the connector: \
         set snapshot.mode=when_needed to take a new snapshot, or reset the connector's \
         offsets (DELETE /connectors/<name>/offsets while STOPPED)"
    )]
    BinlogPurged { position: String, oldest: String },
    /// A stored offset cannot be read.
    #[error(
        "the stored offset {offset} is not a MySQL connector offset: {reason}; reset it with \
         DELETE /connectors/<name>/offsets while the connector is STOPPED"
    )]
    InvalidOffset { offset: String, reason: String },
    /// A MariaDB-specific event could not be decoded.
    #[error("cannot decode binlog event at {position}: {source}")]
    MariaDbEvent {
        position: String,
        #[source]
        source: crate::stream::mariadb::TruncatedEvent,
    },
    /// A change event could not be built from a row.
    #[error("cannot build the change event of {table}: {source}")]
    Schema {
        table: String,
        #[source]
        source: sluice_schemas::Error,
    },
    /// The binlog stream ended with an error the connector cannot recover from.
    #[error("binlog stream from {position}: {source}")]
    Stream {
        position: String,
        #[source]
        source: Box<Error>,
    },
}

impl Error {
    /// Wraps a configuration error of the runtime.
    pub fn config(error: sluice_connect::Error) -> Self {
        Self::Config(Box::new(error))
    }
}

impl From<Error> for sluice_connect::Error {
    fn from(error: Error) -> Self {
        match error {
            Error::Config(inner) => *inner,
            other => sluice_connect::Error::Connector {
                context: "MySQL source".into(),
                source: Box::new(other),
            },
        }
    }
}

/// Result alias used throughout sluice-mysql.
pub type Result<T, E = Error> = std::result::Result<T, E>;
