//! The bounded queue between the pipeline (a background task) and `poll`: bounded in batches
//! (`max.queue.size` / `max.batch.size`) and, when `max.queue.size.in.bytes` is set, in the
//! estimated bytes of the records it holds (0 = bounded by count only, as in Debezium). A
//! full queue makes the pipeline wait, which stops reading the binlog — so a slow broker
//! slows the reader instead of growing memory.
//!
//! Each batch travels with the byte permits it took; they return as `poll` receives it. A
//! batch larger than the whole byte bound still passes alone (it takes every permit), so a
//! tiny bound slows the stream but never blocks it. [`BatchBytes`] keeps a growing batch's
//! estimate up to date, so waiting for room never re-measures the whole batch.
//!
//! While changes stream in, [`BatchReceiver::take`] gathers batches for up to [`GATHER`] after
//! its previous return instead of handing over each transaction alone: the runtime appends
//! (and fsyncs) every polled batch separately, so at thousands of single-row transactions per
//! second one-row batches cap throughput at one fsync per row and queue seconds of latency
//! behind it. When the stream is quiet (the previous batch left more than `GATHER` ago) the
//! first change is handed over at once, so gathering never delays an isolated change.

use std::sync::Arc;
use std::time::Duration;

use sluice_connect::api::SourceRecord;
use sluice_schemas::Value;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::time::Instant;

use crate::error::Error;
use crate::pipeline::Batch;

/// How long after its previous return `take` keeps gathering while changes keep coming: a
/// few fsyncs' worth, so appends keep pace at thousands of transactions per second while an
/// isolated change waits no more than this.
pub const GATHER: Duration = Duration::from_millis(10);

/// Bytes counted for a record besides its key and value (topic, maps, headers).
const RECORD_OVERHEAD: usize = 96;

/// A batch and the byte permits it holds while queued.
#[derive(Debug)]
struct Queued {
    batch: Batch,
    _bytes: Option<OwnedSemaphorePermit>,
}

/// The byte bound: a semaphore of bytes and its size.
#[derive(Debug, Clone)]
struct ByteBound {
    permits: Arc<Semaphore>,
    max: u32,
}

impl ByteBound {
    /// Permits for `bytes`, at most the whole bound.
    fn permits_for(&self, bytes: usize) -> u32 {
        u32::try_from(bytes).unwrap_or(u32::MAX).clamp(1, self.max)
    }
}

/// The pipeline's end.
#[derive(Debug)]
pub struct BatchSender {
    sender: mpsc::Sender<Queued>,
    bytes: Option<ByteBound>,
}

/// `poll`'s end.
#[derive(Debug)]
pub struct BatchReceiver {
    receiver: mpsc::Receiver<Queued>,
    /// Records received by a `take` that was cancelled while gathering, returned next.
    gathered: Vec<SourceRecord>,
    /// When `take` last returned records.
    last_return: Option<Instant>,
    /// How long after its previous return `take` gathers ([`GATHER`] unless set).
    gather: Duration,
    /// A failure received while gathering, handed over after the gathered records.
    failed: Option<Error>,
}

/// What [`BatchReceiver::take`] found.
#[derive(Debug)]
pub enum Taken {
    /// Records (none when nothing came within the wait).
    Records(Vec<SourceRecord>),
    /// The pipeline failed.
    Failed(Error),
    /// The pipeline ended without an error.
    Ended,
}

/// The receiver is gone: the task is stopping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

/// Why [`BatchSender::try_reserve`] returned no slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryReserveError {
    /// No room now (batches or bytes); try later.
    Full,
    Closed,
}

/// A queue of at most `batches` batches and, when `max_bytes > 0`, about `max_bytes` bytes.
pub fn bounded(batches: usize, max_bytes: u64) -> (BatchSender, BatchReceiver) {
    let (sender, receiver) = mpsc::channel(batches.max(1));
    let bytes = (max_bytes > 0).then(|| {
        let max = u32::try_from(max_bytes)
            .unwrap_or(u32::MAX)
            .min(Semaphore::MAX_PERMITS as u32);
        ByteBound {
            permits: Arc::new(Semaphore::new(max as usize)),
            max,
        }
    });
    let receiver = BatchReceiver {
        receiver,
        gathered: Vec::new(),
        last_return: None,
        gather: GATHER,
        failed: None,
    };
    (BatchSender { sender, bytes }, receiver)
}

