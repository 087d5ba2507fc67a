//! The appending half of a source task: takes converted batches from the bounded queue,
//! drops replays by position, appends each target partition's records (durable before it
//! goes on), stores the newest source offsets, and hands them back for `SourceTask::commit`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use sluice_broker::{Broker, PartitionChoice, PartitionId, Record};
use tokio::sync::{OwnedSemaphorePermit, mpsc};

use super::dedup::PositionFilter;
use super::metrics::TaskMetrics;
use super::pipeline::PreparedRecord;
use crate::api::{CommittedOffset, ConnectorTaskId, SharedOffsetMap, SourcePosition};
use crate::error::{Error, Result};
use crate::stores::OffsetStore;

/// Converted records of one poll, with the offsets they carry and their queue bytes.
#[derive(Debug)]
pub struct Batch {
    pub records: Vec<(PreparedRecord, Option<SourcePosition>)>,
    /// The newest offset per source partition among the polled records (also those a
    /// transform dropped, which are done with all the same).
    pub offsets: Vec<CommittedOffset>,
    pub newest_event_ms: Option<i64>,
    /// Holds the batch's bytes against the queue bound until it is appended.
    pub permit: Option<OwnedSemaphorePermit>,
    /// The records' bytes, as counted in the queue.
    pub bytes: u64,
}

/// Waiting batches are merged into one append up to about this many records.
const MERGE_MAX_RECORDS: usize = 20_000;

/// The least time between two commits made because the queue ran dry: a steady trickle of
/// small batches then pays one commit per this interval instead of one per append, while a
/// pause in the stream still stores its offsets within this long.
const MIN_COMMIT_SPACING: Duration = Duration::from_millis(100);

/// Batches that queued up while the previous append was being made durable, appended
/// together: one append and one fsync per partition instead of one per poll. The batches are
/// kept as they came (their records are not moved into one vector); their queue bytes stay
/// held until the whole merge is appended.
#[derive(Debug)]
struct MergedBatches {
    batches: Vec<Batch>,
    records: usize,
}

impl MergedBatches {
    fn new(first: Batch) -> Self {
        Self {
            records: first.records.len(),
            batches: vec![first],
        }
    }

    /// Adds `next`, polled after the batches already merged.
    fn push(&mut self, next: Batch) {
        self.records += next.records.len();
        self.batches.push(next);
    }
}

/// Everything the appender needs.
#[derive(Debug)]
pub struct Appender {
    pub id: ConnectorTaskId,
    pub broker: Broker,
    pub offsets: Arc<OffsetStore>,
    pub filter: PositionFilter,
    pub metrics: TaskMetrics,
    pub offset_flush_interval: Duration,
}

impl Appender {
    /// Appends batches until the queue closes, committing offsets every flush interval, when
    /// the queue runs dry, and at the end. Committed offsets go to `committed`.
    ///
    /// Commits made because the queue ran dry are spaced at least [`MIN_COMMIT_SPACING`]
    /// apart: each is an append and fsync of its own, and at a few thousand single-row
    /// transactions per second the queue runs dry after nearly every append, which put a
    /// second fsync in front of every waiting batch. The first commit is never delayed, so
    /// what a snapshot or a stream start produced is on record at once.
    pub async fn run(
        mut self,
        mut batches: mpsc::Receiver<Batch>,
        committed: mpsc::UnboundedSender<Vec<CommittedOffset>>,
    ) -> Result<()> {
        let mut pending = PendingOffsets::default();
        // Tokio's clock, the one `timeout` below waits on (they must agree, also when a test
        // pauses time).
        let mut last_commit: Option<tokio::time::Instant> = None;
        let spacing = MIN_COMMIT_SPACING.min(self.offset_flush_interval);
        loop {
            let received = if pending.is_empty() {
                batches.recv().await
            } else {
                let since = last_commit.map_or(Duration::MAX, |at| at.elapsed());
                let wait = spacing.saturating_sub(since);
                match tokio::time::timeout(wait, batches.recv()).await {
                    Ok(received) => received,
                    Err(_elapsed) => {
                        if self.commit(&mut pending, &committed).await? {
                            last_commit = Some(tokio::time::Instant::now());
                        }
                        continue;
                    }
                }
            };
            let Some(batch) = received else { break };
            let mut merged = MergedBatches::new(batch);
            while merged.records < MERGE_MAX_RECORDS {
                match batches.try_recv() {
                    Ok(next) => merged.push(next),
                    Err(_) => break,
                }
            }
            self.append(merged, &mut pending).await?;
            // The first commit follows the first append that brought an offset, even when the
            // queue never runs dry (a fast snapshot): a crash must find an offset to resume
            // from, not start over. A due commit with nothing to store stays due: sources give
            // an offset only to some records, so an append may bring none.
            if last_commit.is_none_or(|at| at.elapsed() >= self.offset_flush_interval)
                && self.commit(&mut pending, &committed).await?
            {
                last_commit = Some(tokio::time::Instant::now());
            }
        }
        self.commit(&mut pending, &committed).await.map(drop)
    }

