//! The bounded queue between the database reader (a background task) and `poll`: bounded in
//! records (`max.queue.size`) and in bytes (`max.queue.size.in.bytes`), so a slow broker
//! slows the reader — and, through TCP, the walsender — instead of growing memory.
//!
//! The reader sends chunks of records, each holding permits for its records and estimated
//! bytes; `poll` takes chunks and the permits return as the records leave the queue. A chunk
//! may also carry the error that ended the reader, which `poll` returns to fail the task.
//!
//! While changes stream in, `take` gathers for up to [`GATHER`] after its previous return
//! instead of handing over each transaction alone: the runtime appends (and fsyncs) every
//! polled batch separately, so at thousands of single-row transactions per second one-row
//! batches cap throughput at one fsync per row and queue seconds of latency behind it. When
//! the stream is quiet (the previous batch left more than `GATHER` ago) the first change is
//! handed over at once, so gathering never delays an isolated change.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use sluice_connect::api::SourceRecord;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use crate::error::Error;

/// What travels through the queue.
#[derive(Debug)]
enum Item {
    Records {
        records: Vec<SourceRecord>,
        _records: OwnedSemaphorePermit,
        _bytes: OwnedSemaphorePermit,
    },
    Failed(Error),
}

/// The reader's end.
#[derive(Debug, Clone)]
pub struct QueueSender {
    sender: mpsc::UnboundedSender<Item>,
    records: Arc<Semaphore>,
    bytes: Arc<Semaphore>,
    max_records: u32,
    max_bytes: u32,
}

/// `poll`'s end.
#[derive(Debug)]
pub struct QueueReceiver {
    receiver: mpsc::UnboundedReceiver<Item>,
    /// Records taken from the channel but not yet returned (a chunk larger than the batch,
    /// or gathered by a `take` that was cancelled).
    pending: Vec<SourceRecord>,
    /// When `take` last returned records.
    last_return: Option<Instant>,
    /// How long after its previous return `take` gathers ([`GATHER`] unless set).
    gather: Duration,
}

/// How long after its previous batch `take` keeps gathering while changes keep coming: a
/// few fsyncs' worth, so appends keep pace at thousands of transactions per second while an
/// isolated change waits no more than this.
pub const GATHER: Duration = Duration::from_millis(10);

/// The reader stopped: the task is stopping and the queue is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

/// A queue holding at most `max_records` records and about `max_bytes` bytes.
pub fn bounded(max_records: usize, max_bytes: usize) -> (QueueSender, QueueReceiver) {
    let max_records = u32::try_from(max_records).unwrap_or(u32::MAX).max(1);
    let max_bytes = u32::try_from(max_bytes).unwrap_or(u32::MAX).max(1);
    let (sender, receiver) = mpsc::unbounded_channel();
    (
        QueueSender {
            sender,
            records: Arc::new(Semaphore::new(max_records as usize)),
            bytes: Arc::new(Semaphore::new(max_bytes as usize)),
            max_records,
            max_bytes,
        },
        QueueReceiver {
            receiver,
            pending: Vec::new(),
            last_return: None,
            gather: GATHER,
        },
    )
}

impl QueueSender {
    /// Queues `records` (about `bytes` bytes), waiting for room. A chunk larger than the
    /// whole queue is let through alone once the queue is empty.
    pub async fn send(&self, records: Vec<SourceRecord>, bytes: usize) -> Result<(), Closed> {
        if records.is_empty() {
            return Ok(());
        }
        let count = u32::try_from(records.len())
            .unwrap_or(u32::MAX)
            .min(self.max_records);
        let bytes = u32::try_from(bytes).unwrap_or(u32::MAX).min(self.max_bytes);
        let record_permit = Arc::clone(&self.records)
            .acquire_many_owned(count)
            .await
            .map_err(|_| Closed)?;
        let byte_permit = Arc::clone(&self.bytes)
            .acquire_many_owned(bytes)
            .await
            .map_err(|_| Closed)?;
        self.sender
            .send(Item::Records {
                records,
                _records: record_permit,
                _bytes: byte_permit,
            })
            .map_err(|_| Closed)
    }

