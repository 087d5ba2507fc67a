//! MySQL / MariaDB source: binlog into Debezium change events.
//!
//! # Layout
//!
//! - [`binlog`]: offline decoding of MySQL 8 binlog files — file reader (magic, framing,
//!   CRC32), GTID/ANONYMOUS_GTID, PREVIOUS_GTIDS, QUERY, XID, ROTATE, TABLE_MAP with optional
//!   metadata, WRITE/UPDATE/DELETE/PARTIAL_UPDATE rows v2 with typed cells and binary JSON,
//!   zstd TRANSACTION_PAYLOAD. The source connector itself (config, snapshot, stream, schema
//!   history, MariaDB GTIDs) arrives later in issue #7.
//! - [`types`]: Debezium's MySQL type mapping — column types from the TABLE_MAP or
//!   information_schema, their Connect schemas, values from binlog cells and snapshot rows,
//!   charsets, partial JSON updates, the type-mapping settings.
//! - [`table`]: per-table mapping — key/row schemas and envelope, whole rows to structs,
//!   `column.include/exclude.list`, `message.key.columns`.
//! - [`error`]: the crate's error type and `Result` alias.

pub mod binlog;
pub mod error;
pub mod table;
pub mod types;

pub use error::{Error, Result};

/// Registers the MySQL / MariaDB source under its `connector.class` names. (Registers nothing until the
/// connector lands; the binary already calls it.)
#[allow(clippy::result_large_err)] // the runtime's error type, shared by every connector
pub fn register(
    registry: &mut sluice_connect::registry::ConnectorRegistry,
) -> sluice_connect::Result<()> {
    let _ = registry;
    Ok(())
}
