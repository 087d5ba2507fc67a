//! Connectors built into the runtime itself.
//!
//! - [`sequence`]: a deterministic source of numbered records, for demos, benchmarks and
//!   the exactly-once tests (like Kafka's datagen, but reproducible).

pub mod sequence;

use crate::error::Result;
use crate::registry::ConnectorRegistry;

/// Registers the built-in connectors.
pub fn register(registry: &mut ConnectorRegistry) -> Result<()> {
    registry.register_source(
        sequence::CLASS,
        &["sequence"],
        env!("CARGO_PKG_VERSION"),
        || Box::new(sequence::SequenceSource),
    )
}