    async fn append(
        &mut self,
        mut merged: MergedBatches,
        pending: &mut PendingOffsets,
    ) -> Result<()> {
        let queued: u64 = merged.batches.iter().map(|batch| batch.bytes).sum();
        // The batches' queue bytes stay held until the whole merge is appended.
        let permits: Vec<_> = merged
            .batches
            .iter_mut()
            .map(|batch| batch.permit.take())
            .collect();
        let appended = self.append_records(merged, pending).await;
        self.metrics.queued(-(queued as i64));
        drop(permits);
        appended
    }

    async fn append_records(
        &mut self,
        merged: MergedBatches,
        pending: &mut PendingOffsets,
    ) -> Result<()> {
        let mut groups: Vec<TargetGroup> = Vec::new();
        let (mut delivered, mut bytes) = (0u64, 0u64);
        let polled = merged.records;
        let mut route: Option<TopicRoute> = None;
        let newest_event_ms = merged
            .batches
            .iter()
            .filter_map(|batch| batch.newest_event_ms)
            .max();
        let mut offsets = Vec::new();
        let mut records = Vec::with_capacity(merged.batches.len());
        for batch in merged.batches {
            offsets.extend(batch.offsets);
            records.push(batch.records);
        }
        for (prepared, position) in records.into_iter().flatten() {
            let partition = match prepared.partition {
                Some(partition) => partition,
                None => self.partition_for(&prepared, &mut route).await?,
            };
            let found = groups
                .iter()
                .position(|g| g.partition == partition && g.topic == prepared.topic);
            let group = match found {
                Some(index) => &mut groups[index],
                None => {
                    let stored_before = self
                        .filter
                        .newest_stored(&self.broker, &prepared.topic, partition)
                        .await?
                        .cloned();
                    // Most batches target one partition: its group is sized for the whole
                    // batch at once instead of growing (and moving every record) by doubling.
                    let capacity = if groups.is_empty() { polled } else { 0 };
                    groups.push(TargetGroup {
                        topic: prepared.topic,
                        partition,
                        stored_before,
                        newest: None,
                        records: Vec::with_capacity(capacity),
                    });
                    groups.last_mut().expect("just pushed")
                }
            };
            if let Some(position) = position {
                if group
                    .stored_before
                    .as_ref()
                    .is_some_and(|stored| position <= *stored)
                {
                    continue;
                }
                group.newest = Some(position);
            }
            delivered += 1;
            bytes += record_bytes(&prepared.record) as u64;
            group.records.push(prepared.record);
        }
        for group in groups {
            if group.records.is_empty() {
                continue;
            }
            let topic = group.topic;
            let limit = self.broker.config().max_batch_bytes / 4 * 3;
            for records in split_by_bytes(group.records, limit) {
                self.broker
                    .produce(&topic, PartitionChoice::Explicit(group.partition), records)
                    .await
                    .map_err(|source| Error::Store {
                        context: format!("cannot append to {topic}-{}", group.partition.0),
                        source,
                    })?;
            }
            if let Some(position) = group.newest {
                self.filter.stored(&topic, group.partition, position);
            }
        }
        for offset in offsets {
            pending.note(offset);
        }
        if delivered > 0 {
            self.metrics.delivered(delivered, bytes, newest_event_ms);
        }
        Ok(())
    }

