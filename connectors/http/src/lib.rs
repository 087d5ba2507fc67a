//! HTTP sink: batched delivery with retries, idempotency keys and a dead-letter topic.
//!
//! # Layout
//!
//! (modules arrive with issue #9: config, batching, retry policy, client)
//! - [`error`]: the crate's error type and `Result` alias.

pub mod error;

pub use error::{Error, Result};

/// Registers the HTTP sink under its `connector.class` names. (Registers nothing until the
/// connector lands; the binary already calls it.)
pub fn register(
    registry: &mut sluice_connect::registry::ConnectorRegistry,
) -> sluice_connect::Result<()> {
    let _ = registry;
    Ok(())
}
