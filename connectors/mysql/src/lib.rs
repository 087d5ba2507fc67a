//! MySQL / MariaDB source: binlog into Debezium change events.
//!
//! # Layout
//!
//! - [`binlog`]: offline decoding of MySQL 8 binlog files — file reader (magic, framing,
//!   CRC32), GTID/ANONYMOUS_GTID, PREVIOUS_GTIDS, QUERY, XID, ROTATE, TABLE_MAP with optional
//!   metadata, WRITE/UPDATE/DELETE/PARTIAL_UPDATE rows v2 with typed cells and binary JSON,
//!   zstd TRANSACTION_PAYLOAD. The source connector itself (config, snapshot, stream, schema
//!   history, MariaDB GTIDs) arrives later in issue #7.
//! - [`error`]: the crate's error type and `Result` alias.

pub mod binlog;
pub mod error;

pub use error::{Error, Result};

/// Registers the MySQL / MariaDB source under its `connector.class` names. (Registers nothing until the
/// connector lands; the binary already calls it.)
pub fn register(
    registry: &mut sluice_connect::registry::ConnectorRegistry,
) -> sluice_connect::Result<()> {
    let _ = registry;
    Ok(())
}
