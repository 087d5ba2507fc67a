//! MySQL / MariaDB source: binlog into Debezium change events.
//!
//! # Layout
//!
//! (modules arrive with issue #7: config, binlog decoding, snapshot, stream, schema history)
//! - [`error`]: the crate's error type and `Result` alias.

pub mod error;

pub use error::{Error, Result};
