//! The bounded queue between the database reader (a background task) and `poll`: bounded in
//! records (`max.queue.size`) and in bytes (`max.queue.size.in.bytes`), so a slow broker
//! slows the reader — and, through TCP, the walsender — instead of growing memory.
//!
//! The reader sends chunks of records, each holding permits for its records and estimated
//! bytes; `poll` takes chunks and the permits return as the records leave the queue. A chunk
//! may also carry the error that ended the reader, which `poll` returns to fail the task.

use std::sync::Arc;
use std::time::Duration;

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
    /// Records taken from a chunk but not yet returned (a chunk larger than the batch).
    pending: Vec<SourceRecord>,
}

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
    /// Up to `max` records, waiting at most `wait` for the first. Cancel-safe: records are
    /// only taken out of the channel after the only await point.
    pub async fn take(&mut self, max: usize, wait: Duration) -> Result<Vec<SourceRecord>, Error> {
        if self.pending.is_empty() {
            match tokio::time::timeout(wait, self.receiver.recv()).await {
                Err(_) | Ok(None) => return Ok(Vec::new()),
                Ok(Some(item)) => self.accept(item)?,
            }
        }
        while self.pending.len() < max {
            match self.receiver.try_recv() {
                Ok(item) => self.accept(item)?,
                Err(_) => break,
            }
        }
        if self.pending.len() <= max {
            return Ok(std::mem::take(&mut self.pending));
        }
        let rest = self.pending.split_off(max);
        Ok(std::mem::replace(&mut self.pending, rest))
    }

    fn accept(&mut self, item: Item) -> Result<(), Error> {
        match item {
            Item::Records { records, .. } => {
                self.pending.extend(records);
                Ok(())
            }
            Item::Failed(error) => Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_connect::api::SchemaAndValue;

    fn record(n: usize) -> SourceRecord {
        SourceRecord::new(
            Default::default(),
            Default::default(),
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
        assert_eq!(
            (first[0].topic.as_str(), second[0].topic.as_str()),
            ("t1", "t2")
        );
        sender.fail(Error::CopyFormat {
            table: "t".into(),
            reason: "x".into(),
        });
        assert!(receiver.take(5, Duration::from_millis(10)).await.is_err());
    }
}
