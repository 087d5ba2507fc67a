//! The decoded event model the reader hands out: header, where the event came from, and a
//! typed body for the event kinds a CDC source needs.

use super::cell::Cell;
use super::gtid::{Gtid, GtidSet};
use super::table::TableMap;

/// Byte offset of an event in its binlog file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileOffset(pub u64);

/// The 19-byte v4 common header of every event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventHeader {
    pub timestamp: u32,
    pub type_code: u8,
    pub server_id: u32,
    pub event_size: u32,
    /// Position of the next event in the server's file (0 inside a transaction payload).
    pub log_pos: u32,
    pub flags: u16,
}

/// Where an event sits: directly in the file, or inside a TRANSACTION_PAYLOAD event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventOrigin {
    /// A top-level event starting at this file offset.
    File(FileOffset),
    /// An event unpacked from the TRANSACTION_PAYLOAD event that starts at this offset.
    TransactionPayload(FileOffset),
}

/// One decoded event.
#[derive(Debug, Clone, PartialEq)]
pub struct BinlogEvent {
    pub header: EventHeader,
    pub origin: EventOrigin,
    pub body: EventBody,
}

/// The checksum algorithm the FORMAT_DESCRIPTION event announces for the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumAlgorithm {
    None,
    Crc32,
}

/// Whether a GTID event carries an assigned GTID or the anonymous marker (gtid_mode=OFF).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GtidKind {
    Assigned,
    Anonymous,
}

/// A GTID or ANONYMOUS_GTID event: the transaction's id plus MySQL 8 commit metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GtidEvent {
    pub kind: GtidKind,
    pub gtid: Gtid,
    pub last_committed: u64,
    pub sequence_number: u64,
    /// Microseconds since the epoch when this server committed (0 when absent).
    pub immediate_commit_timestamp_us: u64,
    /// Microseconds since the epoch when the originating server committed (0 when absent).
    pub original_commit_timestamp_us: u64,
}

/// Which row operation a rows event carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowsKind {
    Insert,
    Update,
    /// PARTIAL_UPDATE_ROWS (type 39): JSON columns of the after image may be diffs.
    PartialUpdate,
    Delete,
}

/// One row of a rows event; cells are indexed by the table's column number.
#[derive(Debug, Clone, PartialEq)]
pub struct RowChange {
    pub before: Option<Vec<Cell>>,
    pub after: Option<Vec<Cell>>,
}

/// A WRITE/UPDATE/DELETE/PARTIAL_UPDATE rows event, decoded against its TABLE_MAP.
#[derive(Debug, Clone, PartialEq)]
pub struct RowsEvent {
    pub kind: RowsKind,
    pub table_id: u64,
    pub schema: String,
    pub table: String,
    pub rows: Vec<RowChange>,
}

/// The typed content of an event.
#[derive(Debug, Clone, PartialEq)]
pub enum EventBody {
    FormatDescription {
        server_version: String,
        checksum: ChecksumAlgorithm,
    },
    Rotate {
        next_file: String,
        position: u64,
    },
    PreviousGtids(GtidSet),
    Gtid(GtidEvent),
    Query {
        thread_id: u32,
        schema: String,
        query: String,
    },
    RowsQuery {
        query: String,
    },
    Xid(u64),
    TableMap(TableMap),
    Rows(RowsEvent),
    /// The container itself; its inner events follow it with [`EventOrigin::TransactionPayload`].
    TransactionPayload {
        compressed_size: u64,
        uncompressed_size: u64,
    },
    /// An event type this decoder does not interpret (its header is still reported).
    Other,
}
