//! Opening existing segments: the active (tail) segment is validated batch by batch (length,
//! magic, CRC, dense offsets) and truncated after the last valid batch, with its indexes
//! rebuilt; sealed segments trust consistent index files and otherwise are re-validated, with
//! corruption logged loudly and refused at read time instead of served.

use std::fs::{File, OpenOptions};
use std::path::Path;
use std::sync::atomic::Ordering;

use super::cursor::{BatchCursor, CrcCheck, CursorError};
use super::index::SegmentIndex;
use super::io_error;
use super::segment::{SCAN_CHUNK, Segment};
use crate::codec::DecodeError;
use crate::error::{Error, Result};
use crate::types::Offset;

/// How batch offsets must follow each other during a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OffsetRule {
    /// Appended data: each batch starts right after the previous one.
    Dense,
    /// Compacted data may have gaps, but offsets still only grow.
    Increasing,
}

/// What a full validation scan found.
#[derive(Debug)]
pub struct ScanReport {
    /// Where valid data ends.
    pub valid_len: u64,
    /// The first invalid bytes, if any, and why they are invalid.
    pub problem: Option<(u64, DecodeError)>,
}

impl Segment {
    pub(super) fn open_file(log_path: &Path) -> Result<File> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .open(log_path)
            .map_err(io_error(format!("opening segment {}", log_path.display())))
    }

    /// Opens the active (last) segment: every batch is validated (length, magic, CRC, offsets)
    /// and the file is truncated after the last valid one; indexes are rebuilt from the scan.
    pub fn recover_tail(
        log_path: &Path,
        base_offset: Offset,
        index_interval_bytes: u64,
    ) -> Result<(Segment, ScanReport)> {
        let file = Segment::open_file(log_path)?;
        let segment = Segment::assemble(
            base_offset,
            log_path.to_path_buf(),
            file,
            SegmentIndex::empty(log_path),
            index_interval_bytes,
        );
        segment.index.lock().reset().map_err(io_error(format!(
            "clearing indexes of {}",
            log_path.display()
        )))?;
        let report = segment.scan_and_index(OffsetRule::Dense)?;
        if let Some((position, _)) = &report.problem {
            segment
                .file
                .set_len(*position)
                .and_then(|()| segment.file.sync_all())
                .map_err(io_error(format!(
                    "truncating torn tail of {}",
                    log_path.display()
                )))?;
        }
        segment
            .readable_len
            .store(report.valid_len, Ordering::Release);
        Ok((segment, report))
    }

    /// Opens a sealed segment. Valid index files are trusted and only the stretch after the
    /// last index entry is walked (headers only); otherwise the whole file is validated and the
    /// indexes rebuilt. Corruption is logged loudly and left in place: reads of it fail with
    /// [`Error::Corrupt`] instead of serving it.
    pub fn open_sealed(
        log_path: &Path,
        base_offset: Offset,
        index_interval_bytes: u64,
    ) -> Result<Segment> {
        let file = Segment::open_file(log_path)?;
        let file_len = file
            .metadata()
            .map_err(io_error(format!("reading size of {}", log_path.display())))?
            .len();
        let loaded = SegmentIndex::load(log_path, file_len).map_err(io_error(format!(
            "reading indexes of {}",
            log_path.display()
        )))?;
        let rebuild = loaded.is_none();
        let index = loaded.unwrap_or_else(|| SegmentIndex::empty(log_path));
        let segment = Segment::assemble(
            base_offset,
            log_path.to_path_buf(),
            file,
            index,
            index_interval_bytes,
        );
        let report = if rebuild {
            segment.index.lock().reset().map_err(io_error(format!(
                "clearing indexes of {}",
                log_path.display()
            )))?;
            let report = segment.scan_and_index(OffsetRule::Increasing)?;
            segment.index.lock().sync().map_err(io_error(format!(
                "writing indexes of {}",
                log_path.display()
            )))?;
            report
        } else {
            segment.scan_tail_headers()?
        };
        if let Some((position, problem)) = &report.problem {
            tracing::error!(
                segment = %log_path.display(),
                position,
                %problem,
                "sealed segment is corrupt; reads reaching it will fail until it is repaired or removed"
            );
        }
        let mut state = segment.state.lock();
        state.size = file_len;
        drop(state);
        segment.readable_len.store(file_len, Ordering::Release);
        Ok(segment)
    }

    fn file_len(&self) -> Result<u64> {
        let metadata = self.file.metadata().map_err(io_error(format!(
            "reading size of {}",
            self.log_path.display()
        )))?;
        Ok(metadata.len())
    }

    /// Walks batches from the start, building the indexes, until the end or the first invalid
    /// batch (which is reported, not returned as an error).
    fn scan_and_index(&self, rule: OffsetRule) -> Result<ScanReport> {
        let file_len = self.file_len()?;
        self.scan_from(0, file_len, CrcCheck::Verify, rule, true)
    }

    /// Walks only the batches after the last index entry, to learn the segment's last offset
    /// and max timestamp and check that the file ends on a batch boundary.
    fn scan_tail_headers(&self) -> Result<ScanReport> {
        let file_len = self.file_len()?;
        let (start, start_offset, max_before) = {
            let index = self.index.lock();
            match index.last_offset_entry() {
                Some(entry) => (
                    u64::from(entry.position),
                    self.base_offset.plus(i64::from(entry.relative_offset)),
                    index.last_max_timestamp().unwrap_or(i64::MIN),
                ),
                None => (0, self.base_offset, i64::MIN),
            }
        };
        {
            let mut state = self.state.lock();
            state.next_offset = start_offset;
            state.max_timestamp = max_before;
        }
        self.scan_from(
            start,
            file_len,
            CrcCheck::Skip,
            OffsetRule::Increasing,
            false,
        )
    }

    fn scan_from(
        &self,
        start: u64,
        file_len: u64,
        crc: CrcCheck,
        rule: OffsetRule,
        build_index: bool,
    ) -> Result<ScanReport> {
        let mut cursor = BatchCursor::new(&self.file, start, file_len, SCAN_CHUNK, crc);
        let mut problem = None;
        while let Some(next) = cursor.next_batch() {
            match next {
                Ok(batch) => {
                    let expected = self.state.lock().next_offset;
                    let header = &batch.header;
                    let out_of_order = match rule {
                        OffsetRule::Dense => header.base_offset != expected,
                        OffsetRule::Increasing => header.base_offset < expected,
                    };
                    if out_of_order || header.last_offset() < header.base_offset {
                        problem = Some((
                            batch.position,
                            DecodeError::OffsetOrder {
                                expected: expected.0,
                                found: batch.header.base_offset.0,
                            },
                        ));
                        break;
                    }
                    self.note_batch(batch.position, &batch.header, build_index);
                }
                Err(CursorError::Invalid { position, source }) => {
                    problem = Some((position, source));
                    break;
                }
                Err(CursorError::Io(source)) => {
                    return Err(Error::Io {
                        context: format!("reading {}", self.log_path.display()),
                        source,
                    });
                }
            }
        }
        let valid_len = problem.as_ref().map_or(file_len, |(p, _)| *p);
        Ok(ScanReport { valid_len, problem })
    }
}
