//! Batch compression, Kafka's `compression.type`: which codec a topic's batches are written
//! with, and the LZ4 codec for the records section of a batch.
//!
//! As in Kafka, a compressed RecordBatch v2 keeps its 61-byte header in the clear (offsets,
//! timestamps, record count, CRC) and compresses only the records after it; the codec sits in
//! the low three bits of `attributes` (1 gzip, 2 snappy, 3 lz4, 4 zstd). The CRC covers the
//! compressed bytes, so torn-write detection and recovery work unchanged.
//!
//! LZ4 batches use the LZ4 frame format with 64 KiB independent blocks, what Kafka's own
//! producer writes and every Kafka client reads. Change events are repetitive text (with
//! `schemas.enable=true` every record repeats its schema), so LZ4 typically shrinks them
//! 5–20× for a few hundred MB/s of CPU per core: far less disk and page-cache traffic than
//! the bytes it saves.

use std::io::{Read, Write};

use serde::{Deserialize, Serialize};

use super::batch::DecodeError;
use super::batch_buf::RecordSink;

/// The codec bits of a batch's `attributes`.
pub(crate) const CODEC_MASK: i16 = 0x07;
/// Kafka's codec number for LZ4.
pub(crate) const LZ4_CODEC: i16 = 3;

/// A topic's `compression.type`, as Kafka spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum CompressionType {
    /// Keep what the producer sent (Kafka's default). The worker's own tasks produce
    /// uncompressed batches.
    #[default]
    #[serde(rename = "producer")]
    Producer,
    /// Never compress.
    #[serde(rename = "uncompressed")]
    Uncompressed,
    /// LZ4 frames, 64 KiB blocks.
    #[serde(rename = "lz4")]
    Lz4,
}

impl CompressionType {
    /// The codec a batch appended by this broker is written with.
    pub(crate) fn codec(self) -> Codec {
        match self {
            CompressionType::Producer | CompressionType::Uncompressed => Codec::None,
            CompressionType::Lz4 => Codec::Lz4,
        }
    }
}

/// How the records section of one batch is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    None,
    Lz4,
}

impl Codec {
    /// The codec bits this codec sets in `attributes`.
    pub(crate) fn attribute_bits(self) -> i16 {
        match self {
            Codec::None => 0,
            Codec::Lz4 => LZ4_CODEC,
        }
    }

    /// The codec of a batch from its `attributes`; codecs this broker cannot read are an
    /// error naming them.
    pub(crate) fn from_attributes(attributes: i16) -> Result<Codec, DecodeError> {
        match attributes & CODEC_MASK {
            0 => Ok(Codec::None),
            LZ4_CODEC => Ok(Codec::Lz4),
            other => Err(DecodeError::Compressed(other)),
        }
    }
}

fn lz4_frame_info() -> lz4_flex::frame::FrameInfo {
    let mut info = lz4_flex::frame::FrameInfo::new();
    info.block_size = lz4_flex::frame::BlockSize::Max64KB;
    info
}

/// Appends `records` (an encoded records section) to `out` as one LZ4 frame.
#[cfg(test)]
pub(crate) fn compress_lz4(records: &[u8], out: &mut Vec<u8>) {
    let mut section = Lz4Section::new(std::mem::take(out));
    section.payload(records);
    *out = section.finish();
}

/// Framing staged for the LZ4 encoder is handed over once it reaches this size.
const STAGE_LIMIT: usize = 16 << 10;

/// A records section compressed while it is encoded: framing is staged in a small buffer and
/// fields go to the encoder as they come, so the uncompressed section never exists whole (a
/// large batch would otherwise pass through megabytes of freshly allocated memory).
pub(crate) struct Lz4Section {
    encoder: lz4_flex::frame::FrameEncoder<Vec<u8>>,
    staged: Vec<u8>,
}

impl Lz4Section {
    /// A section whose LZ4 frame is appended to `out`.
    pub(crate) fn new(out: Vec<u8>) -> Lz4Section {
        Lz4Section {
            encoder: lz4_flex::frame::FrameEncoder::with_frame_info(lz4_frame_info(), out),
            staged: Vec::with_capacity(STAGE_LIMIT + 1024),
        }
    }

