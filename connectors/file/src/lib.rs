//! Data-warehouse file sink: JSON lines, Avro and Parquet files, changelog and upsert modes.
//!
//! # Layout
//!
//! (modules arrive with issue #8: config, writers, commit protocol)
//! - [`error`]: the crate's error type and `Result` alias.

pub mod error;

pub use error::{Error, Result};
