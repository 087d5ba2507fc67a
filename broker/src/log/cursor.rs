//! Sequential, chunked reading of whole batches from a segment file with positioned reads, so
//! memory stays bounded by the chunk size however large the segment is.

use std::fs::File;
use std::os::unix::fs::FileExt;

use bytes::Bytes;

use crate::codec::batch::verify_crc;
use crate::codec::{BATCH_HEADER_LEN, BatchHeader, DecodeError};

/// Whether each batch's CRC is checked before it is handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrcCheck {
    Verify,
    Skip,
}

/// Why the cursor could not produce the next batch.
#[derive(Debug)]
pub enum CursorError {
    /// The bytes at `position` are not a valid batch.
    Invalid {
        position: u64,
        source: DecodeError,
    },
    Io(std::io::Error),
}

/// One batch read from a segment.
#[derive(Debug, Clone)]
pub struct StoredBatch {
    pub position: u64,
    pub header: BatchHeader,
    pub bytes: Bytes,
}

/// Reads consecutive batches from `position` up to `limit` (exclusive, a batch boundary).
#[derive(Debug)]
pub struct BatchCursor<'a> {
    file: &'a File,
    position: u64,
    limit: u64,
    chunk: Bytes,
    chunk_start: u64,
    chunk_size: usize,
    crc: CrcCheck,
}

impl<'a> BatchCursor<'a> {
    pub fn new(
        file: &'a File,
        position: u64,
        limit: u64,
        chunk_size: usize,
        crc: CrcCheck,
    ) -> Self {
        BatchCursor {
            file,
            position,
            limit,
            chunk: Bytes::new(),
            chunk_start: position,
            chunk_size: chunk_size.max(BATCH_HEADER_LEN),
            crc,
        }
    }

    /// The position of the next batch (after the last one returned).
    pub fn position(&self) -> u64 {
        self.position
    }

    /// How many bytes the next refill reads at most (at least the bytes asked for), so a
    /// reader near its byte budget does not read ahead what it will not use.
    pub fn set_read_ahead(&mut self, bytes: usize) {
        self.chunk_size = bytes.max(BATCH_HEADER_LEN);
    }

    /// The next batch, `None` at `limit`.
    pub fn next_batch(&mut self) -> Option<Result<StoredBatch, CursorError>> {
        let next = self.next_header()?;
        Some(next.and_then(|(position, header)| self.read_body(position, header)))
    }

    /// The position and header of the next batch without reading its records; follow with
    /// [`BatchCursor::read_body`] or [`BatchCursor::skip`].
    pub fn next_header(&mut self) -> Option<Result<(u64, BatchHeader), CursorError>> {
        if self.position >= self.limit {
            return None;
        }
        Some(self.read_header())
    }

    fn read_header(&mut self) -> Result<(u64, BatchHeader), CursorError> {
        let position = self.position;
        let invalid = |source| CursorError::Invalid { position, source };
        if self.limit - position < BATCH_HEADER_LEN as u64 {
            return Err(invalid(DecodeError::Truncated {
                what: "batch header",
            }));
        }
        let head = self.bytes_at(position, BATCH_HEADER_LEN)?;
        let header = BatchHeader::parse(&head).map_err(invalid)?;
        if (self.limit - position) < header.total_len() as u64 {
            return Err(invalid(DecodeError::Truncated { what: "batch" }));
        }
        Ok((position, header))
    }

    /// Moves past the batch whose header was just returned, without reading it.
    pub fn skip(&mut self, header: &BatchHeader) {
        self.position += header.total_len() as u64;
    }

    /// Reads (and CRC-checks, if asked) the batch whose header was just returned.
    pub fn read_body(
        &mut self,
        position: u64,
        header: BatchHeader,
    ) -> Result<StoredBatch, CursorError> {
        let bytes = self.bytes_at(position, header.total_len())?;
        if self.crc == CrcCheck::Verify {
            verify_crc(&bytes).map_err(|source| CursorError::Invalid { position, source })?;
        }
        self.position += bytes.len() as u64;
        Ok(StoredBatch {
            position,
            header,
            bytes,
        })
    }

    /// `len` bytes at `position`, served from the current chunk or a fresh read.
    fn bytes_at(&mut self, position: u64, len: usize) -> Result<Bytes, CursorError> {
        let chunk_end = self.chunk_start + self.chunk.len() as u64;
        if position < self.chunk_start || position + len as u64 > chunk_end {
            let available = (self.limit - position) as usize;
            let read_len = len.max(self.chunk_size.min(available));
            let mut buf = vec![0u8; read_len];
            self.file
                .read_exact_at(&mut buf, position)
                .map_err(CursorError::Io)?;
            self.chunk = Bytes::from(buf);
            self.chunk_start = position;
        }
        let at = (position - self.chunk_start) as usize;
        Ok(self.chunk.slice(at..at + len))
    }
}
