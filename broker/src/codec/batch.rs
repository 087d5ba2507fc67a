//! Kafka RecordBatch v2 (magic 2): header layout, encoding, CRC-32C validation and record
//! decoding.
//!
//! Layout (big-endian): baseOffset i64, batchLength i32 (bytes after this field),
//! partitionLeaderEpoch i32, magic i8 = 2, crc u32 (CRC-32C of attributes..end), attributes i16,
//! lastOffsetDelta i32, baseTimestamp i64, maxTimestamp i64, producerId i64, producerEpoch i16,
//! baseSequence i32, record count i32, then the records. Each record is varint-framed:
//! length, attributes i8, timestampDelta varlong, offsetDelta varint, key (varint length, -1 =
//! null), value (same), header count varint, headers (key length + UTF-8 key, value length +
//! value, -1 = null).

use bytes::Bytes;

use super::batch_buf::{BatchBuf, RecordSink, VectoredBatch};
use super::compression::{self, Codec};
use super::lz4_section::Lz4Section;
use super::varint::{get_varint, get_varlong, put_varint, put_varlong, varint_len, varlong_len};
use crate::types::{FetchedRecord, Header, Offset, Record};

/// Bytes before `batchLength` counts: baseOffset + batchLength.
pub const LOG_OVERHEAD: usize = 12;
/// Size of the fixed batch header, up to and including the record count.
pub const BATCH_HEADER_LEN: usize = 61;
/// The only batch format this broker writes and reads.
pub const MAGIC_V2: i8 = 2;

const MAGIC_AT: usize = 16;
const CRC_AT: usize = 17;
const ATTRIBUTES_AT: usize = 21;

