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
//!   row/key structs from a row's cells (converted in a [`table::RowBuffer`] the snapshot and
//!   the stream keep between rows, so each struct is one allocation).
//! - [`connector`]: [`connector::PostgresConnector`], registered by [`register`].
//! - [`config`]: Debezium's configuration keys ([`config::config_def`]) and the typed
//!   [`config::PostgresConfig`].
//! - [`connection`]: query connections and the session settings shared with the stream.
//! - [`tls`]: `database.sslmode` / `database.sslrootcert` for both connections (a rustls
//!   connector for tokio-postgres, the replication client's TLS settings).
//! - [`validate`]: start-up checks of the server (wal_level, privileges, slots, REPLICA
//!   IDENTITY, missing tables, publication), each error saying how to fix the server.
//! - [`tables`]: the schema/table filters and the discovery of captured tables.
//! - [`catalog`]: a table's columns, nullability and key from the catalog.
//! - [`publication`], [`slot`]: publication autocreation; slot lookup, creation with an
//!   exported snapshot, dropping.
//! - [`plan`]: where a starting task begins (snapshot mode × stored offset × slot).
//! - [`task`]: [`task::PostgresTask`] — start, poll, commit, stop — and its background reader.
//! - [`snapshot`]: the consistent initial snapshot streamed with COPY; [`copy_text`] finds
//!   and parses COPY's text rows; [`snapshot_rows`] turns one table's rows into records.
//! - [`stream`]: the replication session: pgoutput → change events, confirmations, heartbeats,
//!   reconnection.
//! - [`events`]: change events, tombstones, transaction and heartbeat records.
//! - [`messages`]: logical decoding messages as op `m` records on `<prefix>.message`.
//! - [`mapping`]: builds table mappings from the catalog or Relation messages.
//! - [`offsets`]: source offsets and record positions; [`ack`]: what may be confirmed to the
//!   slot; [`queue`]: the bounded (records and bytes) queue between the reader and `poll`.
//! - [`error`]: the crate's error type and `Result` alias.
pub mod ack;
pub mod catalog;
pub mod config;
pub mod connection;
pub mod connector;
pub mod copy_text;
pub mod error;
pub mod events;
pub mod lsn;
pub mod mapping;
pub mod messages;
pub mod offsets;
pub mod pgoutput;
pub mod plan;
pub mod publication;
pub mod queue;
pub mod slot;
pub mod snapshot;
pub mod snapshot_rows;
pub mod stream;
pub mod table;
pub mod tables;
pub mod task;
pub mod tls;
pub mod types;
pub mod validate;

pub use error::{Error, Result};

/// Registers the PostgreSQL source under Debezium's class name and the short names
/// `postgres` / `postgresql`. (The binary fixes the signature, so the runtime's large error
/// type stays.)
#[allow(clippy::result_large_err)]
pub fn register(
    registry: &mut sluice_connect::registry::ConnectorRegistry,
) -> sluice_connect::Result<()> {
    registry.register_source(
        connector::CLASS,
        connector::ALIASES,
        env!("CARGO_PKG_VERSION"),
        || Box::new(connector::PostgresConnector),
    )
}
pub use lsn::Lsn;
