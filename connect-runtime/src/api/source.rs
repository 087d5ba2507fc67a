//! The source side of the connector API: [`SourceConnector`] (configuration and task
//! planning), [`SourceTask`] (reads the source and returns records) and
//! [`SourceTaskContext`] (what the runtime offers a running task).
//!
//! # Reading a topic back
//!
//! A task that keeps its own log in a topic (a database source's schema history) makes sure
//! the topic exists with [`SourceTaskContext::ensure_history_topic`] (one partition, never
//! deleted by retention or compaction), writes to it with ordinary [`SourceRecord`]s (so the
//! records become durable before the offsets that follow them are stored), and reads it back
//! at start with [`SourceTaskContext::read_topic`], decoded by the task's own key/value
//! converters, each record with the [`SourcePosition`] it was written with.
//!
//! # Delivery contract
//!
//! The runtime appends each polled batch to the broker in poll order (per target partition),
//! waits until it is durable, records the newest `source_offset` per `source_partition` in
//! the offset store, and only then calls [`SourceTask::commit`] with those offsets. A task
//! therefore acknowledges its source (confirm an LSN to a slot, purge a buffer) only in
//! `commit`, never in `poll`.
//!
//! After a crash the task is restarted from the stored offsets and may return records it
//! returned before. The runtime drops every replayed record whose [`SourcePosition`] is not
//! newer than the newest one already stored in its target partition, so nothing is written
//! twice — provided positions strictly increase (see [`SourcePosition`]).
//!
//! [`SourcePosition`]: super::SourcePosition

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use super::record::{OffsetMap, SchemaAndValue, SharedOffsetMap, SourcePosition, SourceRecord};
use super::{ConnectorTaskId, TaskConfig};
use crate::config::def::ValidationReport;
use crate::config::{ConfigDef, Props};
use crate::error::{Error, Result};

/// A source connector: declares and validates its configuration and splits the work into
/// task configurations. It does not read data itself; its tasks do.
#[async_trait]
pub trait SourceConnector: Send + Sync + fmt::Debug {
    /// The connector's declared keys (for validation and `PUT …/config/validate`).
    fn config_def(&self) -> ConfigDef;

    /// Checks `props` without starting anything; the default checks them against
    /// [`SourceConnector::config_def`]. Connectors add cross-key checks here.
    fn validate(&self, props: &Props) -> ValidationReport {
        self.config_def().validate(props)
    }

    /// Starts the connector with its (secret-resolved) configuration and returns one
    /// configuration per task to run, at most `max_tasks` (`tasks.max`) and at least one.
    async fn start(&mut self, props: &Props, max_tasks: usize) -> Result<Vec<TaskConfig>>;

    /// A new, unstarted task of this connector.
    fn create_task(&self) -> Box<dyn SourceTask>;

    /// Stops the connector (its tasks are stopped first). Called at most once after `start`.
    async fn stop(&mut self) -> Result<()>;
}

/// A running source task.
///
/// The runtime calls the methods of one task from one async task, never concurrently (they
/// take `&mut self`): `start`, then any number of `poll` and `commit`, then `stop`.
#[async_trait]
pub trait SourceTask: Send + fmt::Debug {
    /// Prepares the task: connects, reads its stored offsets through `context`
    /// ([`SourceTaskContext::stored_offset`]) and decides where to resume.
    async fn start(
        &mut self,
        context: Arc<dyn SourceTaskContext>,
        config: &TaskConfig,
    ) -> Result<()>;

    /// The next records, in source order. May wait for data, but should return (possibly an
    /// empty batch) within about a second so the runtime can commit and react to pause or
    /// stop; an empty batch means "nothing yet", not "finished".
    ///
    /// Ordering: records are written in the order returned; positions (when given) must
    /// strictly increase across all batches of this task.
    ///
    /// Cancellation: the runtime drops an in-flight `poll` future to pause or stop the task.
    /// `poll` must be cancellation-safe: a record it had taken from its source when dropped
    /// must be returned by a later `poll` (keep partial batches in `self`, receive from
    /// cancel-safe channels), because a paused task is resumed without a restart.
    async fn poll(&mut self) -> Result<Vec<SourceRecord>>;

    /// Called after records are durable with the newest stored offset of each source partition
    /// they came from. Everything at or before these offsets will never be asked for again, so
    /// the task may acknowledge it to the source. Offsets arrive in increasing order; a
    /// failure here is logged and retried with the next commit, it does not fail the task.
    async fn commit(&mut self, committed: &[CommittedOffset]) -> Result<()>;

    /// Stops the task and releases its resources. Called once, also after a failed `start`
    /// or `poll`; the runtime has already committed what was durable.
    async fn stop(&mut self) -> Result<()>;
}

/// The stored offset of one source partition (the maps of the record it came from, shared).
#[derive(Debug, Clone, PartialEq)]
pub struct CommittedOffset {
    pub source_partition: SharedOffsetMap,
    pub source_offset: SharedOffsetMap,
}

/// How far the snapshot of one table has got, for `/metrics` and
/// `sluice connectors status --watch`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotProgress {
    /// The table as the connector names it (`inventory.customers`).
    pub table: String,
    pub rows_done: u64,
    /// The row count estimate the database gave (`None` when unknown).
    pub rows_estimated: Option<u64>,
    pub phase: SnapshotPhase,
}

/// Whether a table's snapshot is still running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotPhase {
    Running,
    Done,
}

/// One record read back with [`SourceTaskContext::read_topic`]: key and value decoded by
/// the task's converters, as Kafka Connect's `toConnectData` gives them.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicRecord {
    /// The record's offset in its partition.
    pub offset: i64,
    pub key: SchemaAndValue,
    pub value: SchemaAndValue,
    /// The [`SourcePosition`] the record was written with, if it had one.
    pub position: Option<SourcePosition>,
    pub timestamp_ms: i64,
}

/// What the runtime offers a running source task. Implemented by the worker; cheap to call.
#[async_trait]
pub trait SourceTaskContext: Send + Sync + fmt::Debug {
    /// The task's identity (connector name and task number).
    fn task_id(&self) -> &ConnectorTaskId;

    /// The stored offset of `source_partition`, or `None` when nothing was ever committed
    /// (or the offsets were reset through the REST API).
    async fn stored_offset(&self, source_partition: &OffsetMap) -> Result<Option<OffsetMap>>;

    /// Records snapshot progress of one table; the newest report per table wins.
    fn report_progress(&self, progress: SnapshotProgress);

    /// Fails the task from outside `poll` (e.g. a background reader died): the runtime stops
    /// the task and reports it FAILED with `error` as its trace.
    fn raise_error(&self, error: Error);

    /// Every record of `topic` partition `partition` from offset `from` (or the first record
    /// still held, when that is later) up to the partition's end when the call began, in
    /// offset order, decoded by the task's key and value converters. `Ok(None)` when the topic
    /// does not exist. Meant for reading a task's own history at start: it reads everything
    /// into memory.
    async fn read_topic(
        &self,
        topic: &str,
        partition: i32,
        from: i64,
    ) -> Result<Option<Vec<TopicRecord>>>;

    /// Makes sure `topic` exists as a history must be kept: one partition, `cleanup.policy`
    /// `delete` with unlimited `retention.ms` and `retention.bytes`, so no record is ever
    /// removed (compaction would keep one record per key; a history needs all of them).
    /// Creates it so when missing; an existing topic with more partitions or a limit that
    /// would remove records is an error naming the setting.
    async fn ensure_history_topic(&self, topic: &str) -> Result<()>;
}