/// Why bytes are not a valid RecordBatch v2.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("truncated {what}")]
    Truncated { what: &'static str },
    #[error("varint is longer than its type allows")]
    VarintOverflow,
    #[error("magic byte is {0}; only RecordBatch v2 (magic 2) is supported")]
    Magic(i8),
    #[error("batch length {0} is smaller than the fixed v2 header")]
    BadLength(i32),
    #[error("CRC-32C mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    Crc { stored: u32, computed: u32 },
    #[error(
        "compression codec {0} (1 gzip, 2 snappy, 4 zstd) is not supported by the embedded \
         broker, which reads uncompressed and lz4 batches"
    )]
    Compressed(i16),
    #[error("the batch's compressed records section is corrupt")]
    Decompress(#[source] std::io::Error),
    #[error("negative {what} length {length}")]
    NegativeLength { what: &'static str, length: i32 },
    #[error("record declares {declared} body bytes but its fields use {used}")]
    RecordLength { declared: usize, used: usize },
    #[error("batch header declares {declared} records but the body holds {found}")]
    RecordCount { declared: i32, found: i32 },
    #[error("batch base offset {found} is below the expected next offset {expected}")]
    OffsetOrder { expected: i64, found: i64 },
    #[error("header key is not UTF-8")]
    HeaderKey(#[source] std::str::Utf8Error),
}

/// The fixed header of one stored batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchHeader {
    pub base_offset: Offset,
    /// Bytes after the batchLength field; the whole batch is `LOG_OVERHEAD + batch_length`.
    pub batch_length: i32,
    pub partition_leader_epoch: i32,
    pub magic: i8,
    pub crc: u32,
    pub attributes: i16,
    pub last_offset_delta: i32,
    pub base_timestamp: i64,
    pub max_timestamp: i64,
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub base_sequence: i32,
    pub record_count: i32,
}

impl BatchHeader {
    /// Parses the fixed header from the first [`BATCH_HEADER_LEN`] bytes of `buf`, checking the
    /// magic byte and that the declared length covers the header.
    pub fn parse(buf: &[u8]) -> Result<BatchHeader, DecodeError> {
        if buf.len() < BATCH_HEADER_LEN {
            return Err(DecodeError::Truncated {
                what: "batch header",
            });
        }
        let header = BatchHeader {
            base_offset: Offset(be_i64(buf, 0)),
            batch_length: be_i32(buf, 8),
            partition_leader_epoch: be_i32(buf, 12),
            magic: buf[MAGIC_AT] as i8,
            crc: be_i32(buf, CRC_AT) as u32,
            attributes: be_i16(buf, ATTRIBUTES_AT),
            last_offset_delta: be_i32(buf, 23),
            base_timestamp: be_i64(buf, 27),
            max_timestamp: be_i64(buf, 35),
            producer_id: be_i64(buf, 43),
            producer_epoch: be_i16(buf, 51),
            base_sequence: be_i32(buf, 53),
            record_count: be_i32(buf, 57),
        };
        if header.magic != MAGIC_V2 {
            return Err(DecodeError::Magic(header.magic));
        }
        if (header.batch_length as i64) < (BATCH_HEADER_LEN - LOG_OVERHEAD) as i64 {
            return Err(DecodeError::BadLength(header.batch_length));
        }
        Ok(header)
    }

    /// Size of the whole batch in bytes.
    pub fn total_len(&self) -> usize {
        LOG_OVERHEAD + self.batch_length as usize
    }

    /// Offset of the batch's last record (compaction may have removed it, the range stays).
    pub fn last_offset(&self) -> Offset {
        self.base_offset.plus(i64::from(self.last_offset_delta))
    }
}

/// Checks the CRC-32C of a whole batch (attributes to end).
pub fn verify_crc(batch: &[u8]) -> Result<(), DecodeError> {
    if batch.len() < BATCH_HEADER_LEN {
        return Err(DecodeError::Truncated { what: "batch" });
    }
    let stored = be_i32(batch, CRC_AT) as u32;
    let computed = crc32c::crc32c(&batch[ATTRIBUTES_AT..]);
    if stored != computed {
        return Err(DecodeError::Crc { stored, computed });
    }
    Ok(())
}

/// Rewrites the baseOffset of an encoded batch in place; the CRC does not cover it.
pub fn set_base_offset(batch: &mut [u8], base_offset: Offset) {
    batch[0..8].copy_from_slice(&base_offset.0.to_be_bytes());
}

/// Where a batch sits in offset and time when it is encoded.
#[derive(Debug, Clone, Copy)]
pub struct BatchLayout {
    pub base_offset: Offset,
    pub base_timestamp: i64,
    /// Kept explicitly so compaction can preserve a batch's offset range after dropping records.
    pub last_offset_delta: i32,
}

/// Appends one uncompressed batch holding `records` at consecutive offsets from `base_offset`.
/// An empty slice writes nothing.
pub fn encode_batch(out: &mut Vec<u8>, base_offset: Offset, records: &[Record]) {
    encode_batch_with(out, base_offset, records, Codec::None);
}

/// [`encode_batch`] with the records section stored with `codec`.
pub fn encode_batch_with(out: &mut Vec<u8>, base_offset: Offset, records: &[Record], codec: Codec) {
    let Some(first) = records.first() else {
        return;
    };
    let layout = BatchLayout {
        base_offset,
        base_timestamp: first.timestamp_ms,
        last_offset_delta: (records.len() - 1) as i32,
    };
    encode_batch_entries_with(
        out,
        layout,
        records.iter().enumerate().map(|(i, r)| (i as i32, r)),
        codec,
    );
}

/// Encodes one batch holding `records` at consecutive offsets from `base_offset` for a
/// vectored write: uncompressed, keys and values of
/// [`BY_REFERENCE_MIN`](super::batch_buf::BY_REFERENCE_MIN) bytes or more stay in the records'
/// buffers (a compressed records section is all framing). Its bytes equal
/// [`encode_batch_with`]'s. `None` for an empty slice.
pub fn encode_batch_vectored(
    base_offset: Offset,
    records: &[Record],
    codec: Codec,
    framing_capacity: usize,
) -> Option<VectoredBatch<'_>> {
    let first = records.first()?;
    let layout = BatchLayout {
        base_offset,
        base_timestamp: first.timestamp_ms,
        last_offset_delta: (records.len() - 1) as i32,
    };
    let mut out = VectoredBatch::with_capacity(framing_capacity);
    encode_into(
        &mut out,
        layout,
        records.iter().enumerate().map(|(i, r)| (i as i32, r)),
        codec,
    );
    Some(out)
}

/// Appends one uncompressed batch of `(offset_delta, record)` entries.
pub fn encode_batch_entries<'a>(
    out: &mut Vec<u8>,
    layout: BatchLayout,
    entries: impl Iterator<Item = (i32, &'a Record)>,
) {
    encode_batch_entries_with(out, layout, entries, Codec::None);
}

/// Appends one batch of `(offset_delta, record)` entries whose records section is stored
/// with `codec` (the header stays uncompressed, as in Kafka).
pub fn encode_batch_entries_with<'a>(
    out: &mut Vec<u8>,
    layout: BatchLayout,
    entries: impl Iterator<Item = (i32, &'a Record)>,
    codec: Codec,
) {
    encode_into(out, layout, entries, codec);
}

