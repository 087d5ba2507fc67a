//! The sink side of the connector API: [`SinkConnector`], [`SinkTask`] and
//! [`SinkTaskContext`].
//!
//! # Delivery contract
//!
//! A sink task consumes its topics in the consumer group `connect-<connector name>`. Records
//! of one topic partition arrive in offset order, in batches through [`SinkTask::put`]. The
//! runtime periodically (and when the task asks, [`SinkTaskContext::request_commit`]) calls
//! [`SinkTask::flush`] with the offsets consumed so far and commits to the group only the
//! offsets `flush` returns. After a crash, a rebalance or a failed task, delivery resumes from
//! the committed offsets, so records after them are delivered again: at least once, unless
//! the sink derives its progress from what it wrote (it may then move the consumer with
//! [`SinkTaskContext::reset_offsets`] in `open`, for exactly once).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use sluice_broker::Offset;

use super::record::{SinkRecord, TopicPartition};
use super::{ConnectorTaskId, TaskConfig};
use crate::config::def::ValidationReport;
use crate::config::{ConfigDef, Props};
use crate::error::{Error, Result};

/// Per topic partition, the offset of the next record to consume (Kafka's committed-offset
/// convention: last processed offset + 1).
pub type PartitionOffsets = BTreeMap<TopicPartition, Offset>;

/// A sink connector: declares and validates its configuration and plans its tasks.
#[async_trait]
pub trait SinkConnector: Send + Sync + fmt::Debug {
    /// The connector's declared keys (the runtime adds `topics`, `topics.regex`, converters,
    /// transforms and `errors.*`).
    fn config_def(&self) -> ConfigDef;

    /// Checks `props` without starting anything; the default checks them against
    /// [`SinkConnector::config_def`].
    fn validate(&self, props: &Props) -> ValidationReport {
        self.config_def().validate(props)
    }

    /// Starts the connector and returns one configuration per task, at most `max_tasks`.
    async fn start(&mut self, props: &Props, max_tasks: usize) -> Result<Vec<TaskConfig>>;

    /// A new, unstarted task of this connector.
    fn create_task(&self) -> Box<dyn SinkTask>;

    /// Stops the connector (its tasks are stopped first).
    async fn stop(&mut self) -> Result<()>;
}

/// A running sink task.
///
/// Calls come from one async task, never concurrently: `start`, then `open`/`put`/`flush`/
/// `close` as partitions are assigned and records arrive, then `stop`.
///
/// Cancellation: the runtime does not drop an in-flight `put` or `flush` except when a
/// shutdown deadline passes; the task is then abandoned (never called again) and a new task
/// resumes from the committed offsets.
#[async_trait]
pub trait SinkTask: Send + fmt::Debug {
    async fn start(&mut self, context: Arc<dyn SinkTaskContext>, config: &TaskConfig)
    -> Result<()>;

    /// Partitions newly assigned to this task; records of them follow. A sink that keeps its
    /// own progress moves the consumer here with [`SinkTaskContext::reset_offsets`].
    async fn open(&mut self, partitions: &[TopicPartition]) -> Result<()> {
        let _ = partitions;
        Ok(())
    }

    /// Partitions taken away from this task (after a final `flush` of them); drop their
    /// buffers and open files.
    async fn close(&mut self, partitions: &[TopicPartition]) -> Result<()> {
        let _ = partitions;
        Ok(())
    }

    /// Takes a batch of records, in offset order per partition. The task may buffer them;
    /// nothing is committed until `flush` says so. An error fails the task (after the
    /// runtime's `errors.retry.timeout` retries); report single bad records with
    /// [`SinkTaskContext::report_errant`] instead.
    async fn put(&mut self, records: Vec<SinkRecord>) -> Result<()>;

    /// Makes what was `put` durable as far as possible and returns the offsets that may be
    /// committed: per partition, at most the offset given in `consumed`, and never an offset
    /// whose records are not yet durably written. Returning a partition's previous commit (or
    /// leaving it out) commits nothing new for it.
    async fn flush(&mut self, consumed: &PartitionOffsets) -> Result<PartitionOffsets>;

    /// Stops the task and releases its resources; unflushed records are redelivered to the
    /// next task.
    async fn stop(&mut self) -> Result<()>;
}

/// What the runtime offers a running sink task. Implemented by the worker.
#[async_trait]
pub trait SinkTaskContext: Send + Sync + fmt::Debug {
    fn task_id(&self) -> &ConnectorTaskId;

    /// The partitions currently assigned to this task.
    fn assignment(&self) -> Vec<TopicPartition>;

    /// Stops fetching these partitions until resumed (e.g. while a destination is down).
    fn pause(&self, partitions: &[TopicPartition]);

    fn resume(&self, partitions: &[TopicPartition]);

    /// Asks for a `flush` and commit soon, e.g. after closing a file.
    fn request_commit(&self);

    /// Moves the consumer of these partitions to the given next offsets before further
    /// records are delivered (Kafka's `SinkTaskContext.offset`).
    fn reset_offsets(&self, offsets: PartitionOffsets);

    /// Sends one record that the sink cannot process to the dead-letter topic
    /// (`errors.deadletterqueue.topic.name`) with error context headers, and returns once it
    /// is durable. With `errors.tolerance=all` and no dead-letter topic the record is logged
    /// and skipped; with `errors.tolerance=none` this fails with `error`, failing the task.
    async fn report_errant(&self, record: &SinkRecord, error: Error) -> Result<()>;
}
