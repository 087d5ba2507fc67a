//! The worker's durable state in compacted internal broker topics.
//!
//! - [`compacted`]: a key → value table mirrored from a compacted topic (the shared mechanism).
//! - [`offsets`]: source offsets per connector and source partition (`__sluice_offsets`).
//! - [`configs`]: connector configurations and target states (`__sluice_configs`).
//! - [`schemas`]: the embedded schema registry's records (`__sluice_schemas`).
//! - [`status`]: connector and task states (`__sluice_status`).

pub mod compacted;
pub mod configs;
pub mod offsets;
pub mod schemas;
pub mod status;

pub use compacted::CompactedTable;
pub use configs::{ConfigStore, TargetState};
pub use offsets::{JsonMap, OffsetStore};
pub use status::{State, Status, StatusStore};