/// Encodes one batch at the end of `out`: header placeholder, records (compressed with
/// `codec`), then the header with the counts and finally the CRC over attributes..end.
fn encode_into<'a>(
    out: &mut impl BatchBuf<'a>,
    layout: BatchLayout,
    entries: impl Iterator<Item = (i32, &'a Record)>,
    codec: Codec,
) {
    let start = out.encoded_len();
    let header_at = out.framing().len();
    out.framing().resize(header_at + BATCH_HEADER_LEN, 0);
    // Uncompressed records go straight after the header; compressed ones are encoded aside
    // first, then compressed in after it.
    let (count, max_timestamp) = match codec {
        Codec::None => put_records(out, &layout, entries),
        Codec::Lz4 => {
            let mut section = Lz4Section::new(std::mem::take(out.framing()));
            let counted = put_records(&mut section, &layout, entries);
            *out.framing() = section.finish();
            counted
        }
    };
    let batch_length = (out.encoded_len() - start - LOG_OVERHEAD) as i32;
    let header = &mut out.framing()[header_at..header_at + BATCH_HEADER_LEN];
    header[0..8].copy_from_slice(&layout.base_offset.0.to_be_bytes());
    header[8..12].copy_from_slice(&batch_length.to_be_bytes());
    header[12..16].copy_from_slice(&(-1i32).to_be_bytes()); // partitionLeaderEpoch: no leader
    header[MAGIC_AT] = MAGIC_V2 as u8;
    // attributes: the codec, CreateTime, not transactional, not a control batch
    header[21..23].copy_from_slice(&codec.attribute_bits().to_be_bytes());
    header[23..27].copy_from_slice(&layout.last_offset_delta.to_be_bytes());
    header[27..35].copy_from_slice(&layout.base_timestamp.to_be_bytes());
    header[35..43].copy_from_slice(&max_timestamp.to_be_bytes());
    header[43..51].copy_from_slice(&(-1i64).to_be_bytes()); // producerId: not idempotent
    header[51..53].copy_from_slice(&(-1i16).to_be_bytes());
    header[53..57].copy_from_slice(&(-1i32).to_be_bytes());
    header[57..61].copy_from_slice(&count.to_be_bytes());
    let crc = out.crc_from(header_at + ATTRIBUTES_AT);
    out.framing()[header_at + CRC_AT..header_at + CRC_AT + 4].copy_from_slice(&crc.to_be_bytes());
}

/// Encodes the records of a batch; returns their count and largest timestamp.
fn put_records<'a>(
    out: &mut impl RecordSink<'a>,
    layout: &BatchLayout,
    entries: impl Iterator<Item = (i32, &'a Record)>,
) -> (i32, i64) {
    let mut count: i32 = 0;
    let mut max_timestamp = layout.base_timestamp;
    for (offset_delta, record) in entries {
        max_timestamp = max_timestamp.max(record.timestamp_ms);
        put_record(
            out,
            offset_delta,
            record.timestamp_ms - layout.base_timestamp,
            record,
        );
        count += 1;
    }
    (count, max_timestamp)
}

fn nullable_len(bytes: Option<&[u8]>) -> usize {
    match bytes {
        Some(b) => varint_len(b.len() as i32) + b.len(),
        None => varint_len(-1),
    }
}

fn put_nullable<'a>(out: &mut impl RecordSink<'a>, bytes: Option<&'a [u8]>) {
    match bytes {
        Some(b) => {
            put_varint(out.framing(), b.len() as i32);
            out.payload(b);
        }
        None => put_varint(out.framing(), -1),
    }
}

fn put_record<'a>(
    out: &mut impl RecordSink<'a>,
    offset_delta: i32,
    timestamp_delta: i64,
    record: &'a Record,
) {
    let headers_len: usize = record
        .headers
        .iter()
        .map(|h| nullable_len(Some(h.key.as_bytes())) + nullable_len(h.value.as_deref()))
        .sum();
    let body_len = 1
        + varlong_len(timestamp_delta)
        + varint_len(offset_delta)
        + nullable_len(record.key.as_deref())
        + nullable_len(record.value.as_deref())
        + varint_len(record.headers.len() as i32)
        + headers_len;
    let framing = out.framing();
    framing.reserve(body_len + 5);
    put_varint(framing, body_len as i32);
    framing.push(0); // record attributes: unused in v2
    put_varlong(framing, timestamp_delta);
    put_varint(framing, offset_delta);
    put_nullable(out, record.key.as_deref());
    put_nullable(out, record.value.as_deref());
    put_varint(out.framing(), record.headers.len() as i32);
    for header in &record.headers {
        put_nullable(out, Some(header.key.as_bytes()));
        put_nullable(out, header.value.as_deref());
    }
}

/// The codec a stored batch's records section was written with.
pub fn batch_codec(header: &BatchHeader) -> Result<Codec, DecodeError> {
    Codec::from_attributes(header.attributes)
}

