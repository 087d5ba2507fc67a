//! Offline decoding of MySQL 8 binlog files: framing and checksums are ours, event bodies are
//! parsed with mysql_common's binlog structs and mapped onto an owned event model.
//!
//! - [`framing`]: magic, common header, sizes, CRC32 trailer.
//! - [`reader`]: [`BinlogReader`], events in file order with TRANSACTION_PAYLOADs unpacked.
//! - [`decode`]: event body → [`EventBody`].
//! - [`event`]: the event model.
//! - [`gtid`]: SIDs, GTIDs and GTID sets (binary PREVIOUS_GTIDS decoding is ours).
//! - [`gtid_set`]: GTID sets in MySQL's text form, adding, union, containment.
//! - [`payload`]: TRANSACTION_PAYLOAD header and zstd decompression.
//! - [`table`]: TABLE_MAP with optional metadata.
//! - [`row_image`]: row images straight into cells, with a per-TABLE_MAP [`row_image::RowLayout`].
//! - [`cell`]: row-image cell values.

pub mod cell;
pub(crate) mod decode;
pub mod event;
pub mod framing;
pub mod gtid;
pub mod gtid_set;
pub mod payload;
pub mod reader;
pub mod row_image;
pub mod table;

pub use cell::{Cell, Date, JsonPatch, JsonPatchOp};
pub use event::{
    BinlogEvent, ChecksumAlgorithm, EventBody, EventHeader, EventOrigin, FileOffset, GtidEvent,
    GtidKind, RowChange, RowsEvent, RowsKind,
};
pub use gtid::{GnoRange, Gtid, GtidSet, GtidSetDecodeError, Sid, SidRanges};
pub use gtid_set::GtidSetParseError;
pub use mysql_common::constants::ColumnType;
pub use payload::{PayloadCompression, TransactionPayload};
pub use reader::BinlogReader;
pub use table::{ColumnInfo, DecimalDigits, TableMap};

#[cfg(test)]
mod reader_tests;
#[cfg(test)]
mod test_encoder;
