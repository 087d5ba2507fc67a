//! PostgreSQL source: pgoutput logical replication into Debezium change events.
//!
//! # Layout
//!
//! (modules arrive with issue #6: config, pgoutput decoder, snapshot, stream)
//! - [`error`]: the crate's error type and `Result` alias.

pub mod error;

pub use error::{Error, Result};
