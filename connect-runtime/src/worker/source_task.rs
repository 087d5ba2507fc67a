//! Running one source task as two halves joined by a queue bounded in bytes: this task polls
//! the connector and runs transforms and converters; the appender (`source_append`) drops
//! replays by position, appends durably, stores offsets and hands them back here for
//! `SourceTask::commit`. Polling the next batch overlaps with appending (and fsyncing) the
//! last, and a slow broker slows the source instead of growing memory. A restart — even
//! after `kill -9` — writes nothing twice (DESIGN.md §4).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use parking_lot::Mutex;
use sluice_broker::Broker;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinHandle;

use super::control::{TaskControl, TaskStateCell, error_trace, publish_task_state};
use super::dedup::PositionFilter;
use super::pipeline::SourcePipeline;
use super::source_append::{Appender, Batch, record_bytes};
use crate::api::{
    CommittedOffset, ConnectorTaskId, OffsetMap, SnapshotProgress, SourceRecord, SourceTask,
    SourceTaskContext, TaskConfig, TopicRecord,
};
use crate::error::{Error, Result};
use crate::stores::{OffsetStore, State, StatusStore};

/// Snapshot progress reported by tasks, per table, for `/metrics` and `status --watch`.
pub type ProgressBoard = Arc<Mutex<BTreeMap<String, SnapshotProgress>>>;

/// The runtime side of a source task's context.
#[derive(Debug)]
struct Context {
    id: ConnectorTaskId,
    offsets: Arc<OffsetStore>,
    progress: ProgressBoard,
    errors: mpsc::UnboundedSender<Error>,
    broker: Broker,
    converters: crate::converter::RecordConverters,
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

    async fn read_topic(
        &self,
        topic: &str,
        partition: i32,
        from: i64,
    ) -> Result<Option<Vec<TopicRecord>>> {
        super::topic_reader::read_partition(&self.broker, &self.converters, topic, partition, from)
            .await
    }

    async fn ensure_history_topic(&self, topic: &str) -> Result<()> {
        super::topic_reader::ensure_history_topic(&self.broker, topic).await
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
    /// Bound, in bytes, of converted records waiting to be appended.
    pub queue_max_bytes: u64,
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
            broker: self.broker.clone(),
            converters: self.pipeline.converters().clone(),
        });
        let outcome = match self.task.start(context, &self.config).await {
            Ok(()) => self.pump(&mut errors).await,
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

    /// Runs the appender beside the poll loop; on stop, lets it drain the queue and commit.
    async fn pump(&mut self, errors: &mut mpsc::UnboundedReceiver<Error>) -> Result<()> {
        let capacity = self.queue_max_bytes.clamp(1024, u64::from(u32::MAX >> 3)) as u32;
        let queue_bytes = Arc::new(Semaphore::new(capacity as usize));
        let (batches, queued) = mpsc::channel::<Batch>(1024);
        let (acks_tx, mut acks) = mpsc::unbounded_channel();
        let appender = Appender {
            id: self.id.clone(),
            broker: self.broker.clone(),
            offsets: self.offsets.clone(),
            filter: PositionFilter::new(&format!("{}@{}", self.id, self.epoch)),
            metrics: self.metrics.clone(),
            offset_flush_interval: self.offset_flush_interval,
        };
        let mut appending = Some(tokio::spawn(appender.run(queued, acks_tx)));
        let polled = self
            .poll_loop(
                &batches,
                &queue_bytes,
                capacity,
                &mut acks,
                &mut appending,
                errors,
            )
            .await;
        drop(batches);
        let appended = match appending.take() {
            Some(handle) => joined(handle.await),
            None => Ok(()),
        };
        self.acknowledge(&mut acks).await;
        polled.and(appended)
    }

    async fn poll_loop(
        &mut self,
        batches: &mpsc::Sender<Batch>,
        queue_bytes: &Arc<Semaphore>,
        capacity: u32,
        acks: &mut mpsc::UnboundedReceiver<Vec<CommittedOffset>>,
        appending: &mut Option<JoinHandle<Result<()>>>,
        errors: &mut mpsc::UnboundedReceiver<Error>,
    ) -> Result<()> {
        loop {
            self.acknowledge(acks).await;
            let control = *self.control.borrow_and_update();
            match control {
                TaskControl::Stop => return Ok(()),
                TaskControl::Pause => {
                    self.publish(State::Paused, None).await;
                    if self.control.changed().await.is_err() {
                        return Ok(());
                    }
                    continue;
                }
                TaskControl::Run => {
                    if self.state.get().state != State::Running {
                        self.publish(State::Running, None).await;
                    }
                }
            }
            let Some(handle) = appending.as_mut() else {
                return Ok(());
            };
            let polled = tokio::select! {
                polled = self.task.poll() => polled,
                _ = self.control.changed() => continue,
                Some(error) = errors.recv() => Err(error),
                finished = handle => {
                    appending.take();
                    return joined(finished).and(Err(appender_gone()));
                }
            };
            let records = polled?;
            if records.is_empty() {
                continue;
            }
            let batch = self.convert(records).await?;
            let bytes: usize = batch
                .records
                .iter()
                .map(|(r, _)| record_bytes(&r.record))
                .sum();
            let wanted = u32::try_from(bytes).unwrap_or(u32::MAX).clamp(1, capacity);
            let Some(handle) = appending.as_mut() else {
                return Ok(());
            };
            let permit = tokio::select! {
                permit = queue_bytes.clone().acquire_many_owned(wanted) => permit.ok(),
                finished = handle => {
                    appending.take();
                    return joined(finished).and(Err(appender_gone()));
                }
            };
            if batches.send(Batch { permit, ..batch }).await.is_err() {
                return Err(appender_gone());
            }
        }
    }

    /// Runs transforms and converters over a polled batch; a record that fails them is
    /// skipped with `errors.tolerance=all` and fails the task otherwise.
    async fn convert(&mut self, records: Vec<SourceRecord>) -> Result<Batch> {
        let offsets = newest_offsets(&records);
        let newest_event_ms = records.iter().filter_map(|r| r.timestamp_ms).max();
        let task_header = bytes::Bytes::from(format!("{}@{}", self.id, self.epoch));
        let (id, metrics) = (&self.id, &self.metrics);
        let prepared = self
            .pipeline
            .prepare_batch(records, &task_header, |error| {
                metrics.error();
                tracing::warn!(task = %id, error = %error_trace(error), "skipping a record that failed its transforms or conversion (errors.tolerance=all)");
            })
            .await?;
        Ok(Batch {
            records: prepared,
            offsets,
            newest_event_ms,
            permit: None,
            bytes: 0,
        })
    }

    /// Lets the task acknowledge every offset the appender stored so far.
    async fn acknowledge(&mut self, acks: &mut mpsc::UnboundedReceiver<Vec<CommittedOffset>>) {
        while let Ok(committed) = acks.try_recv() {
            if let Err(error) = self.task.commit(&committed).await {
                tracing::warn!(task = %self.id, %error, "source task could not acknowledge offsets; retried with the next commit");
            }
        }
    }
    /// Records a state change; the returned future holds no borrow of `self` (the task
    /// object is not `Sync`, so `&self` must not live across an await).
    fn publish(
        &self,
        state: State,
        trace: Option<String>,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        publish_task_state(
            &self.state,
            &self.statuses,
            &self.id,
            &self.worker_id,
            state,
            trace,
        )
    }
}