    /// Hands the reader's fatal error to `poll`.
    pub fn fail(&self, error: Error) {
        let _ = self.sender.send(Item::Failed(error));
    }

    /// Whether `poll`'s end is gone (the task stopped).
    pub fn is_closed(&self) -> bool {
        self.sender.is_closed()
    }

    /// Bytes currently queued (for metrics and tests).
    pub fn queued_bytes(&self) -> usize {
        self.max_bytes as usize - self.bytes.available_permits()
    }
}

impl QueueReceiver {
    /// Up to `max` records, waiting at most `wait` for the first, then (while changes
    /// stream in) gathering until [`GATHER`] after the previous return. Cancel-safe: what was
    /// taken out of the channel stays in `pending` for the next call.
    pub async fn take(&mut self, max: usize, wait: Duration) -> Result<Vec<SourceRecord>, Error> {
        if self.pending.is_empty() {
            match tokio::time::timeout(wait, self.receiver.recv()).await {
                Err(_) | Ok(None) => return Ok(Vec::new()),
                Ok(Some(item)) => self.accept(item)?,
            }
        }
        self.take_ready(max)?;
        if let Some(until) = self.last_return.map(|at| at + self.gather) {
            while self.pending.len() < max {
                // `timeout_at` polls the channel first, so a passed deadline only skips the wait.
                match tokio::time::timeout_at(until, self.receiver.recv()).await {
                    Ok(Some(item)) => {
                        self.accept(item)?;
                        self.take_ready(max)?;
                    }
                    Err(_) | Ok(None) => break,
                }
            }
        }
        self.last_return = Some(Instant::now());
        if self.pending.len() <= max {
            return Ok(std::mem::take(&mut self.pending));
        }
        // End the batch at its last record with an offset (snapshot chunks carry one only on
        // their last record): the runtime commits the newest offset of each batch, so a batch
        // ending without one would leave its records' commit to the next batch.
        let end = self.pending[..max]
            .iter()
            .rposition(|record| !record.source_offset.is_empty())
            .map_or(max, |last| last + 1);
        let rest = self.pending.split_off(end);
        Ok(std::mem::replace(&mut self.pending, rest))
    }

    /// Changes how long `take` gathers after its previous return (zero: never).
    pub fn set_gather(&mut self, gather: Duration) {
        self.gather = gather;
    }

    /// Moves what is already in the channel to `pending`, up to `max` records.
    fn take_ready(&mut self, max: usize) -> Result<(), Error> {
        while self.pending.len() < max {
            match self.receiver.try_recv() {
                Ok(item) => self.accept(item)?,
                Err(_) => break,
            }
        }
        Ok(())
    }

