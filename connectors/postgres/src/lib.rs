//! PostgreSQL source: pgoutput logical replication into Debezium change events.
//!
//! # Layout
//!
//! - [`pgoutput`]: our decoder of the pgoutput logical replication protocol v1 — the
//!   [`pgoutput::Message`] types, [`pgoutput::decode`] over a bounds-checked byte cursor,
//!   tuple data (null / unchanged TOAST / text / binary) and the [`pgoutput::RelationCache`].
//! - [`lsn`]: [`Lsn`], a WAL position that displays and parses as Postgres's `X/Y`.
//! - [`types`]: Postgres data types → Debezium Connect schemas and values (type catalog,
//!   text-format decoding, `decimal.handling.mode` & co., column filter, message key columns).
//! - [`table`]: [`table::TableMapping`], one captured table's Key/Value/Envelope schemas and
//!   row/key structs from a row's cells.
//! - [`error`]: the crate's error type and `Result` alias.
//!
//! The source connector itself (config, replication connection, snapshot, streaming into
//! change events) arrives later with issue #6, built on these pieces.

pub mod error;
pub mod lsn;
pub mod pgoutput;
pub mod table;
pub mod types;

pub use error::{Error, Result};

/// Registers the PostgreSQL source under its `connector.class` names. (Registers nothing until the
/// connector lands; the binary already calls it.)
#[allow(clippy::result_large_err)] // the runtime's error type, shared by every connector
pub fn register(
    registry: &mut sluice_connect::registry::ConnectorRegistry,
) -> sluice_connect::Result<()> {
    let _ = registry;
    Ok(())
}
pub use lsn::Lsn;
