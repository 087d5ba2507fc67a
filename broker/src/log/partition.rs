//! A partition's log: an ordered list of segments, the last one active. Appends assign dense
//! offsets and are made durable per the fsync policy with group commit: appenders write under a
//! short lock, then queue on the sync lock, and one fdatasync covers every append written
//! before it started. Readers see data only up to the high watermark (durable data under
//! `EveryAppend`) and never take the append lock.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Instant;

use parking_lot::Mutex;
use tokio::sync::watch;

use super::segment::Segment;
use super::{LogConfig, io_error, sync_dir};
use crate::codec::batch::encode_batch_vectored;
use crate::codec::batch_buf::framed_len;
use crate::codec::{BATCH_HEADER_LEN, DecodeError, VectoredBatch};
use crate::config::FsyncPolicy;
use crate::error::{Error, Result};
use crate::types::{Offset, Record};

/// Offsets assigned to one append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendInfo {
    pub base_offset: Offset,
    pub last_offset: Offset,
}

/// What recovery cut off the active segment when the partition was opened.
#[derive(Debug)]
pub struct TornTail {
    pub segment: PathBuf,
    pub position: u64,
    pub reason: DecodeError,
}

#[derive(Debug)]
struct AppendState {
    active: Arc<Segment>,
    next_offset: Offset,
    failed: bool,
}

#[derive(Debug)]
struct SyncState {
    durable: Offset,
    last_sync: Instant,
}

/// The log of one partition.
#[derive(Debug)]
pub struct PartitionLog {
    name: String,
    dir: PathBuf,
    pub(super) config: LogConfig,
    appends: Mutex<AppendState>,
    /// Copy-on-write list so readers take a snapshot without blocking appends.
    pub(super) segments: Mutex<Arc<Vec<Arc<Segment>>>>,
    sync: Mutex<SyncState>,
    fsyncs: AtomicU64,
    high_watermark: watch::Sender<Offset>,
    pub(super) log_start: AtomicI64,
    /// The active segment's base at the last compaction: later passes with the same active
    /// segment have no new sealed data to clean and are skipped.
    pub(super) compacted_before: AtomicI64,
    torn_tail: Option<TornTail>,
}

impl PartitionLog {
    /// Opens (or creates) the partition in `dir`, validating the active segment and truncating
    /// a torn tail. `name` (`topic-partition`) is used in errors and logs.
    pub fn open(dir: &Path, name: String, config: LogConfig) -> Result<PartitionLog> {
        std::fs::create_dir_all(dir).map_err(io_error(format!("creating {}", dir.display())))?;
        let bases = list_segments(dir)?;
        let mut segments = Vec::with_capacity(bases.len().max(1));
        let mut torn_tail = None;
        if let Some((&last, sealed)) = bases.split_last() {
            for &base in sealed {
                let path = dir.join(super::segment::log_file_name(base));
                segments.push(Arc::new(Segment::open_sealed(
                    &path,
                    base,
                    config.index_interval_bytes,
                )?));
            }
            let path = dir.join(super::segment::log_file_name(last));
            let (tail, report) = Segment::recover_tail(&path, last, config.index_interval_bytes)?;
            if let Some((position, reason)) = report.problem {
                tracing::warn!(log = %name, segment = %path.display(), position, %reason, "truncated torn or corrupt tail");
                torn_tail = Some(TornTail {
                    segment: path,
                    position,
                    reason,
                });
            }
            segments.push(Arc::new(tail));
        } else {
            segments.push(Arc::new(Segment::create(
                dir,
                Offset(0),
                config.index_interval_bytes,
            )?));
            sync_dir(dir)?;
        }
        let active = segments.last().expect("at least one segment").clone();
        let next_offset = active.next_offset();
        let log_start = segments[0].base_offset();
        Ok(PartitionLog {
            name,
            dir: dir.to_path_buf(),
            config,
            appends: Mutex::new(AppendState {
                active,
                next_offset,
                failed: false,
            }),
            segments: Mutex::new(Arc::new(segments)),
            sync: Mutex::new(SyncState {
                durable: next_offset,
                last_sync: Instant::now(),
            }),
            fsyncs: AtomicU64::new(0),
            high_watermark: watch::Sender::new(next_offset),
            log_start: AtomicI64::new(log_start.0),
            compacted_before: AtomicI64::new(-1),
            torn_tail,
        })
    }