/// A reserved slot; [`BatchPermit::send`] fills it without waiting.
#[derive(Debug)]
pub struct BatchPermit<'a> {
    slot: mpsc::Permit<'a, Queued>,
    bytes: Option<OwnedSemaphorePermit>,
}

impl BatchPermit<'_> {
    pub fn send(self, batch: Batch) {
        self.slot.send(Queued {
            batch,
            _bytes: self.bytes,
        });
    }
}

impl BatchSender {
    /// Waits for room for a batch of `bytes` (see [`BatchBytes`]): a slot and the bytes.
    /// Cancel-safe: a dropped wait holds nothing.
    pub async fn reserve(&self, bytes: usize) -> Result<BatchPermit<'_>, Closed> {
        let bytes = match &self.bytes {
            Some(bound) => Some(
                bound
                    .permits
                    .clone()
                    .acquire_many_owned(bound.permits_for(bytes))
                    .await
                    .map_err(|_| Closed)?,
            ),
            None => None,
        };
        let slot = self.sender.reserve().await.map_err(|_| Closed)?;
        Ok(BatchPermit { slot, bytes })
    }

    /// Room for a batch of `bytes` now, if there is some.
    pub fn try_reserve(&self, bytes: usize) -> Result<BatchPermit<'_>, TryReserveError> {
        let bytes = match &self.bytes {
            Some(bound) => Some(
                bound
                    .permits
                    .clone()
                    .try_acquire_many_owned(bound.permits_for(bytes))
                    .map_err(|_| TryReserveError::Full)?,
            ),
            None => None,
        };
        let slot = self.sender.try_reserve().map_err(|error| match error {
            mpsc::error::TrySendError::Full(()) => TryReserveError::Full,
            mpsc::error::TrySendError::Closed(()) => TryReserveError::Closed,
        })?;
        Ok(BatchPermit { slot, bytes })
    }

    /// Waits for room, then queues `batch` (an error needs no room in bytes).
    pub async fn send(&self, batch: Batch) -> Result<(), Closed> {
        let bytes = match (&batch, &self.bytes) {
            (Ok(records), Some(_)) => estimated_bytes(records),
            _ => 0,
        };
        self.reserve(bytes).await?.send(batch);
        Ok(())
    }

    /// Resolves when the receiver is gone.
    pub async fn closed(&self) {
        self.sender.closed().await
    }
}

impl BatchReceiver {
    /// The next batch (its bytes are released); `None` when the pipeline ended.
    pub async fn recv(&mut self) -> Option<Batch> {
        self.receiver.recv().await.map(|queued| queued.batch)
    }

    /// Whole batches until `max` records (the last batch may overshoot it), waiting at most
    /// `wait` for the first, then (while changes stream in) gathering until [`GATHER`] after
    /// the previous return. Cancel-safe: what was received stays for the next call.
    pub async fn take(&mut self, max: usize, wait: Duration) -> Taken {
        if let Some(error) = self.failed.take() {
            return Taken::Failed(error);
        }
        if self.gathered.is_empty() {
            match tokio::time::timeout(wait, self.receiver.recv()).await {
                Err(_) => return Taken::Records(Vec::new()),
                Ok(None) => return Taken::Ended,
                Ok(Some(Queued {
                    batch: Err(error), ..
                })) => return Taken::Failed(error),
                Ok(Some(Queued {
                    batch: Ok(records), ..
                })) => self.gather_batch(records),
            }
        }
        let until = self
            .last_return
            .map_or_else(Instant::now, |at| at + self.gather);
        while self.gathered.len() < max {
            // `timeout_at` polls the channel first, so a passed deadline only skips the wait.
            match tokio::time::timeout_at(until, self.receiver.recv()).await {
                Ok(Some(Queued {
                    batch: Ok(records), ..
                })) => self.gather_batch(records),
                // Handed over with the next call, after these records.
                Ok(Some(Queued {
                    batch: Err(error), ..
                })) => {
                    self.failed = Some(error);
                    break;
                }
                Err(_) | Ok(None) => break,
            }
        }
        self.last_return = Some(Instant::now());
        Taken::Records(std::mem::take(&mut self.gathered))
    }

