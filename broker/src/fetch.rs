//! Fetching: reading from an offset with byte and record limits, long-polling for new data
//! (woken by the partition's high-watermark watch, never by sleeping), and ListOffsets.

use std::time::Duration;

use bytes::Bytes;

use crate::broker::{Broker, blocking};
use crate::codec::batch::decode_records;
use crate::error::{Error, Result};
use crate::log::LogRead;
use crate::types::{FetchedRecord, Offset, PartitionId};

/// Bounds of one fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchLimits {
    /// Stop adding batches past this many bytes (at least one batch is returned if any exists).
    pub max_bytes: usize,
    /// Return at most this many records.
    pub max_records: usize,
    /// How long to wait for data when none is available at the offset yet.
    pub max_wait: Duration,
}

impl Default for FetchLimits {
    fn default() -> Self {
        FetchLimits {
            max_bytes: 1 << 20,
            max_records: 10_000,
            max_wait: Duration::from_millis(500),
        }
    }
}

/// The outcome of a fetch.
#[derive(Debug, Clone)]
pub struct FetchResult {
    /// Decoded records from the requested offset on, in offset order.
    pub records: Vec<FetchedRecord>,
    /// The stored RecordBatch v2 bytes the records came from, exactly as on disk (the first may
    /// start before the requested offset, as in Kafka). For serving the Kafka Fetch protocol.
    pub batches: Vec<Bytes>,
    /// Where the next fetch should start (past compaction gaps too).
    pub next_offset: Offset,
    /// One past the last readable offset.
    pub high_watermark: Offset,
    /// The first offset still held.
    pub log_start_offset: Offset,
}

/// A ListOffsets query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetSpec {
    /// The log start offset.
    Earliest,
    /// The high watermark (the offset the next record will get once durable).
    Latest,
    /// The first offset whose record timestamp is at or after this time (epoch ms).
    Timestamp(i64),
}

impl Broker {
    /// Reads from `offset`. If nothing is available there yet, waits up to `limits.max_wait`
    /// for an append to arrive, then returns whatever is there (possibly nothing).
    pub async fn fetch(
        &self,
        topic: &str,
        partition: PartitionId,
        offset: Offset,
        limits: FetchLimits,
    ) -> Result<FetchResult> {
        let log = self.partition_log(topic, partition)?;
        let deadline = tokio::time::Instant::now() + limits.max_wait;
        // Subscribed before the first read so an append between read and wait is not missed.
        let mut watermark = log.subscribe();
        loop {
            let result = if offset == log.high_watermark() && offset >= log.log_start_offset() {
                empty_result(offset, log.high_watermark(), log.log_start_offset())
            } else {
                let reader = log.clone();
                let read = blocking(move || reader.read(offset, limits.max_bytes)).await?;
                let result = to_fetch_result(read, offset, limits.max_records, log.name())?;
                let served: usize = result.batches.iter().map(|batch| batch.len()).sum();
                self.inner.traffic.served(served as u64);
                result
            };
            if !result.records.is_empty()
                || result.next_offset > offset
                || tokio::time::Instant::now() >= deadline
            {
                return Ok(result);
            }
            let more =
                tokio::time::timeout_at(deadline, watermark.wait_for(|hw| *hw > offset)).await;
            if !matches!(more, Ok(Ok(_))) {
                return Ok(empty_result(
                    offset,
                    log.high_watermark(),
                    log.log_start_offset(),
                ));
            }
        }
    }

    /// Kafka ListOffsets for one partition. `Timestamp` returns `None` when every record is
    /// older than the time.
    pub async fn list_offsets(
        &self,
        topic: &str,
        partition: PartitionId,
        spec: OffsetSpec,
    ) -> Result<Option<Offset>> {
        let log = self.partition_log(topic, partition)?;
        match spec {
            OffsetSpec::Earliest => Ok(Some(log.log_start_offset())),
            OffsetSpec::Latest => Ok(Some(log.high_watermark())),
            OffsetSpec::Timestamp(ts) => blocking(move || log.offset_for_timestamp(ts))
                .await
                .map(|found| found.map(|(offset, _)| offset)),
        }
    }
}

fn empty_result(offset: Offset, high_watermark: Offset, log_start_offset: Offset) -> FetchResult {
    FetchResult {
        records: Vec::new(),
        batches: Vec::new(),
        next_offset: offset,
        high_watermark,
        log_start_offset,
    }
}

/// Decodes the read batches, dropping records before `offset` and stopping at `max_records`;
/// raw batches are trimmed to those the returned records came from.
fn to_fetch_result(
    read: LogRead,
    offset: Offset,
    max_records: usize,
    log: &str,
) -> Result<FetchResult> {
    let mut result = empty_result(offset, read.high_watermark, read.log_start_offset);
    for batch in read.batches {
        if result.records.len() >= max_records.max(1) {
            break;
        }
        let records = decode_records(&batch.bytes).map_err(|source| Error::Corrupt {
            path: log.into(),
            position: batch.position,
            source,
        })?;
        let mut batch_complete = true;
        for record in records {
            if record.offset < offset || record.offset >= read.high_watermark {
                continue;
            }
            if result.records.len() >= max_records.max(1) {
                batch_complete = false;
                break;
            }
            result.next_offset = record.offset.plus(1);
            result.records.push(record);
        }
        if batch_complete {
            // Compaction may have removed the batch's last records; its range still counts.
            result.next_offset = result
                .next_offset
                .max(batch.header.last_offset().plus(1))
                .min(read.high_watermark);
        }
        result.batches.push(batch.bytes);
    }
    Ok(result)
}