    /// Kafka's default partitioner on the key; keyless records go to partition 0. The route
    /// of the previous record (its topic's partition count) is reused while records target
    /// the same topic, so a batch reads it once; a one-partition topic needs no key hash.
    async fn partition_for(
        &self,
        prepared: &PreparedRecord,
        route: &mut Option<TopicRoute>,
    ) -> Result<PartitionId> {
        let partitions = match route {
            // `Arc<str>` equality compares the pointers first: records of one table share it.
            Some(route) if route.topic == prepared.topic => route.partitions,
            _ => {
                let topic =
                    self.broker
                        .topic_or_create(&prepared.topic)
                        .await
                        .map_err(|source| Error::Store {
                            context: format!("cannot create topic {}", prepared.topic),
                            source,
                        })?;
                let partitions = topic.partition_count();
                *route = Some(TopicRoute {
                    topic: prepared.topic.clone(),
                    partitions,
                });
                partitions
            }
        };
        Ok(match &prepared.record.key {
            Some(key) if partitions > 1 => {
                sluice_broker::partitioner::partition_for_key(key, partitions)
            }
            _ => PartitionId(0),
        })
    }

    async fn commit(
        &mut self,
        pending: &mut PendingOffsets,
        committed: &mpsc::UnboundedSender<Vec<CommittedOffset>>,
    ) -> Result<bool> {
        let offsets = pending.take();
        if offsets.is_empty() {
            return Ok(false);
        }
        let writes: Vec<_> = offsets
            .iter()
            .map(|c| (c.source_partition.to_map(), Some(c.source_offset.to_map())))
            .collect();
        self.offsets.put(&self.id.connector, &writes).await?;
        // The poller acknowledges them to the source between polls; if it is gone, the
        // task is stopping and the next start resumes from the stored offsets anyway.
        let _ = committed.send(offsets);
        Ok(true)
    }
}

/// The topic a batch's previous record went to, and its partition count then.
#[derive(Debug)]
struct TopicRoute {
    topic: Arc<str>,
    partitions: u32,
}

/// The records of one batch bound for one topic partition.
#[derive(Debug)]
struct TargetGroup {
    topic: Arc<str>,
    partition: PartitionId,
    /// The newest position this task had stored there before the batch; records at or
    /// before it are replays and are dropped.
    stored_before: Option<SourcePosition>,
    /// The newest position among the group's records.
    newest: Option<SourcePosition>,
    records: Vec<Record>,
}

/// Cuts `records` into runs of at most about `limit` bytes each (a record larger than that
/// goes alone), so one merged batch never exceeds the broker's batch size limit; the runs are
/// appended in order. The limit leaves room for the batch's own framing.
fn split_by_bytes(records: Vec<Record>, limit: usize) -> Vec<Vec<Record>> {
    let total: usize = records
        .iter()
        .map(|record| record_bytes(record) + RECORD_FRAMING_BYTES)
        .sum();
    if total <= limit {
        // The usual case: one run, the records stay where they are.
        return vec![records];
    }
    let mut runs = Vec::new();
    let mut run = Vec::new();
    let mut run_bytes = 0usize;
    for record in records {
        let bytes = record_bytes(&record) + RECORD_FRAMING_BYTES;
        if !run.is_empty() && run_bytes + bytes > limit {
            runs.push(std::mem::take(&mut run));
            run_bytes = 0;
        }
        run_bytes += bytes;
        run.push(record);
    }
    if !run.is_empty() {
        runs.push(run);
    }
    runs
}

/// Upper bound of what a stored record adds besides its key, value and headers.
const RECORD_FRAMING_BYTES: usize = 64;

/// Bytes a record holds (key, value and header values), for the queue bound and metrics.
pub fn record_bytes(record: &Record) -> usize {
    record.key.as_ref().map_or(0, |k| k.len())
        + record.value.as_ref().map_or(0, |v| v.len())
        + record
            .headers
            .iter()
            .map(|h| h.key.len() + h.value.as_ref().map_or(0, |v| v.len()))
            .sum::<usize>()
}

