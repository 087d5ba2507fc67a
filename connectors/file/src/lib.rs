//! Data-warehouse file sink: JSON lines, Avro and Parquet files, changelog and upsert modes.
//!
//! # Layout
//!
//! (modules arrive with issue #8: config, writers, commit protocol)
//! - [`error`]: the crate's error type and `Result` alias.

pub mod error;

pub use error::{Error, Result};

/// Registers the file sink under its `connector.class` names. (Registers nothing until the
/// connector lands; the binary already calls it.)
pub fn register(
    registry: &mut sluice_connect::registry::ConnectorRegistry,
) -> sluice_connect::Result<()> {
    let _ = registry;
    Ok(())
}