/// The newest offset of each source partition among `records` (also of records a transform
/// will drop, which are done with all the same). Scanning from the end finds each partition's
/// newest offset first, so only one offset per partition is copied, not one per record.
///
/// A record with an empty offset map carries no offset (a source may leave it to a later
/// record of the same event, as Kafka Connect treats a null offset): it never replaces a
/// stored one. Storing it would leave a restart with nothing to resume from.
fn newest_offsets(records: &[SourceRecord]) -> Vec<CommittedOffset> {
    let mut newest: Vec<CommittedOffset> = Vec::new();
    for record in records.iter().rev() {
        if record.source_offset.is_empty() {
            continue;
        }
        if !newest
            .iter()
            .any(|seen| seen.source_partition == record.source_partition)
        {
            newest.push(CommittedOffset {
                source_partition: record.source_partition.clone(),
                source_offset: record.source_offset.clone(),
            });
        }
    }
    newest.reverse();
    newest
}

fn joined(finished: std::result::Result<Result<()>, tokio::task::JoinError>) -> Result<()> {
    finished.map_err(|source| Error::Connector {
        context: "the appender of a source task panicked".into(),
        source: Box::new(source),
    })?
}

fn appender_gone() -> Error {
    Error::WrongConnectorState("the appender of a source task stopped unexpectedly".into())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::{SchemaAndValue, SharedOffsetMap};

    fn record(partition: &str, offset: serde_json::Value) -> SourceRecord {
        SourceRecord::new(
            json!({ "p": partition }).as_object().cloned().unwrap(),
            offset.as_object().cloned().unwrap(),
            "t",
            SchemaAndValue::null(),
            SchemaAndValue::null(),
        )
    }

    #[test]
    fn the_newest_non_empty_offset_of_each_partition_is_kept() {
        let records = [
            record("a", json!({"n": 1})),
            record("b", json!({"n": 2})),
            record("a", json!({"n": 3})),
            record("a", json!({})),
            record("b", json!({})),
        ];
        let newest = newest_offsets(&records);
        let summary: Vec<(serde_json::Value, serde_json::Value)> = newest
            .iter()
            .map(|c| {
                (
                    c.source_partition["p"].clone(),
                    c.source_offset["n"].clone(),
                )
            })
            .collect();
        assert_eq!(summary, [(json!("b"), json!(2)), (json!("a"), json!(3))]);
        assert!(newest_offsets(&[record("a", json!({}))]).is_empty());
    }

    /// The committed offset is the record's own maps, shared (no copy per batch), and
    /// serializes exactly as the map the source built.
    #[test]
    fn committed_offsets_share_the_records_maps() {
        let template = SharedOffsetMap::from(json!({"server": "s"}).as_object().cloned().unwrap());
        let built = json!({"lsn": 7, "txId": 2}).as_object().cloned().unwrap();
        let mut last = record("s", json!({}));
        last.source_partition = template.clone();
        last.source_offset = built.clone().into();
        let mut first = last.clone();
        first.source_offset = SharedOffsetMap::empty();
        let newest = newest_offsets(&[first, last.clone()]);
        assert_eq!(newest.len(), 1);
        assert!(newest[0].source_partition.shares_with(&template));
        assert!(newest[0].source_offset.shares_with(&last.source_offset));
        assert_eq!(
            serde_json::to_vec(&newest[0].source_offset).unwrap(),
            serde_json::to_vec(&serde_json::Value::Object(built)).unwrap()
        );
    }
}
