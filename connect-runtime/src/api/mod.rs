//! The connector API: what source and sink connectors implement and what the runtime gives
//! them. The traits are object-safe (`Box<dyn SourceTask>`), async through `async-trait`,
//! and each documents its ordering, duplicate and cancellation rules.
//!
//! - [`record`]: source and sink records, Connect headers.
//! - [`offset_map`]: source partitions and offsets, shared copy-on-write ([`SharedOffsetMap`]).
//! - [`position`]: the totally ordered [`SourcePosition`] of a source record (inline bytes).
//! - [`source`]: `SourceConnector`, `SourceTask`, `SourceTaskContext`.
//! - [`sink`]: `SinkConnector`, `SinkTask`, `SinkTaskContext`.
//!
//! A source task in brief: read the stored offset in `start`, return records with strictly
//! increasing positions from `poll`, acknowledge the source only in `commit`.
//!
//! ```
//! use std::sync::Arc;
//! use async_trait::async_trait;
//! use sluice_connect::api::*;
//! use sluice_connect::Result;
//! use sluice_schemas::schema::INT64_SCHEMA;
//!
//! #[derive(Debug, Default)]
//! struct Ticks { next: u64 }
//!
//! fn map(value: serde_json::Value) -> OffsetMap {
//!     value.as_object().cloned().unwrap_or_default()
//! }
//!
//! #[async_trait]
//! impl SourceTask for Ticks {
//!     async fn start(&mut self, context: Arc<dyn SourceTaskContext>, _config: &TaskConfig) -> Result<()> {
//!         let stored = context.stored_offset(&map(serde_json::json!({"clock": "main"}))).await?;
//!         self.next = stored.and_then(|o| o["tick"].as_u64()).map_or(0, |t| t + 1);
//!         Ok(())
//!     }
//!     async fn poll(&mut self) -> Result<Vec<SourceRecord>> {
//!         let tick = self.next;
//!         self.next += 1; // nothing is awaited after taking the tick: cancellation-safe
//!         let record = SourceRecord::new(
//!             map(serde_json::json!({"clock": "main"})),
//!             map(serde_json::json!({"tick": tick})),
//!             "ticks",
//!             SchemaAndValue::null(),
//!             SchemaAndValue::with_schema(INT64_SCHEMA.clone(), tick as i64),
//!         )
//!         .with_position(SourcePosition::from_parts(&[tick]));
//!         Ok(vec![record])
//!     }
//!     async fn commit(&mut self, _committed: &[CommittedOffset]) -> Result<()> {
//!         Ok(()) // a database source would confirm its LSN / purge its buffer here
//!     }
//!     async fn stop(&mut self) -> Result<()> {
//!         Ok(())
//!     }
//! }
//!
//! let tasks: Vec<Box<dyn SourceTask>> = vec![Box::new(Ticks::default())];
//! assert_eq!(tasks.len(), 1);
//! ```

pub mod offset_map;
pub mod position;
pub mod record;
pub mod sink;
pub mod source;

use std::fmt;

pub use record::{
    ConnectRecord, Header, HeaderValue, Headers, OffsetMap, POSITION_HEADER, SchemaAndValue,
    SharedOffsetMap, SinkRecord, SourcePosition, SourceRecord, TopicPartition,
};
pub use sink::{PartitionOffsets, SinkConnector, SinkTask, SinkTaskContext};
pub use source::{
    CommittedOffset, SnapshotPhase, SnapshotProgress, SourceConnector, SourceTask,
    SourceTaskContext, TopicRecord,
};

/// The configuration of one task, as its connector planned it (string properties).
pub type TaskConfig = crate::config::Props;

/// Which way a connector moves data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectorKind {
    Source,
    Sink,
}

impl ConnectorKind {
    /// `source` or `sink`, as the REST API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Source => "source",
            Self::Sink => "sink",
        }
    }
}

impl fmt::Display for ConnectorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A task's identity: its connector and its number (`0..tasks.max`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnectorTaskId {
    pub connector: String,
    pub task: u32,
}

impl ConnectorTaskId {
    pub fn new(connector: impl Into<String>, task: u32) -> Self {
        Self {
            connector: connector.into(),
            task,
        }
    }
}

impl fmt::Display for ConnectorTaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.connector, self.task)
    }
}
