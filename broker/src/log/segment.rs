//! One segment of a partition: a `{base_offset:020}.log` file of RecordBatch v2 batches plus its
//! sparse indexes. Appends go through the partition, which serialises them; reads are
//! positioned and need no lock on the file. Opening existing files is in [`super::recovery`].

use std::fs::{File, OpenOptions};
use std::io::{self, IoSlice, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use parking_lot::Mutex;

use super::cursor::{BatchCursor, CrcCheck, CursorError, StoredBatch};
use super::index::{OffsetEntry, SegmentIndex};
use super::io_error;
use crate::codec::BatchHeader;
use crate::error::{Error, Result};
use crate::types::Offset;

/// Read-ahead used when scanning a whole segment.
pub(super) const SCAN_CHUNK: usize = 1 << 20;

/// The file name of the segment starting at `base`.
pub fn log_file_name(base: Offset) -> String {
    format!("{:020}.log", base.0)
}

/// Mutable facts about a segment, changed by appends (under the partition's append lock).
#[derive(Debug)]
pub(super) struct SegmentState {
    pub(super) size: u64,
    pub(super) next_offset: Offset,
    pub(super) max_timestamp: i64,
    pub(super) bytes_since_index: u64,
    pub(super) created: Instant,
}

/// A segment file and its indexes.
#[derive(Debug)]
pub struct Segment {
    pub(super) base_offset: Offset,
    pub(super) log_path: PathBuf,
    pub(super) file: File,
    pub(super) index_interval_bytes: u64,
    pub(super) index: Mutex<SegmentIndex>,
    pub(super) state: Mutex<SegmentState>,
    /// Bytes readers may see: a batch boundary at or before `size`.
    pub(super) readable_len: AtomicU64,
}

impl Segment {
    /// Creates an empty segment file in `dir` starting at `base_offset`.
    pub fn create(dir: &Path, base_offset: Offset, index_interval_bytes: u64) -> Result<Segment> {
        let log_path = dir.join(log_file_name(base_offset));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&log_path)
            .map_err(io_error(format!("creating segment {}", log_path.display())))?;
        let mut index = SegmentIndex::empty(&log_path);
        index.reset().map_err(io_error(format!(
            "clearing stale indexes of {}",
            log_path.display()
        )))?;
        Ok(Segment::assemble(
            base_offset,
            log_path,
            file,
            index,
            index_interval_bytes,
        ))
    }

    pub(super) fn assemble(
        base_offset: Offset,
        log_path: PathBuf,
        file: File,
        index: SegmentIndex,
        index_interval_bytes: u64,
    ) -> Segment {
        Segment {
            base_offset,
            log_path,
            file,
            index_interval_bytes,
            index: Mutex::new(index),
            state: Mutex::new(SegmentState {
                size: 0,
                next_offset: base_offset,
                max_timestamp: i64::MIN,
                bytes_since_index: 0,
                created: Instant::now(),
            }),
            readable_len: AtomicU64::new(0),
        }
    }

    /// Records a batch written (or found) at `position` in the segment state and indexes.
    pub(super) fn note_batch(&self, position: u64, header: &BatchHeader, build_index: bool) {
        let mut state = self.state.lock();
        if build_index && position > 0 && state.bytes_since_index >= self.index_interval_bytes {
            let entry = OffsetEntry {
                relative_offset: (header.base_offset.0 - self.base_offset.0) as u32,
                position: position as u32,
            };
            self.index.lock().push(entry, state.max_timestamp);
            state.bytes_since_index = 0;
        }
        let len = header.total_len() as u64;
        state.bytes_since_index += len;
        state.size = position + len;
        state.next_offset = header.last_offset().plus(1);
        state.max_timestamp = state.max_timestamp.max(header.max_timestamp);
    }

    /// Appends one encoded batch at the end of the file (not yet synced). On failure the file
    /// is cut back to its previous length so no partial batch stays behind.
    pub fn append(&self, batch: &[u8], header: &BatchHeader) -> Result<()> {
        self.append_vectored(&mut [IoSlice::new(batch)], header)
    }

    /// [`Self::append`] for a batch given as consecutive slices (its `header` describes them
    /// all), written with vectored writes so the slices need not be copied together first.
    /// Callers serialise appends (the partition's append lock): the write goes through the
    /// file's own position, set to the end of the segment first.
    pub fn append_vectored(&self, batch: &mut [IoSlice<'_>], header: &BatchHeader) -> Result<()> {
        let position = self.state.lock().size;
        if let Err(source) = write_all_vectored_at(&self.file, batch, position) {
            let _ = self.file.set_len(position);
            return Err(Error::Io {
                context: format!("appending to {}", self.log_path.display()),
                source,
            });
        }
        self.note_batch(position, header, true);
        Ok(())
    }

    /// Flushes the log data to stable storage (fdatasync).
    pub fn sync_data(&self) -> Result<()> {
        self.file
            .sync_data()
            .map_err(io_error(format!("fsync of {}", self.log_path.display())))
    }

    /// Makes the segment immutable: data and indexes synced, everything readable.
    pub fn seal(&self) -> Result<()> {
        self.sync_data()?;
        self.index.lock().sync().map_err(io_error(format!(
            "syncing indexes of {}",
            self.log_path.display()
        )))?;
        self.mark_readable(self.size());
        Ok(())
    }

    /// Lets readers see bytes up to `len` (a batch boundary that is durable per policy).
    pub fn mark_readable(&self, len: u64) {
        self.readable_len.fetch_max(len, Ordering::AcqRel);
    }

    pub fn readable_len(&self) -> u64 {
        self.readable_len.load(Ordering::Acquire)
    }

    pub fn base_offset(&self) -> Offset {
        self.base_offset
    }

    /// One past the last offset written to this segment.
    pub fn next_offset(&self) -> Offset {
        self.state.lock().next_offset
    }

    pub fn size(&self) -> u64 {
        self.state.lock().size
    }

    /// The largest record timestamp in the segment (`i64::MIN` when empty).
    pub fn max_timestamp(&self) -> i64 {
        self.state.lock().max_timestamp
    }

    /// When this process created or opened the segment (for `segment.ms` rolling).
    pub fn created(&self) -> Instant {
        self.state.lock().created
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// A cursor over CRC-checked batches, starting at the indexed batch at or before `from`.
    pub fn cursor_from_offset(&self, from: Offset, chunk_size: usize) -> BatchCursor<'_> {
        let relative = (from.0 - self.base_offset.0).clamp(0, i64::from(u32::MAX)) as u32;
        let position = self.index.lock().position_for(relative);
        BatchCursor::new(
            &self.file,
            u64::from(position),
            self.readable_len(),
            chunk_size,
            CrcCheck::Verify,
        )
    }

    /// A cursor starting where the first record with timestamp `>= timestamp` may be.
    pub fn cursor_from_timestamp(&self, timestamp: i64, chunk_size: usize) -> BatchCursor<'_> {
        let position = self.index.lock().position_for_timestamp(timestamp);
        BatchCursor::new(
            &self.file,
            u64::from(position),
            self.readable_len(),
            chunk_size,
            CrcCheck::Verify,
        )
    }

    /// Turns a cursor error into the crate error, logging corruption loudly.
    pub fn cursor_error(&self, error: CursorError) -> Error {
        match error {
            CursorError::Invalid { position, source } => {
                tracing::error!(segment = %self.log_path.display(), position, %source, "refusing to serve corrupt batch");
                Error::Corrupt {
                    path: self.log_path.clone(),
                    position,
                    source,
                }
            }
            CursorError::Io(source) => Error::Io {
                context: format!("reading {}", self.log_path.display()),
                source,
            },
        }
    }

    /// Deletes the log and index files (the open handle keeps serving in-flight reads).
    pub fn delete_files(&self) -> Result<()> {
        std::fs::remove_file(&self.log_path)
            .map_err(io_error(format!("deleting {}", self.log_path.display())))?;
        self.index.lock().remove_files().map_err(io_error(format!(
            "deleting indexes of {}",
            self.log_path.display()
        )))
    }

    /// Deletes only the index files (before a rewritten log replaces this one).
    pub fn delete_index_files(&self) -> Result<()> {
        self.index.lock().remove_files().map_err(io_error(format!(
            "deleting indexes of {}",
            self.log_path.display()
        )))
    }

    pub fn index_interval_bytes(&self) -> u64 {
        self.index_interval_bytes
    }

    /// Every valid batch of the segment, for compaction.
    pub fn batches(&self) -> impl Iterator<Item = Result<StoredBatch>> + '_ {
        let mut cursor = BatchCursor::new(
            &self.file,
            0,
            self.readable_len(),
            SCAN_CHUNK,
            CrcCheck::Verify,
        );
        std::iter::from_fn(move || {
            cursor
                .next_batch()
                .map(|r| r.map_err(|e| self.cursor_error(e)))
        })
    }
}

/// Writes every byte of `slices` at `position`: several slices go through the file's
/// position (std has no stable positioned vectored write); retries short writes and
/// interrupts.
fn write_all_vectored_at(
    mut file: &File,
    mut slices: &mut [IoSlice<'_>],
    position: u64,
) -> io::Result<()> {
    if let [whole] = slices {
        // One slice (no field written by reference): one positioned write, no seek.
        return file.write_all_at(whole, position);
    }
    file.seek(SeekFrom::Start(position))?;
    IoSlice::advance_slices(&mut slices, 0);
    while !slices.is_empty() {
        match file.write_vectored(slices) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(written) => IoSlice::advance_slices(&mut slices, written),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
