//! Log compaction (`cleanup.policy=compact`): in sealed segments, keep only the latest record
//! of each key (anywhere in the log up to the high watermark), and drop tombstones whose batch
//! is older than `delete.retention.ms`. Each changed segment is rewritten to a `.cleaned` temp
//! file, fsync'ed, and renamed over the original; batches keep their base offset and offset
//! range, so offsets are preserved and gaps appear where records were removed.

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;

use super::partition::PartitionLog;
use super::segment::Segment;
use super::{io_error, sync_dir};
use crate::codec::batch::{BatchLayout, batch_codec, decode_records, encode_batch_entries_with};
use crate::error::{Error, Result};
use crate::types::{FetchedRecord, Offset};

/// What one compaction pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CompactionReport {
    pub segments_rewritten: usize,
    pub records_removed: u64,
}

impl PartitionLog {
    /// Compacts the sealed segments. `delete_retention_ms` is how long tombstones stay
    /// readable so consumers can see deletions.
    ///
    /// A pass runs only when segments were sealed since the previous one (like Kafka, which
    /// cleans only dirty logs); tombstones that expire meanwhile go in the next such pass.
    pub fn compact(&self, delete_retention_ms: i64, now_ms: i64) -> Result<CompactionReport> {
        let segments = self.segment_snapshot();
        let Some((active, sealed)) = segments.split_last() else {
            return Ok(CompactionReport::default());
        };
        let active_base = active.base_offset().0;
        if sealed.is_empty() || self.compacted_before.load(Ordering::Acquire) == active_base {
            return Ok(CompactionReport::default());
        }
        let latest = self.latest_offset_per_key(&segments)?;
        let tombstone_horizon = now_ms.saturating_sub(delete_retention_ms);
        let mut report = CompactionReport::default();
        for segment in sealed {
            if let Some((replacement, removed)) =
                rewrite_segment(segment, &latest, tombstone_horizon)?
            {
                self.replace_segment(segment, replacement);
                report.segments_rewritten += 1;
                report.records_removed += removed;
            }
        }
        self.compacted_before.store(active_base, Ordering::Release);
        Ok(report)
    }

    /// Key → offset of its latest record, over everything readers can see.
    fn latest_offset_per_key(&self, segments: &[Arc<Segment>]) -> Result<HashMap<Bytes, Offset>> {
        let high_watermark = self.high_watermark();
        let mut latest = HashMap::new();
        for segment in segments {
            for batch in segment.batches() {
                let batch = batch?;
                if batch.header.base_offset >= high_watermark {
                    break;
                }
                for record in decode(segment, batch.position, &batch.bytes)? {
                    if let Some(key) = &record.record.key
                        && record.offset < high_watermark
                    {
                        // Copy so the map does not pin whole read chunks in memory.
                        latest.insert(Bytes::copy_from_slice(key), record.offset);
                    }
                }
            }
        }
        Ok(latest)
    }

    fn replace_segment(&self, old: &Arc<Segment>, new: Segment) {
        let mut segments = self.segments.lock();
        let mut new = Some(Arc::new(new));
        let list = segments
            .iter()
            .map(|s| {
                if Arc::ptr_eq(s, old) {
                    new.take().unwrap_or_else(|| s.clone())
                } else {
                    s.clone()
                }
            })
            .collect();
        *segments = Arc::new(list);
    }
}

fn decode(segment: &Segment, position: u64, bytes: &Bytes) -> Result<Vec<FetchedRecord>> {
    decode_records(bytes).map_err(|source| Error::Corrupt {
        path: segment.log_path().to_path_buf(),
        position,
        source,
    })
}

/// Writes the compacted form of `segment` and swaps it in on disk; `None` when nothing in it
/// can be removed. Returns the reopened segment and the number of records removed.
fn rewrite_segment(
    segment: &Segment,
    latest: &HashMap<Bytes, Offset>,
    tombstone_horizon: i64,
) -> Result<Option<(Segment, u64)>> {
    let keep = |record: &FetchedRecord, batch_max_timestamp: i64| match &record.record.key {
        None => true,
        Some(key) => {
            latest.get(key) == Some(&record.offset)
                && !(record.record.value.is_none() && batch_max_timestamp < tombstone_horizon)
        }
    };
    // First pass decides whether a rewrite is needed at all, without writing.
    let mut removable = 0u64;
    for batch in segment.batches() {
        let batch = batch?;
        let records = decode(segment, batch.position, &batch.bytes)?;
        removable += records
            .iter()
            .filter(|r| !keep(r, batch.header.max_timestamp))
            .count() as u64;
    }
    if removable == 0 {
        return Ok(None);
    }
    let log_path = segment.log_path().to_path_buf();
    let cleaned_path = PathBuf::from(format!("{}.cleaned", log_path.display()));
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&cleaned_path)
        .map_err(io_error(format!("creating {}", cleaned_path.display())))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut encoded = Vec::new();
    for batch in segment.batches() {
        let batch = batch?;
        let records = decode(segment, batch.position, &batch.bytes)?;
        let kept: Vec<&FetchedRecord> = records
            .iter()
            .filter(|r| keep(r, batch.header.max_timestamp))
            .collect();
        let bytes: &[u8] = if kept.len() == records.len() {
            &batch.bytes
        } else if kept.is_empty() {
            continue;
        } else {
            let header = &batch.header;
            let layout = BatchLayout {
                base_offset: header.base_offset,
                base_timestamp: header.base_timestamp,
                last_offset_delta: header.last_offset_delta,
            };
            encoded.clear();
            let entries = kept
                .iter()
                .map(|r| ((r.offset.0 - header.base_offset.0) as i32, &r.record));
            // A rewritten batch keeps the codec it was written with.
            let codec = batch_codec(header).map_err(|source| Error::Corrupt {
                path: log_path.clone(),
                position: batch.position,
                source,
            })?;
            encode_batch_entries_with(&mut encoded, layout, entries, codec);
            &encoded
        };
        out.write_all(bytes)
            .map_err(io_error(format!("writing {}", cleaned_path.display())))?;
    }
    let file = out.into_inner().map_err(|e| Error::Io {
        context: format!("writing {}", cleaned_path.display()),
        source: e.into_error(),
    })?;
    file.sync_all()
        .map_err(io_error(format!("fsync of {}", cleaned_path.display())))?;
    // Stale indexes must go before the rename: a crash in between then only leaves a segment
    // whose indexes are rebuilt on open.
    segment.delete_index_files()?;
    std::fs::rename(&cleaned_path, &log_path).map_err(io_error(format!(
        "renaming {} over {}",
        cleaned_path.display(),
        log_path.display()
    )))?;
    let dir = log_path
        .parent()
        .expect("segment files live in a partition directory");
    sync_dir(dir)?;
    let reopened = Segment::open_sealed(
        &log_path,
        segment.base_offset(),
        segment.index_interval_bytes(),
    )?;
    Ok(Some((reopened, removable)))
}
