//! Reading a partition: whole stored batches from an offset up to a byte budget (header peek
//! first, so no batch is read that will not be returned; offsets checked because baseOffset is
//! outside the CRC), and the Kafka ListOffsets by-timestamp lookup.

use super::cursor::{CursorError, StoredBatch};
use super::partition::PartitionLog;
use crate::codec::DecodeError;
use crate::codec::batch::decode_records;
use crate::error::{Error, Result};
use crate::types::Offset;

/// Whole stored batches returned by [`PartitionLog::read`].
#[derive(Debug, Clone)]
pub struct LogRead {
    pub batches: Vec<StoredBatch>,
    pub high_watermark: Offset,
    pub log_start_offset: Offset,
}

impl PartitionLog {
    /// Whole batches holding offsets from `from`, up to `max_bytes` (at least one batch when
    /// any is available, like Kafka), never past the high watermark. `from == high watermark`
    /// returns no batches.
    pub fn read(&self, from: Offset, max_bytes: usize) -> Result<LogRead> {
        let high_watermark = self.high_watermark();
        let segments = self.segment_snapshot();
        let log_start_offset = self.log_start_offset();
        let mut read = LogRead {
            batches: Vec::new(),
            high_watermark,
            log_start_offset,
        };
        if from < log_start_offset || from > high_watermark {
            return Err(Error::OffsetOutOfRange {
                log: self.name().to_owned(),
                requested: from,
                log_start: log_start_offset,
                high_watermark,
            });
        }
        let first = segments
            .partition_point(|s| s.base_offset() <= from)
            .saturating_sub(1);
        let chunk = max_bytes
            .saturating_add(self.config.index_interval_bytes as usize)
            .min(64 << 20);
        let mut bytes = 0usize;
        'segments: for segment in &segments[first..] {
            if segment.base_offset() >= high_watermark {
                break;
            }
            let mut cursor = segment.cursor_from_offset(from, chunk);
            let mut floor = segment.base_offset();
            while let Some(next) = cursor.next_header() {
                let (position, header) = next.map_err(|e| segment.cursor_error(e))?;
                // baseOffset is outside the CRC: refuse batches whose offsets go backwards.
                if header.base_offset < floor {
                    return Err(segment.cursor_error(CursorError::Invalid {
                        position,
                        source: DecodeError::OffsetOrder {
                            expected: floor.0,
                            found: header.base_offset.0,
                        },
                    }));
                }
                floor = header.last_offset().plus(1);
                if header.base_offset >= high_watermark {
                    break 'segments;
                }
                if header.last_offset() < from {
                    cursor.skip(&header);
                    continue;
                }
                let len = header.total_len();
                if !read.batches.is_empty() && bytes + len > max_bytes {
                    break 'segments;
                }
                let batch = cursor
                    .read_body(position, header)
                    .map_err(|e| segment.cursor_error(e))?;
                bytes += len;
                read.batches.push(batch);
                if bytes >= max_bytes {
                    break 'segments;
                }
                cursor.set_read_ahead(max_bytes - bytes);
            }
        }
        Ok(read)
    }

    /// The first offset whose record timestamp is `>= timestamp_ms` (Kafka ListOffsets by
    /// time), with that record's timestamp; `None` when every record is older.
    pub fn offset_for_timestamp(&self, timestamp_ms: i64) -> Result<Option<(Offset, i64)>> {
        let high_watermark = self.high_watermark();
        for segment in self.segment_snapshot().iter() {
            if segment.base_offset() >= high_watermark {
                break;
            }
            if segment.max_timestamp() < timestamp_ms {
                continue;
            }
            let mut cursor = segment.cursor_from_timestamp(timestamp_ms, 1 << 20);
            while let Some(next) = cursor.next_batch() {
                let batch = next.map_err(|e| segment.cursor_error(e))?;
                if batch.header.base_offset >= high_watermark {
                    return Ok(None);
                }
                if batch.header.max_timestamp < timestamp_ms {
                    continue;
                }
                let records = decode_records(&batch.bytes).map_err(|source| Error::Corrupt {
                    path: segment.log_path().to_path_buf(),
                    position: batch.position,
                    source,
                })?;
                if let Some(found) = records
                    .iter()
                    .find(|r| r.record.timestamp_ms >= timestamp_ms && r.offset < high_watermark)
                {
                    return Ok(Some((found.offset, found.record.timestamp_ms)));
                }
            }
        }
        Ok(None)
    }
}
