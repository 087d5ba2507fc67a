//! The Kafka RecordBatch v2 wire format, written and read byte-exactly so stored batches can be
//! served unchanged over the Kafka Fetch protocol.
//!
//! - [`varint`]: zigzag varints/varlongs used inside records.
//! - [`batch`]: batch header layout, encoding, CRC-32C checking and record decoding.
//! - [`batch_buf`]: where the encoder writes: a contiguous buffer, or framing plus references
//!   to large fields for a vectored write ([`VectoredBatch`]).
//! - [`compression`]: `compression.type` and the LZ4 codec of a batch's records section.
//! - [`lz4_section`]: a records section compressed into an LZ4 frame while it is encoded.

pub mod batch;
pub mod batch_buf;
pub mod compression;
pub(crate) mod lz4_section;
pub mod varint;

pub use batch::{BATCH_HEADER_LEN, BatchHeader, DecodeError, LOG_OVERHEAD};
pub use batch_buf::VectoredBatch;
pub use compression::{Codec, CompressionType};