    fn hand_over(&mut self, bytes: &[u8]) {
        // Writing into a Vec cannot fail; the encoder only reports the sink's errors.
        self.encoder
            .write_all(bytes)
            .expect("an LZ4 encoder writing into memory cannot fail");
    }

    fn hand_over_staged(&mut self) {
        if !self.staged.is_empty() {
            let staged = std::mem::take(&mut self.staged);
            self.hand_over(&staged);
            self.staged = staged;
            self.staged.clear();
        }
    }

    /// Ends the frame; returns `out` with the frame appended.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.hand_over_staged();
        self.encoder
            .finish()
            .expect("an LZ4 encoder writing into memory cannot fail")
    }
}

impl std::fmt::Debug for Lz4Section {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lz4Section")
            .field("staged", &self.staged.len())
            .finish_non_exhaustive()
    }
}

impl<'a> RecordSink<'a> for Lz4Section {
    fn framing(&mut self) -> &mut Vec<u8> {
        if self.staged.len() >= STAGE_LIMIT {
            self.hand_over_staged();
        }
        &mut self.staged
    }

    fn payload(&mut self, bytes: &'a [u8]) {
        if self.staged.len() + bytes.len() <= STAGE_LIMIT {
            self.staged.extend_from_slice(bytes);
        } else {
            self.hand_over_staged();
            self.hand_over(bytes);
        }
    }
}

/// The records section of a batch compressed with `codec`, decompressed.
pub(crate) fn decompress(codec: Codec, section: &[u8]) -> Result<Vec<u8>, DecodeError> {
    match codec {
        Codec::None => Ok(section.to_vec()),
        Codec::Lz4 => {
            let mut out = Vec::with_capacity(section.len().saturating_mul(4));
            lz4_flex::frame::FrameDecoder::new(section)
                .read_to_end(&mut out)
                .map_err(DecodeError::Decompress)?;
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lz4_round_trips_and_shrinks_repetitive_text() {
        let text: Vec<u8> = (0..20_000)
            .flat_map(|i| format!("{{\"id\":{i},\"customer\":\"c-{}\"}}", i % 97).into_bytes())
            .collect();
        let mut compressed = vec![1, 2, 3];
        compress_lz4(&text, &mut compressed);
        assert_eq!(&compressed[..3], &[1, 2, 3], "appends after what was there");
        assert!(compressed.len() * 4 < text.len(), "{}", compressed.len());
        assert_eq!(decompress(Codec::Lz4, &compressed[3..]).unwrap(), text);
    }

    #[test]
    fn a_corrupt_frame_is_an_error_not_a_panic() {
        let text: Vec<u8> = (0..5_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let mut compressed = Vec::new();
        compress_lz4(&text, &mut compressed);
        let cut = &compressed[..compressed.len() / 2];
        assert!(matches!(
            decompress(Codec::Lz4, cut),
            Err(DecodeError::Decompress(_))
        ));
        assert!(matches!(
            decompress(Codec::Lz4, b"not a frame"),
            Err(DecodeError::Decompress(_))
        ));
    }

    #[test]
    fn codecs_map_to_kafka_attribute_bits() {
        assert_eq!(Codec::from_attributes(0).unwrap(), Codec::None);
        assert_eq!(Codec::from_attributes(3 | 0x10).unwrap(), Codec::Lz4);
        assert!(matches!(
            Codec::from_attributes(4),
            Err(DecodeError::Compressed(4))
        ));
        assert_eq!(CompressionType::Lz4.codec().attribute_bits(), 3);
        assert_eq!(CompressionType::Producer.codec(), Codec::None);
        let parsed: CompressionType = serde_json::from_str("\"lz4\"").unwrap();
        assert_eq!(parsed, CompressionType::Lz4);
        assert!(serde_json::from_str::<CompressionType>("\"gzip\"").is_err());
    }
}
