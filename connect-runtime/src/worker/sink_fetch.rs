//! Reading a sink task's assigned partitions: one fetcher per partition long-polls the broker
//! (so an idle partition costs a parked future, not a busy loop) and hands batches to the
//! task's loop through one channel, in offset order per partition.
//!
//! Memory stays bounded: a fetcher reserves its fetch size from a byte budget shared by the
//! task's fetchers before it reads, keeps the part its records take, and the reservation is
//! released when the loop has dropped the batch (after `put`). A batch larger than the
//! fetch size (one oversized record) is let through with what its fetcher could reserve.
//!
//! Each (re)started fetcher gets a new epoch; batches of an older epoch (a revoked, paused
//! or repositioned partition) are discarded when they come out of the channel.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use sluice_broker::{Broker, FetchLimits, FetchedRecord, Offset};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::JoinHandle;

use crate::api::TopicPartition;

/// Most records per fetch, and so per `put` from one partition (Kafka's `max.poll.records`).
pub const MAX_RECORDS_PER_FETCH: usize = 500;
/// Largest single fetch.
const MAX_FETCH_BYTES: usize = 1 << 20;
/// How long a fetch waits for new records before it is issued again.
const LONG_POLL: Duration = Duration::from_millis(500);
/// The pause before retrying a fetch that failed (e.g. a topic being deleted).
const FETCH_RETRY_DELAY: Duration = Duration::from_secs(1);
/// Batches waiting for the loop (their bytes are bounded by the budget, not by this).
const CHANNEL_BATCHES: usize = 64;

/// Records of one partition, in offset order, and where the partition continues.
#[derive(Debug)]
pub struct FetchedBatch {
    pub partition: TopicPartition,
    pub records: Vec<FetchedRecord>,
    pub next_offset: Offset,
    epoch: u64,
    _reserved: Option<OwnedSemaphorePermit>,
}

#[derive(Debug)]
struct Running {
    epoch: u64,
    handle: JoinHandle<()>,
}

/// The fetchers of one sink task.
#[derive(Debug)]
pub struct Fetchers {
    broker: Broker,
    budget: Arc<Semaphore>,
    budget_bytes: usize,
    fetch_bytes: usize,
    sender: mpsc::Sender<FetchedBatch>,
    receiver: mpsc::Receiver<FetchedBatch>,
    running: BTreeMap<TopicPartition, Running>,
    next_epoch: u64,
}

impl Fetchers {
    /// Fetchers sharing `budget_bytes` of records in flight.
    pub fn new(broker: Broker, budget_bytes: usize) -> Self {
        let budget_bytes = budget_bytes.max(1024);
        let (sender, receiver) = mpsc::channel(CHANNEL_BATCHES);
        Self {
            broker,
            budget: Arc::new(Semaphore::new(budget_bytes)),
            budget_bytes,
            fetch_bytes: MAX_FETCH_BYTES.min(budget_bytes / 4),
            sender,
            receiver,
            running: BTreeMap::new(),
            next_epoch: 0,
        }
    }

    /// (Re)starts reading `partition` at `from`; records fetched before are discarded.
    pub fn start(&mut self, partition: TopicPartition, from: Offset) {
        self.stop(&partition);
        self.next_epoch += 1;
        let fetcher = Fetcher {
            broker: self.broker.clone(),
            budget: self.budget.clone(),
            fetch_bytes: self.fetch_bytes,
            sender: self.sender.clone(),
            partition: partition.clone(),
            epoch: self.next_epoch,
        };
        let handle = tokio::spawn(fetcher.run(from));
        self.running.insert(
            partition,
            Running {
                epoch: self.next_epoch,
                handle,
            },
        );
    }

    /// Stops reading `partition`; its batches still queued are discarded.
    pub fn stop(&mut self, partition: &TopicPartition) {
        if let Some(running) = self.running.remove(partition) {
            running.handle.abort();
        }
    }

    /// Stops every fetcher and waits until they are gone (with them, their broker handles).
    pub async fn close(&mut self) {
        for (_, running) in std::mem::take(&mut self.running) {
            running.handle.abort();
            let _ = running.handle.await;
        }
    }

    pub fn stop_all(&mut self) {
        for (_, running) in std::mem::take(&mut self.running) {
            running.handle.abort();
        }
    }

    /// Bytes reserved by fetches under way and by batches not yet dropped.
    pub fn bytes_in_flight(&self) -> usize {
        self.budget_bytes - self.budget.available_permits()
    }

    pub fn is_fetching(&self, partition: &TopicPartition) -> bool {
        self.running.contains_key(partition)
    }

    /// The next current batch. Cancel-safe; pends for ever while nothing is fetched.
    pub async fn next(&mut self) -> FetchedBatch {
        loop {
            // The loop holds a sender, so the channel never closes.
            if let Some(batch) = self.receiver.recv().await
                && self.is_current(&batch)
            {
                return batch;
            }
        }
    }

    /// A current batch if one is waiting.
    pub fn try_next(&mut self) -> Option<FetchedBatch> {
        while let Ok(batch) = self.receiver.try_recv() {
            if self.is_current(&batch) {
                return Some(batch);
            }
        }
        None
    }

    fn is_current(&self, batch: &FetchedBatch) -> bool {
        self.running
            .get(&batch.partition)
            .is_some_and(|running| running.epoch == batch.epoch)
    }
}