/// Decodes every record of one whole batch (CRC already checked by the caller or not needed).
/// Keys, values and header values are zero-copy slices of `batch` (of the decompressed
/// records section for a compressed batch).
pub fn decode_records(batch: &Bytes) -> Result<Vec<FetchedRecord>, DecodeError> {
    let header = BatchHeader::parse(batch)?;
    let codec = batch_codec(&header)?;
    let end = header.total_len();
    if batch.len() < end {
        return Err(DecodeError::Truncated { what: "batch" });
    }
    let (batch, start, end) = match codec {
        Codec::None => (batch.clone(), BATCH_HEADER_LEN, end),
        Codec::Lz4 => {
            let section = compression::decompress(codec, &batch[BATCH_HEADER_LEN..end])?;
            let len = section.len();
            (Bytes::from(section), 0, len)
        }
    };
    let batch = &batch;
    let mut records = Vec::with_capacity(header.record_count.clamp(0, 4096) as usize);
    let mut pos = start;
    while pos < end {
        let (record, next) = decode_record(batch, pos, end, &header)?;
        records.push(record);
        pos = next;
    }
    if records.len() as i64 != i64::from(header.record_count) {
        return Err(DecodeError::RecordCount {
            declared: header.record_count,
            found: records.len() as i32,
        });
    }
    Ok(records)
}

fn decode_record(
    batch: &Bytes,
    start: usize,
    end: usize,
    header: &BatchHeader,
) -> Result<(FetchedRecord, usize), DecodeError> {
    let mut cursor = &batch[start..end];
    let declared = get_varint(&mut cursor)?;
    if declared < 1 {
        // Even an empty record carries its attributes byte.
        return Err(DecodeError::NegativeLength {
            what: "record",
            length: declared,
        });
    }
    let body_start = end - cursor.len();
    let body_end = body_start + declared as usize;
    if body_end > end {
        return Err(DecodeError::Truncated { what: "record" });
    }
    let mut cursor = &batch[body_start + 1..body_end]; // skip record attributes
    let timestamp_delta = get_varlong(&mut cursor)?;
    let offset_delta = get_varint(&mut cursor)?;
    let key = take_nullable(batch, body_end, &mut cursor, "key")?;
    let value = take_nullable(batch, body_end, &mut cursor, "value")?;
    let header_count = get_varint(&mut cursor)?;
    if header_count < 0 {
        return Err(DecodeError::NegativeLength {
            what: "header count",
            length: header_count,
        });
    }
    let mut headers = Vec::with_capacity(header_count.min(64) as usize);
    for _ in 0..header_count {
        let key = take_nullable(batch, body_end, &mut cursor, "header key")?.ok_or(
            DecodeError::NegativeLength {
                what: "header key",
                length: -1,
            },
        )?;
        let key = std::str::from_utf8(&key)
            .map_err(DecodeError::HeaderKey)?
            .to_owned()
            .into();
        let value = take_nullable(batch, body_end, &mut cursor, "header value")?;
        headers.push(Header { key, value });
    }
    if !cursor.is_empty() {
        return Err(DecodeError::RecordLength {
            declared: declared as usize,
            used: declared as usize - cursor.len(),
        });
    }
    let record = FetchedRecord {
        offset: header.base_offset.plus(i64::from(offset_delta)),
        record: Record {
            key,
            value,
            headers,
            timestamp_ms: header.base_timestamp + timestamp_delta,
        },
    };
    Ok((record, body_end))
}

/// Reads a varint-length-prefixed nullable byte field as a slice of `batch`.
fn take_nullable(
    batch: &Bytes,
    region_end: usize,
    cursor: &mut &[u8],
    what: &'static str,
) -> Result<Option<Bytes>, DecodeError> {
    let length = get_varint(cursor)?;
    if length < -1 {
        return Err(DecodeError::NegativeLength { what, length });
    }
    if length == -1 {
        return Ok(None);
    }
    let length = length as usize;
    if cursor.len() < length {
        return Err(DecodeError::Truncated { what });
    }
    let start = region_end - cursor.len();
    *cursor = &cursor[length..];
    Ok(Some(batch.slice(start..start + length)))
}

fn be_i64(buf: &[u8], at: usize) -> i64 {
    i64::from_be_bytes(buf[at..at + 8].try_into().expect("8 bytes"))
}

fn be_i32(buf: &[u8], at: usize) -> i32 {
    i32::from_be_bytes(buf[at..at + 4].try_into().expect("4 bytes"))
}

fn be_i16(buf: &[u8], at: usize) -> i16 {
    i16::from_be_bytes(buf[at..at + 2].try_into().expect("2 bytes"))
}

#[cfg(test)]
#[path = "batch_tests.rs"]
mod tests;
