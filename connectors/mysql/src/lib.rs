//! MySQL / MariaDB source: binlog into Debezium change events.
//!
//! # Layout
//!
//! - [`binlog`]: offline decoding of MySQL 8 binlog files — file reader (magic, framing,
//!   CRC32), GTID/ANONYMOUS_GTID, PREVIOUS_GTIDS, QUERY, XID, ROTATE, TABLE_MAP with optional
//!   metadata, WRITE/UPDATE/DELETE/PARTIAL_UPDATE rows v2 with typed cells and binary JSON,
//!   zstd TRANSACTION_PAYLOAD, MySQL GTID sets (text form, add, contains);
//!   [`binlog::decode`] is shared with the live stream.
//! - [`types`]: Debezium's MySQL type mapping — column types from the TABLE_MAP or
//!   information_schema, their Connect schemas, values from binlog cells and snapshot rows,
//!   charsets, partial JSON updates, the type-mapping settings.
//! - [`table`]: per-table mapping — key/row schemas and envelope, whole rows to structs,
//!   `column.include/exclude.list`, `message.key.columns`.
//! - [`connector`]: the `SourceConnector` / `SourceTask` (registered below) — server checks,
//!   where to begin (snapshot, stored offset, current position), batches from the pipeline.
//! - [`pipeline`]: the task's background worker: snapshot, then binlog streaming, into a
//!   bounded channel of record batches; heartbeats.
//! - [`queue`]: that channel, bounded in batches and in bytes (`max.queue.size.in.bytes`).
//! - [`config`]: Debezium's configuration keys and the typed [`config::SourceConfig`].
//! - [`connection`]: connection options (TLS mode, connect timeout).
//! - [`validate`]: start-up checks (binlog format/row image/metadata, privileges, flavour).
//! - [`flavour`]: MySQL vs MariaDB server; the Debezium connector variant (`mysql`/`mariadb`).
//! - [`filters`]: `database.*` / `table.include/exclude.list`.
//! - [`snapshot`]: consistent read view + binlog position, captured tables, catalog columns,
//!   the key-ordered (and resumable) SELECT.
//! - [`snapshot_reader`]: the snapshot as `r` records; resuming an interrupted one.
//! - [`snapshot_output`]: snapshot records into batches, `snapshot` first/last markers.
//! - [`snapshot_rollback`]: the P0 state of rows a resumed snapshot reads at a later
//!   position, from the binlog between the two.
//! - [`stream`]: live binlog client (MariaDB GTID events, event groups, reconnect, resume
//!   by MariaDB GTID position or MySQL GTID set), the executed GTIDs offsets carry, the
//!   events → change records builder and transaction metadata (BEGIN/END, event blocks).
//! - [`tables`]: [`table::TableMapping`]s from a TABLE_MAP or the catalog, with the settings.
//! - [`records`]: change records of a row: envelope, tombstone, key change with headers.
//! - [`source_info`]: the `source` block.
//! - [`offset`]: source partition/offset (file, pos, event, row, gtids) and positions.
//! - [`ddl`]: recognising DDL and the tables it touches.
//! - [`schema_changes`]: DDL into schema-change records on the `<prefix>` topic.
//! - [`history`]: the schema model (catalog at the snapshot, then each DDL applied) and its
//!   internal history topic, replayed on restart; `tableChanges` come from it.
//! - [`truncate`]: TRUNCATE TABLE into truncate events (op `t`).
//! - [`error`]: the crate's error type and `Result` alias.

pub mod binlog;
pub mod config;
pub mod connection;
pub mod connector;
pub mod ddl;
pub mod error;
pub mod filters;
pub mod flavour;
pub mod history;
pub mod offset;
pub mod pipeline;
pub mod queue;
pub mod records;
pub mod schema_changes;
pub mod snapshot;
pub mod snapshot_output;
pub mod snapshot_reader;
pub mod snapshot_rollback;
pub mod source_info;
pub mod stream;
pub mod table;
pub mod tables;
pub mod truncate;
pub mod types;
pub mod validate;

pub use error::{Error, Result};

/// Registers the source under Debezium's class names: `MySqlConnector` (alias `mysql`) and
/// `MariaDbConnector` (alias `mariadb`).
// The signature is the binary's, shared by every connector crate.
#[allow(clippy::result_large_err)]
pub fn register(
    registry: &mut sluice_connect::registry::ConnectorRegistry,
) -> sluice_connect::Result<()> {
    use sluice_connect::registry::classes;
    let version = env!("CARGO_PKG_VERSION");
    registry.register_source(classes::MYSQL, &["mysql"], version, || {
        Box::new(connector::MySqlConnector::new(
            flavour::ConnectorVariant::MySql,
        ))
    })?;
    registry.register_source(classes::MARIADB, &["mariadb"], version, || {
        Box::new(connector::MySqlConnector::new(
            flavour::ConnectorVariant::MariaDb,
        ))
    })
}
