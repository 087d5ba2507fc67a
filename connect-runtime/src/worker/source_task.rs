//! Running one source task: poll → transforms → converters → append to the broker (durable)
//! → store offsets → `SourceTask::commit`, with replayed records dropped by position so a
//! restart — even after `kill -9` — writes nothing twice (DESIGN.md §4).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use parking_lot::Mutex;
use sluice_broker::{Broker, PartitionChoice, PartitionId, Record};
use tokio::sync::{mpsc, watch};

use super::control::{TaskControl, TaskStateCell, error_trace};
use super::dedup::PositionFilter;
use super::pipeline::SourcePipeline;
use crate::api::{
    CommittedOffset, ConnectorTaskId, OffsetMap, SnapshotProgress, SourceRecord, SourceTask,
    SourceTaskContext, TaskConfig,
};
use crate::error::{Error, Result};
use crate::stores::{OffsetStore, State, Status, StatusStore};

/// Snapshot progress reported by tasks, per table, for `/metrics` and `status --watch`.
pub type ProgressBoard = Arc<Mutex<BTreeMap<String, SnapshotProgress>>>;

/// The runtime side of a source task's context.
#[derive(Debug)]
struct Context {
    id: ConnectorTaskId,
    offsets: Arc<OffsetStore>,
    progress: ProgressBoard,
    errors: mpsc::UnboundedSender<Error>,
}

#[async_trait]
impl SourceTaskContext for Context {
    fn task_id(&self) -> &ConnectorTaskId {
        &self.id
    }

    async fn stored_offset(&self, source_partition: &OffsetMap) -> Result<Option<OffsetMap>> {
        self.offsets.get(&self.id.connector, source_partition)
    }

    fn report_progress(&self, progress: SnapshotProgress) {
        self.progress
            .lock()
            .insert(progress.table.clone(), progress);
    }

    fn raise_error(&self, error: Error) {
        let _ = self.errors.send(error);
    }
}

/// Everything a source task run needs from the worker.
#[derive(Debug)]
pub struct SourceTaskRun {
    pub id: ConnectorTaskId,
    pub task: Box<dyn SourceTask>,
    pub config: TaskConfig,
    pub broker: Broker,
    pub offsets: Arc<OffsetStore>,
    pub statuses: Arc<StatusStore>,
    pub worker_id: String,
    pub pipeline: SourcePipeline,
    pub control: watch::Receiver<TaskControl>,
    pub state: TaskStateCell,
    pub progress: ProgressBoard,
    pub offset_flush_interval: Duration,
    /// The connector's offset epoch (see [`OffsetStore::epoch`]).
    pub epoch: u64,
    pub metrics: super::metrics::TaskMetrics,
}

impl SourceTaskRun {
    /// Runs the task until it is stopped or fails; the outcome is in its state cell.
    pub async fn run(mut self) {
        let (errors_tx, mut errors) = mpsc::unbounded_channel();
        let context = Arc::new(Context {
            id: self.id.clone(),
            offsets: self.offsets.clone(),
            progress: self.progress.clone(),
            errors: errors_tx,
        });
        let outcome = match self.task.start(context, &self.config).await {
            Ok(()) => self.poll_loop(&mut errors).await,
            Err(error) => Err(error),
        };
        if let Err(error) = self.task.stop().await {
            tracing::warn!(task = %self.id, %error, "source task did not stop cleanly");
        }
        match outcome {
            Ok(()) => self.publish(State::Unassigned, None).await,
            Err(error) => {
                self.metrics.error();
                tracing::error!(task = %self.id, error = %error_trace(&error), "source task failed");
                self.publish(State::Failed, Some(error_trace(&error))).await;
            }
        }
    }

    async fn poll_loop(&mut self, errors: &mut mpsc::UnboundedReceiver<Error>) -> Result<()> {
        let mut filter = PositionFilter::new(&format!("{}@{}", self.id, self.epoch));
        let mut pending = PendingOffsets::default();
        let mut last_commit = Instant::now();
        loop {
            let control = *self.control.borrow_and_update();
            match control {
                TaskControl::Stop => break,
                TaskControl::Pause => {
                    self.commit(&mut pending).await?;
                    self.publish(State::Paused, None).await;
                    if self.control.changed().await.is_err() {
                        break;
                    }
                    continue;
                }
                TaskControl::Run => {
                    if self.state.get().state != State::Running {
                        self.publish(State::Running, None).await;
                    }
                }
            }
            let polled = tokio::select! {
                polled = self.task.poll() => polled,
                _ = self.control.changed() => continue,
                Some(error) = errors.recv() => Err(error),
            };
            let records = polled?;
            let idle = records.is_empty();
            self.deliver(records, &mut filter, &mut pending).await?;
            if idle || last_commit.elapsed() >= self.offset_flush_interval {
                self.commit(&mut pending).await?;
                last_commit = Instant::now();
            }
        }
        self.commit(&mut pending).await
    }