impl Drop for Fetchers {
    fn drop(&mut self) {
        self.stop_all();
    }
}

/// One partition's fetch loop.
struct Fetcher {
    broker: Broker,
    budget: Arc<Semaphore>,
    fetch_bytes: usize,
    sender: mpsc::Sender<FetchedBatch>,
    partition: TopicPartition,
    epoch: u64,
}

impl Fetcher {
    async fn run(self, mut offset: Offset) {
        let TopicPartition { topic, partition } = &self.partition;
        let limits = FetchLimits {
            max_bytes: self.fetch_bytes,
            max_records: MAX_RECORDS_PER_FETCH,
            max_wait: LONG_POLL,
        };
        loop {
            let Ok(mut reserved) = self
                .budget
                .clone()
                .acquire_many_owned(self.fetch_bytes as u32)
                .await
            else {
                return;
            };
            let fetched = match self.broker.fetch(topic, *partition, offset, limits).await {
                Ok(fetched) => fetched,
                Err(sluice_broker::Error::OffsetOutOfRange { log_start, .. }) => {
                    // Kafka Connect's sink consumers reset to the earliest offset.
                    tracing::warn!(partition = %self.partition, requested = offset.0, log_start = log_start.0, "offset out of range; continuing at the log start");
                    offset = log_start;
                    continue;
                }
                Err(error) => {
                    tracing::warn!(partition = %self.partition, %error, "fetch failed; retrying");
                    drop(reserved);
                    tokio::time::sleep(FETCH_RETRY_DELAY).await;
                    continue;
                }
            };
            offset = fetched.next_offset;
            if fetched.records.is_empty() {
                continue;
            }
            let used = fetched.records.iter().map(record_bytes).sum::<usize>();
            let kept = reserved.split(used.clamp(1, self.fetch_bytes));
            drop(reserved);
            let batch = FetchedBatch {
                partition: self.partition.clone(),
                records: fetched.records,
                next_offset: fetched.next_offset,
                epoch: self.epoch,
                _reserved: kept,
            };
            if self.sender.send(batch).await.is_err() {
                return;
            }
        }
    }
}

/// The bytes a record holds in memory, roughly: key, value and headers.
fn record_bytes(record: &FetchedRecord) -> usize {
    let record = &record.record;
    let headers: usize = record
        .headers
        .iter()
        .map(|h| h.key.len() + h.value.as_ref().map_or(0, |v| v.len()))
        .sum();
    record.key.as_ref().map_or(0, |k| k.len())
        + record.value.as_ref().map_or(0, |v| v.len())
        + headers
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use sluice_broker::{BrokerConfig, PartitionChoice, PartitionId, Record, TopicConfig};

    use super::*;

    const RECORD_BYTES: usize = 1000;

    async fn broker_with_records(dir: &std::path::Path, count: usize) -> Broker {
        let broker = Broker::open(dir, BrokerConfig::default()).await.unwrap();
        broker
            .create_topic("t", TopicConfig::default())
            .await
            .unwrap();
        for _ in 0..count {
            let record = Record::new(None, Some(Bytes::from(vec![b'x'; RECORD_BYTES])));
            let choice = PartitionChoice::Explicit(PartitionId(0));
            broker.produce("t", choice, vec![record]).await.unwrap();
        }
        broker
    }

    #[tokio::test]
    async fn fetched_bytes_stay_within_the_budget_until_batches_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let broker = broker_with_records(dir.path(), 64).await;
        let budget = 8 * 1024;
        let mut fetchers = Fetchers::new(broker, budget);
        fetchers.start(TopicPartition::new("t", 0), Offset(0));
        // Hold every batch: the fetcher must stop once the budget is taken.
        let mut held = Vec::new();
        while let Ok(batch) =
            tokio::time::timeout(Duration::from_millis(300), fetchers.next()).await
        {
            held.push(batch);
        }
        let records: usize = held.iter().map(|b| b.records.len()).sum();
        assert!(records > 0, "nothing fetched");
        assert!(
            records * RECORD_BYTES <= budget,
            "{records} records held with a {budget}-byte budget"
        );
        assert!(fetchers.bytes_in_flight() <= budget);
        // Dropping them lets the fetcher go on, in offset order, to the end.
        let mut next = held.last().unwrap().next_offset;
        drop(held);
        while next < Offset(64) {
            let batch = tokio::time::timeout(Duration::from_secs(10), fetchers.next())
                .await
                .expect("the fetcher resumes once batches are dropped");
            assert_eq!(batch.records[0].offset, next);
            next = batch.next_offset;
        }
    }

    #[tokio::test]
    async fn a_restarted_partition_discards_batches_fetched_before() {
        let dir = tempfile::tempdir().unwrap();
        let broker = broker_with_records(dir.path(), 4).await;
        let mut fetchers = Fetchers::new(broker, 1 << 20);
        let partition = TopicPartition::new("t", 0);
        fetchers.start(partition.clone(), Offset(0));
        let first = fetchers.next().await;
        assert_eq!(first.records[0].offset, Offset(0));
        fetchers.start(partition.clone(), Offset(3));
        let after = fetchers.next().await;
        assert_eq!(
            after.records[0].offset,
            Offset(3),
            "older batches are dropped"
        );
        fetchers.stop(&partition);
        assert!(fetchers.try_next().is_none());
    }
}