    /// Adds a received batch to the gathered records; the first one is kept as it is rather
    /// than moved record by record into an empty vector.
    fn gather_batch(&mut self, records: Vec<SourceRecord>) {
        if self.gathered.is_empty() {
            self.gathered = records;
        } else {
            self.gathered.extend(records);
        }
    }

    /// Changes how long `take` gathers after its previous return (zero: never).
    pub fn set_gather(&mut self, gather: Duration) {
        self.gather = gather;
    }
}

/// The estimated bytes of the batch being filled, measured once per record: [`Self::of`]
/// adds the records appended since the last call, [`Self::take`] empties the batch. Free when
/// the queue is not bounded in bytes.
#[derive(Debug)]
pub struct BatchBytes {
    counting: bool,
    counted: usize,
    bytes: usize,
}

impl BatchBytes {
    pub fn new(sender: &BatchSender) -> Self {
        Self {
            counting: sender.bytes.is_some(),
            counted: 0,
            bytes: 0,
        }
    }

    /// The estimate for `batch` (0 when not counting); `batch` only grew since the last
    /// [`Self::take`].
    pub fn of(&mut self, batch: &[SourceRecord]) -> usize {
        if !self.counting {
            return 0;
        }
        if batch.len() < self.counted {
            // Emptied without `take`: measure again from the start.
            self.counted = 0;
            self.bytes = 0;
        }
        self.bytes += estimated_bytes(&batch[self.counted..]);
        self.counted = batch.len();
        self.bytes
    }

    /// Takes the batch's records, starting the next batch's estimate at zero.
    pub fn take(&mut self, batch: &mut Vec<SourceRecord>) -> Vec<SourceRecord> {
        self.counted = 0;
        self.bytes = 0;
        std::mem::take(batch)
    }
}

/// A cheap estimate of the memory `records` hold: their keys' and values' data plus a
/// fixed overhead per record.
pub fn estimated_bytes(records: &[SourceRecord]) -> usize {
    records
        .iter()
        .map(|r| {
            RECORD_OVERHEAD
                + r.topic.len()
                + value_bytes(&r.key.value)
                + value_bytes(&r.value.value)
        })
        .sum()
}