    /// `topic-partition`, as used in errors.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What recovery truncated when this partition was opened, if anything.
    pub fn torn_tail(&self) -> Option<&TornTail> {
        self.torn_tail.as_ref()
    }

    /// One past the last offset readers may see.
    pub fn high_watermark(&self) -> Offset {
        *self.high_watermark.borrow()
    }

    /// The first offset still held (retention moves it forward).
    pub fn log_start_offset(&self) -> Offset {
        Offset(self.log_start.load(Ordering::Acquire))
    }

    /// A receiver that changes whenever the high watermark advances (for long-polling).
    pub fn subscribe(&self) -> watch::Receiver<Offset> {
        self.high_watermark.subscribe()
    }

    /// How many group-commit fsyncs this partition has done since it was opened.
    pub fn fsync_count(&self) -> u64 {
        self.fsyncs.load(Ordering::Relaxed)
    }

    /// How many long-poll waiters (watch receivers) exist right now.
    pub fn waiting_readers(&self) -> usize {
        self.high_watermark.receiver_count()
    }

    /// Total bytes of all segments.
    pub fn size_bytes(&self) -> u64 {
        self.segment_snapshot().iter().map(|s| s.size()).sum()
    }

    pub(super) fn segment_snapshot(&self) -> Arc<Vec<Arc<Segment>>> {
        self.segments.lock().clone()
    }

    /// Appends `records` as one batch at the next offsets and returns once the batch is
    /// durable per the fsync policy.
    pub fn append(&self, records: &[Record]) -> Result<AppendInfo> {
        // Large uncompressed keys and values go from the records' buffers straight to the file.
        // A compressed records section goes into the framing too (growing it if needed).
        let framing_hint = framing_size_hint(records);
        let Some(mut batch) =
            encode_batch_vectored(Offset(0), records, self.config.codec, framing_hint)
        else {
            return Err(Error::EmptyBatch);
        };
        if batch.len() > self.config.max_batch_bytes {
            return Err(Error::BatchTooLarge {
                size: batch.len(),
                limit: self.config.max_batch_bytes,
            });
        }
        let (info, written_through) = self.write(&mut batch)?;
        match self.config.fsync {
            FsyncPolicy::EveryAppend => self.sync_through(written_through)?,
            FsyncPolicy::Interval(interval) => {
                let due = self
                    .sync
                    .try_lock()
                    .is_some_and(|s| s.last_sync.elapsed() >= interval);
                if due {
                    self.flush()?;
                }
            }
        }
        Ok(info)
    }

    /// Writes an encoded batch at the next offset (not yet synced).
    fn write(&self, batch: &mut VectoredBatch<'_>) -> Result<(AppendInfo, Offset)> {
        let mut state = self.appends.lock();
        if state.failed {
            return Err(self.failed_error());
        }
        if self.should_roll(&state, batch.len())
            && let Err(e) = self.roll(&mut state)
        {
            state.failed = true;
            return Err(e);
        }
        let base_offset = state.next_offset;
        batch.set_base_offset(base_offset);
        let header = batch.header();
        if let Err(e) = state
            .active
            .append_vectored(&mut batch.io_slices(), &header)
        {
            state.failed = true;
            return Err(e);
        }
        state.next_offset = header.last_offset().plus(1);
        if let FsyncPolicy::Interval(_) = self.config.fsync {
            // Acknowledged before fsync, so visible right away; under the lock to stay ordered.
            state.active.mark_readable(state.active.size());
            self.publish_high_watermark(state.next_offset);
        }
        let info = AppendInfo {
            base_offset,
            last_offset: header.last_offset(),
        };
        Ok((info, state.next_offset))
    }

