//! The connector API: what source and sink connectors implement and what the runtime gives
//! them. The traits are object-safe (`Box<dyn SourceTask>`), async through `async-trait`,
//! and each documents its ordering, duplicate and cancellation rules.
//!
//! - [`record`]: source and sink records, Connect headers, source positions.
//! - [`source`]: `SourceConnector`, `SourceTask`, `SourceTaskContext`.
//! - [`sink`]: `SinkConnector`, `SinkTask`, `SinkTaskContext`.

pub mod record;
pub mod sink;
pub mod source;

use std::fmt;

pub use record::{
    ConnectRecord, Header, HeaderValue, Headers, OffsetMap, POSITION_HEADER, SchemaAndValue,
    SinkRecord, SourcePosition, SourceRecord, TopicPartition,
};
pub use sink::{PartitionOffsets, SinkConnector, SinkTask, SinkTaskContext};
pub use source::{
    CommittedOffset, SnapshotPhase, SnapshotProgress, SourceConnector, SourceTask,
    SourceTaskContext,
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
