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

use std::io::Read;

use serde::{Deserialize, Serialize};

use super::batch::DecodeError;

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

/// Appends `records` (an encoded records section) to `out` as one LZ4 frame.
#[cfg(test)]
pub(crate) fn compress_lz4(records: &[u8], out: &mut Vec<u8>) {
    use super::batch_buf::RecordSink;
    let mut section = super::lz4_section::Lz4Section::new(std::mem::take(out));
    section.payload(records);
    *out = section.finish();
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
