//! A batch's records section compressed into one LZ4 frame while the records are encoded.
//!
//! Framing bytes and record fields are copied once, into a 64 KiB block buffer; each full
//! block is compressed from there straight into the output as an independent block of the
//! LZ4 frame format (4-byte little-endian size, high bit set when the block is stored
//! uncompressed because compressing did not shrink it), and the frame ends with a zero end
//! mark. Neither block nor content checksums are written, as in the frames Kafka's producer
//! writes. The frame header is the one `lz4_flex` writes for the same settings, so reading
//! stays entirely `lz4_flex`'s (checked) decoder.

use std::sync::OnceLock;

use super::batch_buf::RecordSink;

/// The largest uncompressed block the frame declares (its block-size descriptor).
const BLOCK_MAX: usize = 64 << 10;

/// The frame's size field marks a block stored as is with this bit.
const UNCOMPRESSED_BLOCK: u32 = 0x8000_0000;

/// The settings of every frame: 64 KiB independent blocks, no checksums, no content size.
fn frame_info() -> lz4_flex::frame::FrameInfo {
    let mut info = lz4_flex::frame::FrameInfo::new();
    info.block_size = lz4_flex::frame::BlockSize::Max64KB;
    info.block_mode = lz4_flex::frame::BlockMode::Independent;
    info.block_checksums = false;
    info.content_checksum = false;
    info
}

/// The frame header (magic, descriptor and its checksum) for [`frame_info`]'s settings, as
/// `lz4_flex` writes it: the bytes of an empty frame before its 4-byte end mark.
fn frame_header() -> &'static [u8] {
    static HEADER: OnceLock<Vec<u8>> = OnceLock::new();
    HEADER.get_or_init(|| {
        let mut empty = lz4_flex::frame::FrameEncoder::with_frame_info(frame_info(), Vec::new())
            .finish()
            .expect("an LZ4 encoder writing into memory cannot fail");
        empty.truncate(empty.len() - 4);
        empty
    })
}

/// A records section whose LZ4 frame is appended to an output buffer as it is encoded.
pub(crate) struct Lz4Section {
    out: Vec<u8>,
    /// Uncompressed bytes of the block being filled.
    block: Vec<u8>,
    /// Where a block is compressed before it is appended (reused).
    compressed: Vec<u8>,
}

impl Lz4Section {
    /// A section whose LZ4 frame is appended to `out`.
    pub(crate) fn new(mut out: Vec<u8>) -> Lz4Section {
        out.extend_from_slice(frame_header());
        Lz4Section {
            out,
            block: Vec::with_capacity(BLOCK_MAX + 64),
            compressed: Vec::new(),
        }
    }

    /// Compresses what the block buffer holds into the frame, in blocks of at most
    /// [`BLOCK_MAX`] (framing may overrun a full block by a few bytes).
    fn flush_block(&mut self) {
        for chunk in self.block.chunks(BLOCK_MAX) {
            let bound = lz4_flex::block::get_maximum_output_size(chunk.len());
            if self.compressed.len() < bound {
                self.compressed.resize(bound, 0);
            }
            match lz4_flex::block::compress_into(chunk, &mut self.compressed) {
                Ok(size) if size < chunk.len() => {
                    self.out.extend_from_slice(&(size as u32).to_le_bytes());
                    self.out.extend_from_slice(&self.compressed[..size]);
                }
                // Incompressible (or, impossibly, out of room): stored as is.
                _ => {
                    let size = chunk.len() as u32 | UNCOMPRESSED_BLOCK;
                    self.out.extend_from_slice(&size.to_le_bytes());
                    self.out.extend_from_slice(chunk);
                }
            }
        }
        self.block.clear();
    }

    /// Ends the frame; returns `out` with the frame appended.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.flush_block();
        self.out.extend_from_slice(&0u32.to_le_bytes());
        self.out
    }
}

impl std::fmt::Debug for Lz4Section {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lz4Section")
            .field("framed", &self.out.len())
            .field("block", &self.block.len())
            .finish_non_exhaustive()
    }
}

impl<'a> RecordSink<'a> for Lz4Section {
    fn framing(&mut self) -> &mut Vec<u8> {
        if self.block.len() >= BLOCK_MAX {
            self.flush_block();
        }
        &mut self.block
    }

    fn payload(&mut self, mut bytes: &'a [u8]) {
        while !bytes.is_empty() {
            if self.block.len() >= BLOCK_MAX {
                self.flush_block();
            }
            let room = BLOCK_MAX - self.block.len();
            let (now, later) = bytes.split_at(room.min(bytes.len()));
            self.block.extend_from_slice(now);
            bytes = later;
        }
    }
}

/// For tests: the frame `lz4_flex`'s own encoder writes for `bytes` with the same settings.
#[cfg(test)]
pub(crate) fn reference_frame(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = lz4_flex::frame::FrameEncoder::with_frame_info(frame_info(), Vec::new());
    encoder
        .write_all(bytes)
        .expect("an LZ4 encoder writing into memory cannot fail");
    encoder
        .finish()
        .expect("an LZ4 encoder writing into memory cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Codec;
    use crate::codec::compression::decompress;

    fn section_of(pieces: &[&[u8]]) -> Vec<u8> {
        let mut section = Lz4Section::new(Vec::new());
        for (i, piece) in pieces.iter().enumerate() {
            if i % 2 == 0 {
                section.framing().extend_from_slice(piece);
            } else {
                section.payload(piece);
            }
        }
        section.finish()
    }

    #[test]
    fn the_frame_header_is_lz4_flexs_with_the_magic_and_64k_independent_blocks() {
        let header = frame_header();
        assert_eq!(
            &header[..4],
            &0x184D_2204u32.to_le_bytes(),
            "LZ4 frame magic"
        );
        assert_eq!(
            header.len(),
            7,
            "no content size, no dictionary: magic, FLG, BD, HC"
        );
        assert_eq!(header[4] & 0x20, 0x20, "block independence flag");
        assert_eq!(header[5], 0x40, "64 KiB block maximum");
    }

    #[test]
    fn framing_and_payloads_across_many_blocks_decode_to_the_same_bytes() {
        let text: Vec<u8> = (0..40_000)
            .flat_map(|i| format!("{{\"id\":{i},\"note\":\"n-{}\"}}", i % 89).into_bytes())
            .collect();
        // Incompressible bytes too, so stored blocks appear.
        let mut noise = Vec::with_capacity(200_000);
        let mut x: u32 = 12345;
        for _ in 0..200_000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            noise.push((x >> 16) as u8);
        }
        let pieces: Vec<&[u8]> = vec![b"\x01\x02", &text, b"\x03", &noise, b"", &text[..10]];
        let framed = section_of(&pieces);
        let expected: Vec<u8> = pieces.concat();
        assert_eq!(decompress(Codec::Lz4, &framed).unwrap(), expected);
        assert!(
            framed.len() < expected.len() - text.len() / 2,
            "{}",
            framed.len()
        );
        let reference = reference_frame(&expected);
        assert_eq!(
            decompress(Codec::Lz4, &reference).unwrap(),
            expected,
            "lz4_flex's frame of the same bytes reads the same"
        );
        assert_eq!(&framed[..7], &reference[..7], "same frame header");
    }

    #[test]
    fn an_empty_section_is_an_empty_frame() {
        let framed = section_of(&[]);
        assert_eq!(framed, reference_frame(b""));
        assert!(decompress(Codec::Lz4, &framed).unwrap().is_empty());
    }
}