    fn should_roll(&self, state: &AppendState, incoming: usize) -> bool {
        let active = &state.active;
        let size = active.size();
        size > 0
            && (size + incoming as u64 > self.config.segment_bytes
                || active.created().elapsed() >= self.config.segment_age
                || state.next_offset.0 - active.base_offset().0 > i64::from(i32::MAX))
    }

    /// Seals the active segment (fsync of data and indexes) and starts a new one.
    fn roll(&self, state: &mut AppendState) -> Result<()> {
        state.active.seal()?;
        let segment = Arc::new(Segment::create(
            &self.dir,
            state.next_offset,
            self.config.index_interval_bytes,
        )?);
        sync_dir(&self.dir)?;
        let mut segments = self.segments.lock();
        let mut list = Vec::clone(&segments);
        list.push(segment.clone());
        *segments = Arc::new(list);
        state.active = segment;
        Ok(())
    }

    /// Makes everything written so far durable (used by the interval flusher and shutdown).
    pub fn flush(&self) -> Result<()> {
        let target = self.appends.lock().next_offset;
        self.sync_through(target)
    }

    /// Group commit: returns once offsets below `target` are durable. Callers queue on the sync
    /// lock; whoever holds it fsyncs everything written so far, covering all queued callers.
    fn sync_through(&self, target: Offset) -> Result<()> {
        let mut sync = self.sync.lock();
        if sync.durable >= target {
            return Ok(());
        }
        let (active, written, readable) = {
            let state = self.appends.lock();
            if state.failed {
                return Err(self.failed_error());
            }
            (state.active.clone(), state.next_offset, state.active.size())
        };
        // Earlier segments were synced when they were sealed.
        if let Err(e) = active.sync_data() {
            // After a failed fsync the page cache state is unknown (fsyncgate): stop writing.
            self.appends.lock().failed = true;
            return Err(e);
        }
        self.fsyncs.fetch_add(1, Ordering::Relaxed);
        sync.durable = written;
        sync.last_sync = Instant::now();
        active.mark_readable(readable);
        self.publish_high_watermark(written);
        Ok(())
    }

    fn publish_high_watermark(&self, offset: Offset) {
        self.high_watermark.send_if_modified(|hw| {
            let advanced = offset > *hw;
            if advanced {
                *hw = offset;
            }
            advanced
        });
    }

    fn failed_error(&self) -> Error {
        Error::PartitionFailed {
            log: self.name.clone(),
        }
    }
}

/// A close upper estimate of a vectored batch's framing size, so encoding allocates once.
fn framing_size_hint(records: &[Record]) -> usize {
    let field = |b: Option<&[u8]>| b.map_or(0, |b| framed_len(b.len())) + 5;
    BATCH_HEADER_LEN
        + records
            .iter()
            .map(|r| {
                24 + field(r.key.as_deref())
                    + field(r.value.as_deref())
                    + r.headers
                        .iter()
                        .map(|h| h.key.len() + 5 + field(h.value.as_deref()))
                        .sum::<usize>()
            })
            .sum::<usize>()
}

/// Base offsets of the `.log` files in `dir`, sorted; removes leftovers of interrupted
/// compactions (`*.cleaned`).
fn list_segments(dir: &Path) -> Result<Vec<Offset>> {
    let mut bases = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(io_error(format!("listing {}", dir.display())))?;
    for entry in entries {
        let entry = entry.map_err(io_error(format!("listing {}", dir.display())))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.ends_with(".cleaned") {
            std::fs::remove_file(entry.path()).map_err(io_error(format!(
                "removing leftover {}",
                entry.path().display()
            )))?;
        } else if let Some(stem) = name.strip_suffix(".log")
            && stem.len() == 20
            && let Ok(base) = stem.parse::<i64>()
        {
            bases.push(Offset(base));
        }
    }
    bases.sort();
    Ok(bases)
}
