//! Where the batch encoder puts a batch's bytes: one contiguous `Vec<u8>` (compaction, tests,
//! anything that needs the batch as one slice), or a [`VectoredBatch`] that copies only the
//! framing and leaves large keys and values in the records' own buffers, so an append writes
//! them to the file straight from there (one vectored write) instead of copying every record
//! into a batch buffer first. Both produce the same bytes.

use std::io::IoSlice;

use super::batch::{BatchHeader, set_base_offset};
use crate::types::Offset;

/// Fields at least this long are written from the record's own buffer; shorter ones are
/// copied into the framing, where they cost less than an I/O vector entry of their own.
pub const BY_REFERENCE_MIN: usize = 512;

/// Where encoded records go; `'a` is the lifetime of the records being encoded.
pub(crate) trait RecordSink<'a> {
    /// The buffer framing bytes (varints, short fields) are appended to.
    fn framing(&mut self) -> &mut Vec<u8>;
    /// Appends the bytes of a key, value or header value.
    fn payload(&mut self, bytes: &'a [u8]);
}

/// The destination of a whole batch: records plus its header and CRC.
pub(crate) trait BatchBuf<'a>: RecordSink<'a> {
    /// Bytes encoded so far, payloads included.
    fn encoded_len(&self) -> usize;
    /// CRC-32C of the bytes from framing position `from` to the end, payloads included;
    /// `from` lies before the first payload (it is the batch's attributes field).
    fn crc_from(&self, from: usize) -> u32;
}

impl<'a> RecordSink<'a> for Vec<u8> {
    fn framing(&mut self) -> &mut Vec<u8> {
        self
    }

    fn payload(&mut self, bytes: &'a [u8]) {
        self.extend_from_slice(bytes);
    }
}

impl<'a> BatchBuf<'a> for Vec<u8> {
    fn encoded_len(&self) -> usize {
        self.len()
    }

    fn crc_from(&self, from: usize) -> u32 {
        crc32c::crc32c(&self[from..])
    }
}

/// One encoded batch as framing bytes plus the record fields it refers to, ready for a
/// vectored write. Its bytes, in order, are those of [`VectoredBatch::slices`].
#[derive(Debug, Default)]
pub struct VectoredBatch<'a> {
    framing: Vec<u8>,
    /// Fields written by reference, in order: each `(at, bytes)` sits between `framing[..at]`
    /// and `framing[at..]` (after the payloads listed before it).
    payloads: Vec<(usize, &'a [u8])>,
    payload_len: usize,
}

impl<'a> VectoredBatch<'a> {
    /// An empty batch whose framing has room for `framing_capacity` bytes.
    pub(crate) fn with_capacity(framing_capacity: usize) -> Self {
        VectoredBatch {
            framing: Vec::with_capacity(framing_capacity),
            payloads: Vec::new(),
            payload_len: 0,
        }
    }

    /// Size of the whole batch in bytes.
    pub fn len(&self) -> usize {
        self.framing.len() + self.payload_len
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The batch's fixed header (base offset, length, CRC, counts).
    pub fn header(&self) -> BatchHeader {
        BatchHeader::parse(&self.framing).expect("a batch encoded by this crate parses")
    }

    /// Rewrites the base offset; the CRC does not cover it.
    pub fn set_base_offset(&mut self, base_offset: Offset) {
        set_base_offset(&mut self.framing, base_offset);
    }

    /// The batch's bytes as consecutive non-empty slices: framing and referenced fields
    /// interleaved.
    pub fn slices(&self) -> Vec<&[u8]> {
        let mut slices = Vec::with_capacity(self.payloads.len() * 2 + 1);
        let mut from = 0;
        for &(at, bytes) in &self.payloads {
            slices.push(&self.framing[from..at]);
            slices.push(bytes);
            from = at;
        }
        slices.push(&self.framing[from..]);
        slices.retain(|slice| !slice.is_empty());
        slices
    }

    /// [`Self::slices`] as I/O vectors for `write_vectored`.
    pub fn io_slices(&self) -> Vec<IoSlice<'_>> {
        self.slices().into_iter().map(IoSlice::new).collect()
    }

    /// The whole batch as one contiguous buffer (a copy).
    pub fn to_vec(&self) -> Vec<u8> {
        self.slices().concat()
    }
}

impl<'a> RecordSink<'a> for VectoredBatch<'a> {
    fn framing(&mut self) -> &mut Vec<u8> {
        &mut self.framing
    }

    fn payload(&mut self, bytes: &'a [u8]) {
        if bytes.len() >= BY_REFERENCE_MIN {
            self.payloads.push((self.framing.len(), bytes));
            self.payload_len += bytes.len();
        } else {
            self.framing.extend_from_slice(bytes);
        }
    }
}

impl<'a> BatchBuf<'a> for VectoredBatch<'a> {
    fn encoded_len(&self) -> usize {
        self.len()
    }

    fn crc_from(&self, from: usize) -> u32 {
        debug_assert!(self.payloads.first().is_none_or(|&(at, _)| from <= at));
        let mut crc = 0;
        let mut framed_from = from;
        for &(at, bytes) in &self.payloads {
            crc = crc32c::crc32c_append(crc, &self.framing[framed_from..at]);
            crc = crc32c::crc32c_append(crc, bytes);
            framed_from = at;
        }
        crc32c::crc32c_append(crc, &self.framing[framed_from..])
    }
}

/// The bytes a field of `len` bytes puts in a [`VectoredBatch`]'s framing, besides its length
/// prefix: nothing when it is written by reference.
pub(crate) fn framed_len(len: usize) -> usize {
    if len >= BY_REFERENCE_MIN { 0 } else { len }
}