/// The newest offset per source partition among appended records, not yet stored.
#[derive(Debug, Default)]
pub struct PendingOffsets {
    newest: BTreeMap<String, CommittedOffset>,
}

impl PendingOffsets {
    pub fn note(&mut self, offset: CommittedOffset) {
        let key = serde_json::Value::Object(offset.source_partition.to_map()).to_string();
        self.newest.insert(key, offset);
    }

    /// Notes an offset given as partition and offset maps.
    pub fn note_maps(&mut self, partition: &SharedOffsetMap, offset: &SharedOffsetMap) {
        self.note(CommittedOffset {
            source_partition: partition.clone(),
            source_offset: offset.clone(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.newest.is_empty()
    }

    pub fn take(&mut self) -> Vec<CommittedOffset> {
        std::mem::take(&mut self.newest).into_values().collect()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bytes::Bytes;
    use serde_json::json;
    use sluice_broker::{BrokerConfig, FetchLimits, Offset};

    use super::*;

    fn batch(numbers: std::ops::Range<u64>) -> Batch {
        let partition = json!({"source": "test"}).as_object().cloned().unwrap();
        let records = numbers
            .clone()
            .map(|n| {
                let record = Record::new(None, Some(Bytes::from(n.to_string())));
                let prepared = PreparedRecord {
                    topic: "merged".into(),
                    partition: Some(PartitionId(0)),
                    record,
                };
                (prepared, Some(SourcePosition::from_parts(&[n])))
            })
            .collect();
        Batch {
            records,
            offsets: vec![CommittedOffset {
                source_partition: partition.into(),
                source_offset: json!({"next": numbers.end})
                    .as_object()
                    .cloned()
                    .unwrap()
                    .into(),
            }],
            newest_event_ms: None,
            permit: None,
            bytes: 0,
        }
    }

    /// A broker in `dir` with the topic "merged", and an appender for task "c-0" on it.
    async fn appender_on(dir: &std::path::Path, config: BrokerConfig) -> (Broker, Appender) {
        let broker = Broker::open(dir, config).await.unwrap();
        broker.topic_or_create("merged").await.unwrap();
        let offsets = Arc::new(OffsetStore::open(&broker).await.unwrap());
        let appender = Appender {
            id: ConnectorTaskId {
                connector: "c".into(),
                task: 0,
            },
            broker: broker.clone(),
            offsets,
            filter: PositionFilter::new("c-0@0"),
            metrics: TaskMetrics::default(),
            offset_flush_interval: Duration::from_secs(60),
        };
        (broker, appender)
    }

    #[test]
    fn runs_stay_under_the_byte_limit_in_order() {
        let records: Vec<Record> = (0..10)
            .map(|n| Record::new(None, Some(Bytes::from(vec![n as u8; 100]))))
            .collect();
        let runs = split_by_bytes(records, 400);
        assert_eq!(
            runs.iter().map(Vec::len).collect::<Vec<_>>(),
            [2, 2, 2, 2, 2]
        );
        let firsts: Vec<u8> = runs
            .iter()
            .flatten()
            .map(|r| r.value.as_ref().unwrap()[0])
            .collect();
        assert_eq!(firsts, (0..10).collect::<Vec<u8>>());
        let big = vec![Record::new(None, Some(Bytes::from(vec![0u8; 1000])))];
        assert_eq!(
            split_by_bytes(big, 400).len(),
            1,
            "an oversized record goes alone"
        );
    }

    #[tokio::test]
    async fn merged_batches_larger_than_the_broker_limit_are_appended_in_parts() {
        let dir = tempfile::tempdir().unwrap();
        let config = BrokerConfig {
            max_batch_bytes: 4096,
            ..BrokerConfig::default()
        };
        let (broker, appender) = appender_on(dir.path(), config).await;
        let (queue, queued) = mpsc::channel(16);
        for range in [0..200, 200..500] {
            queue.send(batch(range)).await.unwrap();
        }
        drop(queue);
        let (acks, _acked) = mpsc::unbounded_channel();
        appender.run(queued, acks).await.unwrap();
        let log = broker.partition_log("merged", PartitionId(0)).unwrap();
        assert_eq!(log.high_watermark(), Offset(500), "every record stored");
    }

    #[tokio::test]
    async fn batches_waiting_in_the_queue_share_one_append() {
        let dir = tempfile::tempdir().unwrap();
        let (broker, appender) = appender_on(dir.path(), BrokerConfig::default()).await;
        let (queue, queued) = mpsc::channel(16);
        for range in [0..3, 3..5, 5..9] {
            queue.send(batch(range)).await.unwrap();
        }
        drop(queue);
        let (acks, mut acked) = mpsc::unbounded_channel();
        appender.run(queued, acks).await.unwrap();

        let limits = FetchLimits {
            max_bytes: 1 << 20,
            max_records: 100,
            max_wait: Duration::ZERO,
        };
        let fetched = broker
            .fetch("merged", PartitionId(0), Offset(0), limits)
            .await
            .unwrap();
        let values: Vec<_> = fetched
            .records
            .iter()
            .map(|r| r.record.value.clone().unwrap())
            .collect();
        let expected: Vec<Bytes> = (0..9).map(|n: u64| Bytes::from(n.to_string())).collect();
        assert_eq!(values, expected, "every record once, in order");
        assert_eq!(fetched.batches.len(), 1, "three queued polls, one append");
        let committed = acked.recv().await.unwrap();
        assert_eq!(committed.len(), 1);
        assert_eq!(
            committed[0].source_offset["next"], 9,
            "the newest offset wins"
        );
    }

    /// Keyed records without a chosen partition go where Kafka's partitioner puts them, also
    /// when a batch alternates between a many-partition and a one-partition topic.
    #[tokio::test]
    async fn keyed_records_follow_the_partitioner_of_each_topic_they_alternate_between() {
        let dir = tempfile::tempdir().unwrap();
        let (broker, appender) = appender_on(dir.path(), BrokerConfig::default()).await;
        let three = sluice_broker::TopicConfig {
            partitions: 3,
            ..sluice_broker::TopicConfig::default()
        };
        broker.create_topic("spread", three).await.unwrap();
        let spread: Arc<str> = "spread".into();
        let merged: Arc<str> = "merged".into();
        let keys: Vec<Bytes> = (0..12)
            .map(|n: u32| Bytes::from(format!("key-{n}")))
            .collect();
        let records = keys
            .iter()
            .enumerate()
            .map(|(n, key)| {
                let topic = if n % 2 == 0 { &spread } else { &merged };
                let prepared = PreparedRecord {
                    topic: topic.clone(),
                    partition: None,
                    record: Record::new(Some(key.clone()), Some(Bytes::from(n.to_string()))),
                };
                (prepared, Some(SourcePosition::from_parts(&[n as u64])))
            })
            .collect();
        let (queue, queued) = mpsc::channel(1);
        queue
            .send(Batch {
                records,
                offsets: Vec::new(),
                newest_event_ms: None,
                permit: None,
                bytes: 0,
            })
            .await
            .unwrap();
        drop(queue);
        let (acks, _acked) = mpsc::unbounded_channel();
        appender.run(queued, acks).await.unwrap();

        let mut expected = [0i64; 3];
        for key in keys.iter().step_by(2) {
            let partition = sluice_broker::partitioner::partition_for_key(key, 3);
            expected[partition.0 as usize] += 1;
        }
        assert!(
            expected.iter().filter(|&&n| n > 0).count() > 1,
            "{expected:?}"
        );
        for (partition, count) in expected.iter().enumerate() {
            let log = broker
                .partition_log("spread", PartitionId(partition as i32))
                .unwrap();
            assert_eq!(
                log.high_watermark(),
                Offset(*count),
                "partition {partition}"
            );
        }
        let one = broker.partition_log("merged", PartitionId(0)).unwrap();
        assert_eq!(
            one.high_watermark(),
            Offset(6),
            "the one-partition topic has the rest"
        );
    }

    /// Feeds 100 batches of 3 records (offsets `next` 3..=300) to an appender without letting
    /// its queue run dry; the first batch brings no offset unless `first_has_offset`. Returns
    /// the `next` of the first and of the last commit.
    async fn first_and_last_commit_of_a_busy_queue(first_has_offset: bool) -> (u64, u64) {
        let dir = tempfile::tempdir().unwrap();
        let (_broker, appender) = appender_on(dir.path(), BrokerConfig::default()).await;
        let (queue, queued) = mpsc::channel(16);
        let (acks, mut acked) = mpsc::unbounded_channel();
        let running = tokio::spawn(appender.run(queued, acks));
        let producing = tokio::spawn(async move {
            for n in 0..100 {
                let mut next = batch(n * 3..n * 3 + 3);
                if n == 0 && !first_has_offset {
                    next.offsets.clear();
                }
                queue.send(next).await.unwrap();
            }
        });
        let next_of =
            |committed: Vec<CommittedOffset>| committed[0].source_offset["next"].as_u64().unwrap();
        let first = next_of(acked.recv().await.unwrap());
        producing.await.unwrap();
        running.await.unwrap().unwrap();
        let mut last = first;
        while let Ok(committed) = acked.try_recv() {
            last = next_of(committed);
        }
        (first, last)
    }

    /// A queue that never runs dry (a fast snapshot) still commits right after the first
    /// append, so a crash soon after finds an offset; CI caught a kill -9 mid-snapshot that
    /// restarted the snapshot and duplicated every row read so far.
    #[tokio::test]
    async fn a_queue_that_never_runs_dry_still_commits_after_the_first_append() {
        let (first, last) = first_and_last_commit_of_a_busy_queue(true).await;
        assert!(
            first < 300,
            "the first commit ({first}) came before the queue ran dry at 300"
        );
        assert_eq!(last, 300, "everything is committed at the end");
    }

    /// A first append that brings no offset (a source gives one only to the last record of
    /// a chunk, and a poll may end before it) leaves the commit due: it is made after the
    /// next append that brings one, not a flush interval later. CI caught a kill -9
    /// mid-snapshot that found no offset after thousands of appended rows.
    #[tokio::test]
    async fn a_first_append_without_offsets_leaves_the_first_commit_due() {
        let (first, _) = first_and_last_commit_of_a_busy_queue(false).await;
        assert!(
            first < 300,
            "the first commit ({first}) came before the queue ran dry at 300"
        );
    }

    /// The first commit comes as soon as the queue runs dry; a later one waits until the
    /// previous commit is [`MIN_COMMIT_SPACING`] old, covering every append made meanwhile.
    /// Paused time makes the spacing exact: the clock only moves while every task waits.
    #[tokio::test(start_paused = true)]
    async fn dry_queue_commits_are_spaced_and_the_first_is_immediate() {
        let dir = tempfile::tempdir().unwrap();
        let (broker, appender) = appender_on(dir.path(), BrokerConfig::default()).await;
        let (queue, queued) = mpsc::channel(16);
        let (acks, mut acked) = mpsc::unbounded_channel();
        let running = tokio::spawn(appender.run(queued, acks));
        let log = broker.partition_log("merged", PartitionId(0)).unwrap();

        queue.send(batch(0..3)).await.unwrap();
        let first = acked.recv().await.unwrap();
        let first_at = tokio::time::Instant::now();
        assert_eq!(first[0].source_offset["next"], 3, "the first commit");
        assert!(
            first_at.elapsed() < MIN_COMMIT_SPACING,
            "the first commit is not delayed"
        );

        queue.send(batch(3..5)).await.unwrap();
        // Wait for the append without moving the paused clock (a tokio sleep would let it
        // run ahead while the append's blocking write is slow).
        while log.high_watermark() < Offset(5) {
            tokio::task::yield_now().await;
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(acked.try_recv().is_err(), "no commit right after an append");
        queue.send(batch(5..8)).await.unwrap();
        let second = acked.recv().await.unwrap();
        assert_eq!(
            second[0].source_offset["next"], 8,
            "one commit covers both appends"
        );
        assert!(
            first_at.elapsed() >= MIN_COMMIT_SPACING,
            "committed only once the previous commit was old enough"
        );
        drop(queue);
        running.await.unwrap().unwrap();
        assert!(
            acked.try_recv().is_err(),
            "nothing left to commit at the end"
        );
    }
}