    /// Appends a polled batch: each target partition's records in poll order, durable
    /// before this returns.
    async fn deliver(
        &mut self,
        records: Vec<SourceRecord>,
        filter: &mut PositionFilter,
        pending: &mut PendingOffsets,
    ) -> Result<()> {
        let mut batches: Vec<((String, PartitionId), Vec<Record>)> = Vec::new();
        let mut newest_positions = Vec::new();
        let newest_event_ms = records.iter().filter_map(|r| r.timestamp_ms).max();
        let (mut delivered, mut delivered_bytes) = (0u64, 0u64);
        for record in records {
            pending.note(&record.source_partition, &record.source_offset);
            let position = record.position.clone();
            let Some(prepared) = self.pipeline.prepare(record, filter.task_header()).await? else {
                continue;
            };
            let partition =
                match prepared.partition {
                    Some(partition) => partition,
                    None => {
                        let topic = self.broker.topic_or_create(&prepared.topic).await.map_err(
                            |source| Error::Store {
                                context: format!("cannot create topic {}", prepared.topic),
                                source,
                            },
                        )?;
                        match &prepared.record.key {
                            Some(key) => sluice_broker::partitioner::partition_for_key(
                                key,
                                topic.partition_count(),
                            ),
                            None => PartitionId(0),
                        }
                    }
                };
            if let Some(position) = &position
                && filter
                    .already_stored(&self.broker, &prepared.topic, partition, position)
                    .await?
            {
                continue;
            }
            delivered += 1;
            delivered_bytes += (prepared.record.key.as_ref().map_or(0, |k| k.len())
                + prepared.record.value.as_ref().map_or(0, |v| v.len()))
                as u64;
            let target = (prepared.topic, partition);
            if let Some(position) = position {
                newest_positions.push((target.clone(), position));
            }
            match batches.iter_mut().find(|(t, _)| *t == target) {
                Some((_, batch)) => batch.push(prepared.record),
                None => batches.push((target, vec![prepared.record])),
            }
        }
        for ((topic, partition), batch) in batches {
            self.broker
                .produce(&topic, PartitionChoice::Explicit(partition), batch)
                .await
                .map_err(|source| Error::Store {
                    context: format!("cannot append to {topic}-{}", partition.0),
                    source,
                })?;
        }
        for ((topic, partition), position) in newest_positions {
            filter.stored(&topic, partition, position);
        }
        if delivered > 0 {
            self.metrics
                .delivered(delivered, delivered_bytes, newest_event_ms);
        }
        Ok(())
    }

    /// Stores the newest offsets of delivered records, then lets the task acknowledge them.
    async fn commit(&mut self, pending: &mut PendingOffsets) -> Result<()> {
        let committed = pending.take();
        if committed.is_empty() {
            return Ok(());
        }
        let writes: Vec<_> = committed
            .iter()
            .map(|c| (c.source_partition.clone(), Some(c.source_offset.clone())))
            .collect();
        self.offsets.put(&self.id.connector, &writes).await?;
        if let Err(error) = self.task.commit(&committed).await {
            tracing::warn!(task = %self.id, %error, "source task could not acknowledge offsets; retried with the next commit");
        }
        Ok(())
    }

    /// Records a state change; the returned future holds no borrow of `self` (the task
    /// object is not `Sync`, so `&self` must not live across an await).
    fn publish(
        &self,
        state: State,
        trace: Option<String>,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        self.state.set(state, trace.clone());
        let status = Status {
            state,
            trace,
            worker_id: self.worker_id.clone(),
            generation: 0,
        };
        let statuses = self.statuses.clone();
        let id = self.id.clone();
        async move {
            if let Err(error) = statuses.put_task(&id.connector, id.task, &status).await {
                tracing::warn!(task = %id, %error, "cannot store task status");
            }
        }
    }
}

/// The newest offset per source partition among delivered records, not yet stored.
#[derive(Debug, Default)]
struct PendingOffsets {
    newest: BTreeMap<String, CommittedOffset>,
}

impl PendingOffsets {
    fn note(&mut self, partition: &OffsetMap, offset: &OffsetMap) {
        let key = serde_json::Value::Object(partition.clone()).to_string();
        self.newest.insert(
            key,
            CommittedOffset {
                source_partition: partition.clone(),
                source_offset: offset.clone(),
            },
        );
    }

    fn take(&mut self) -> Vec<CommittedOffset> {
        std::mem::take(&mut self.newest).into_values().collect()
    }
}