    fn accept(&mut self, item: Item) -> Result<(), Error> {
        match item {
            Item::Records { records, .. } => {
                // Most chunks arrive with nothing pending: keep their vector instead of
                // moving every record into another one.
                if self.pending.is_empty() {
                    self.pending = records;
                } else {
                    self.pending.extend(records);
                }
                Ok(())
            }
            Item::Failed(error) => Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_connect::api::{SchemaAndValue, SharedOffsetMap};

    fn record(n: usize) -> SourceRecord {
        SourceRecord::new(
            SharedOffsetMap::empty(),
            SharedOffsetMap::empty(),
            format!("t{n}"),
            SchemaAndValue::null(),
            SchemaAndValue::null(),
        )
    }

    #[tokio::test]
    async fn bytes_bound_blocks_the_reader_until_poll_takes() {
        let (sender, mut receiver) = bounded(100, 1000);
        sender.send(vec![record(0)], 800).await.unwrap();
        assert_eq!(sender.queued_bytes(), 800);
        let blocked =
            tokio::time::timeout(Duration::from_millis(50), sender.send(vec![record(1)], 300))
                .await;
        assert!(blocked.is_err(), "a send beyond the byte bound must wait");
        let taken = receiver.take(10, Duration::from_millis(10)).await.unwrap();
        assert_eq!(taken.len(), 1);
        assert_eq!(sender.queued_bytes(), 0);
        sender.send(vec![record(1), record(2)], 300).await.unwrap();
        let first = receiver.take(1, Duration::from_millis(10)).await.unwrap();
        let second = receiver.take(5, Duration::from_millis(10)).await.unwrap();
        assert_eq!((&*first[0].topic, &*second[0].topic), ("t1", "t2"));
        sender.fail(Error::CopyFormat {
            table: "t".into(),
            reason: "x".into(),
        });
        assert!(receiver.take(5, Duration::from_millis(10)).await.is_err());
    }

    #[tokio::test]
    async fn a_split_batch_ends_at_a_record_with_an_offset() {
        let (sender, mut receiver) = bounded(100, 100_000);
        receiver.set_gather(Duration::ZERO);
        let mut chunk: Vec<SourceRecord> = (0..5).map(record).collect();
        for at in [2, 4] {
            let mut offset = sluice_connect::api::OffsetMap::new();
            offset.insert("row".into(), at.into());
            chunk[at].source_offset = offset.into();
        }
        sender.send(chunk, 50).await.unwrap();
        let topics = |records: Vec<SourceRecord>| -> Vec<String> {
            records.iter().map(|r| r.topic.to_string()).collect()
        };
        let first = receiver.take(4, Duration::from_millis(10)).await.unwrap();
        assert_eq!(topics(first), ["t0", "t1", "t2"]);
        // No record with an offset among the first two: the batch is cut at the limit.
        sender.send((5..8).map(record).collect(), 30).await.unwrap();
        let second = receiver.take(1, Duration::from_millis(10)).await.unwrap();
        assert_eq!(topics(second), ["t3"]);
        let rest = receiver.take(10, Duration::from_millis(10)).await.unwrap();
        assert_eq!(topics(rest), ["t4", "t5", "t6", "t7"]);
    }

    #[tokio::test]
    async fn streaming_changes_are_gathered_and_an_isolated_one_is_not_delayed() {
        let (sender, mut receiver) = bounded(100, 100_000);
        receiver.set_gather(Duration::from_secs(30));
        sender.send(vec![record(0)], 10).await.unwrap();
        let started = Instant::now();
        let first = receiver.take(10, Duration::from_secs(1)).await.unwrap();
        assert_eq!(first.len(), 1, "the first change goes out alone, at once");
        // Changes arriving right after a batch left are gathered into one batch, which
        // leaves as soon as it is full (long before the 30 s deadline).
        let feeder = sender.clone();
        tokio::spawn(async move {
            for n in 1..=3 {
                tokio::time::sleep(Duration::from_millis(5)).await;
                feeder.send(vec![record(n)], 10).await.unwrap();
            }
        });
        let gathered = receiver.take(3, Duration::from_secs(1)).await.unwrap();
        let gathered_at = Instant::now();
        assert_eq!(gathered.len(), 3);
        assert!(started.elapsed() < Duration::from_secs(20));
        // Until the deadline, a partial batch waits for more.
        receiver.set_gather(Duration::from_millis(100));
        sender.send(vec![record(4)], 10).await.unwrap();
        let partial = receiver.take(10, Duration::from_secs(1)).await.unwrap();
        let left = Instant::now();
        assert_eq!(partial.len(), 1);
        assert!(left - gathered_at >= Duration::from_millis(90));
        // A change after a quiet spell goes out at once.
        tokio::time::sleep(Duration::from_millis(300)).await;
        sender.send(vec![record(5)], 10).await.unwrap();
        let at = Instant::now();
        let alone = receiver.take(10, Duration::from_secs(1)).await.unwrap();
        assert_eq!(alone.len(), 1);
        assert!(at.elapsed() < Duration::from_millis(100));
        assert!(at - left >= Duration::from_millis(300));
    }
}
