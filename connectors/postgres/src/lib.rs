//! PostgreSQL source: pgoutput logical replication into Debezium change events.
//!
//! # Layout
//!
//! - [`pgoutput`]: our decoder of the pgoutput logical replication protocol v1 — the
//!   [`pgoutput::Message`] types, [`pgoutput::decode`] over a bounds-checked byte cursor,
//!   tuple data (null / unchanged TOAST / text / binary) and the [`pgoutput::RelationCache`].
//! - [`lsn`]: [`Lsn`], a WAL position that displays and parses as Postgres's `X/Y`.
//! - [`error`]: the crate's error type and `Result` alias.
//!
//! The source connector itself (config, replication connection, snapshot, streaming into
//! change events) arrives later with issue #6, built on these pieces.

pub mod error;
pub mod lsn;
pub mod pgoutput;

pub use error::{Error, Result};
pub use lsn::Lsn;