fn value_bytes(value: &Value) -> usize {
    match value {
        Value::Null | Value::Boolean(_) | Value::Int8(_) => 1,
        Value::Int16(_) => 2,
        Value::Int32(_) | Value::Float32(_) => 4,
        Value::Int64(_) | Value::Float64(_) => 8,
        Value::String(text) => text.len(),
        Value::Bytes(bytes) => bytes.len(),
        Value::Array(items) => items.iter().map(value_bytes).sum(),
        Value::Map(entries) => entries
            .iter()
            .map(|(k, v)| value_bytes(k) + value_bytes(v))
            .sum(),
        Value::Struct(fields) => fields.values().iter().map(value_bytes).sum(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sluice_connect::api::{OffsetMap, SchemaAndValue};

    use super::*;

    fn record(text: &str) -> SourceRecord {
        SourceRecord::new(
            OffsetMap::new(),
            OffsetMap::new(),
            "t",
            SchemaAndValue::null(),
            SchemaAndValue {
                schema: None,
                value: Value::String(text.into()),
            },
        )
    }

    #[tokio::test]
    async fn bytes_bound_the_queue_and_return_on_receive() {
        let one = estimated_bytes(&[record("x")]);
        // Room for two one-record batches by bytes, ten by count.
        let (sender, mut receiver) = bounded(10, (2 * one) as u64);
        sender.send(Ok(vec![record("x")])).await.unwrap();
        sender.send(Ok(vec![record("x")])).await.unwrap();
        assert_eq!(sender.try_reserve(one).err(), Some(TryReserveError::Full));
        let blocked = tokio::time::timeout(
            Duration::from_millis(50),
            sender.send(Ok(vec![record("x")])),
        )
        .await;
        assert!(blocked.is_err(), "a full byte bound makes the sender wait");
        assert_eq!(receiver.recv().await.unwrap().unwrap().len(), 1);
        sender.send(Ok(vec![record("x")])).await.unwrap();
        // A batch bigger than the bound passes alone once the queue is empty.
        receiver.recv().await.unwrap().unwrap();
        receiver.recv().await.unwrap().unwrap();
        let big: Vec<SourceRecord> = (0..10).map(|_| record("x")).collect();
        sender.send(Ok(big)).await.unwrap();
        assert_eq!(receiver.recv().await.unwrap().unwrap().len(), 10);
    }

    #[test]
    fn batch_bytes_measure_each_record_once() {
        let (sender, _receiver) = bounded(1, 1_000);
        let mut tally = BatchBytes::new(&sender);
        let mut batch = vec![record("ab")];
        let one = tally.of(&batch);
        assert_eq!(one, estimated_bytes(&batch));
        batch.push(record("ab"));
        assert_eq!(tally.of(&batch), 2 * one);
        assert_eq!(tally.take(&mut batch).len(), 2);
        batch.push(record("ab"));
        assert_eq!(tally.of(&batch), one);
        let (unbounded, _receiver) = bounded(1, 0);
        assert_eq!(BatchBytes::new(&unbounded).of(&batch), 0);
    }

    #[tokio::test]
    async fn streaming_batches_are_gathered_and_an_isolated_one_is_not_delayed() {
        let (sender, mut receiver) = bounded(10, 0);
        receiver.set_gather(Duration::from_secs(30));
        let records = |taken: Taken| match taken {
            Taken::Records(records) => records.len(),
            other => panic!("expected records, got {other:?}"),
        };
        sender.send(Ok(vec![record("a")])).await.unwrap();
        let started = Instant::now();
        let first = receiver.take(10, Duration::from_secs(1)).await;
        assert_eq!(records(first), 1, "the first batch goes out alone, at once");
        // Batches arriving right after a batch left are gathered, and leave as soon as
        // `max` is reached (long before the 30 s deadline).
        let feeder = tokio::spawn(async move {
            for _ in 0..3 {
                tokio::time::sleep(Duration::from_millis(5)).await;
                sender.send(Ok(vec![record("b")])).await.unwrap();
            }
            sender
        });
        assert_eq!(records(receiver.take(3, Duration::from_secs(1)).await), 3);
        let gathered_at = Instant::now();
        assert!(started.elapsed() < Duration::from_secs(20));
        let sender = feeder.await.unwrap();
        // Until the deadline, a partial batch waits for more.
        receiver.set_gather(Duration::from_millis(100));
        sender.send(Ok(vec![record("c")])).await.unwrap();
        assert_eq!(records(receiver.take(10, Duration::from_secs(1)).await), 1);
        let left = Instant::now();
        assert!(left - gathered_at >= Duration::from_millis(90));
        // A batch after a quiet spell goes out at once; a failure follows the gathered
        // records; the end of the pipeline is reported.
        tokio::time::sleep(Duration::from_millis(300)).await;
        sender.send(Ok(vec![record("d")])).await.unwrap();
        sender
            .send(Err(Error::BadValue {
                column: "c".into(),
                reason: "test".into(),
            }))
            .await
            .unwrap();
        let at = Instant::now();
        assert_eq!(records(receiver.take(10, Duration::from_secs(1)).await), 1);
        assert!(at.elapsed() < Duration::from_millis(100));
        let failed = receiver.take(10, Duration::from_secs(1)).await;
        assert!(matches!(failed, Taken::Failed(_)), "{failed:?}");
        drop(sender);
        let ended = receiver.take(10, Duration::from_secs(1)).await;
        assert!(matches!(ended, Taken::Ended), "{ended:?}");
    }

    #[tokio::test]
    async fn zero_bytes_means_bounded_by_count_only() {
        let (sender, mut receiver) = bounded(1, 0);
        sender
            .send(Ok(vec![record(&"y".repeat(1 << 20))]))
            .await
            .unwrap();
        assert_eq!(
            sender.try_reserve(0).err(),
            Some(TryReserveError::Full),
            "one batch fills a one-batch queue"
        );
        receiver.recv().await.unwrap().unwrap();
        drop(receiver);
        assert_eq!(sender.send(Ok(Vec::new())).await, Err(Closed));
    }
}
