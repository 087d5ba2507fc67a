//! Where the connector is in the binlog: the source partition, the source offset it stores
//! with every record, and the totally ordered [`SourcePosition`] the runtime uses to drop
//! replayed records after a crash.
//!
//! A binlog is read in event groups (a transaction, or one standalone DDL). The offset names
//! the group the record came from (`file`, `pos` = where the group starts) and the record's
//! rows event and row inside it (`event`, `row`), so a restart re-reads the group from its
//! start and skips the rows already emitted. Records of the initial snapshot carry the
//! snapshot's binlog position and `snapshot: true`, except the last one: a stored offset
//! with `snapshot: true` means the snapshot did not finish. Such an offset also names the
//! table being read and the primary key of its last row ([`SnapshotCursor`]), so a restart
//! resumes the snapshot there instead of reading everything again.
//!
//! Snapshot records are positioned by table and primary key (not by a running count), so a
//! row read again after a crash gets the position it had, and the runtime drops it when it
//! was already stored.

use serde_json::{Value as Json, json};
use sluice_connect::api::{OffsetMap, SharedOffsetMap, SourcePosition};

use crate::error::{Error, Result};

/// A position in the server's binlog: file name and byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinlogPosition {
    pub file: String,
    pub pos: u64,
}

impl BinlogPosition {
    pub fn new(file: impl Into<String>, pos: u64) -> Self {
        Self {
            file: file.into(),
            pos,
        }
    }

    /// The file's sequence number (`mysql-bin.000042` → 42), which orders files.
    pub fn file_number(&self) -> u64 {
        file_number(&self.file)
    }
}

impl std::fmt::Display for BinlogPosition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.pos)
    }
}

/// The numeric extension of a binlog file name; 0 when it has none.
pub fn file_number(file: &str) -> u64 {
    file.rsplit('.')
        .next()
        .and_then(|ext| ext.parse().ok())
        .unwrap_or(0)
}

/// One row's place in the stream: group start, rows event index and row index inside it.
/// Ordered like the binlog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct RowKey {
    pub file_number: u64,
    pub group_pos: u64,
    pub event: u64,
    pub row: u64,
}

/// Whether an offset belongs to the initial snapshot (and whether it was its last record).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotState {
    /// A snapshot record before the last one: the snapshot is not complete.
    InProgress,
    /// The snapshot finished (its last record), or the offset comes from streaming.
    Complete,
}

/// The connector's source offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceOffset {
    /// Start of the event group of the record (or where streaming resumes).
    pub group: BinlogPosition,
    /// Rows event index inside the group.
    pub event: u64,
    /// Row index inside that rows event.
    pub row: u64,
    /// The GTIDs executed before the group, when known: MariaDB's position (`0-1-42,…`) or
    /// MySQL's set (`uuid:1-41,…`). A resume asks the server for what follows them.
    pub gtids: Option<String>,
    pub server_id: u32,
    pub ts_sec: u64,
    pub snapshot: SnapshotState,
    /// Where an unfinished snapshot got to; only with [`SnapshotState::InProgress`].
    pub cursor: Option<SnapshotCursor>,
}

/// The last row a snapshot emitted: its table and integer primary key (in key order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotCursor {
    pub db: String,
    pub table: String,
    pub after: Vec<i64>,
}

impl SourceOffset {
    /// An offset at a group boundary (nothing of the group at `group` emitted yet).
    pub fn at(group: BinlogPosition, gtids: Option<String>) -> Self {
        Self {
            group,
            event: 0,
            row: 0,
            gtids,
            server_id: 0,
            ts_sec: 0,
            snapshot: SnapshotState::Complete,
            cursor: None,
        }
    }

    /// The source partition of a connector: `{"server": <topic.prefix>}` as in Debezium,
    /// shared by every record the connector makes.
    pub fn partition(topic_prefix: &str) -> SharedOffsetMap {
        let mut map = OffsetMap::new();
        map.insert("server".into(), Json::String(topic_prefix.to_owned()));
        map.into()
    }

    pub fn row_key(&self) -> RowKey {
        RowKey {
            file_number: self.group.file_number(),
            group_pos: self.group.pos,
            event: self.event,
            row: self.row,
        }
    }

    pub fn to_map(&self) -> OffsetMap {
        let mut value = json!({
            "file": self.group.file,
            "pos": self.group.pos,
            "event": self.event,
            "row": self.row,
            "server_id": self.server_id,
            "ts_sec": self.ts_sec,
        });
        if let Some(gtids) = &self.gtids {
            value["gtids"] = Json::String(gtids.clone());
        }
        if self.snapshot == SnapshotState::InProgress {
            value["snapshot"] = Json::Bool(true);
            if let Some(cursor) = &self.cursor {
                value["snapshot_db"] = Json::String(cursor.db.clone());
                value["snapshot_table"] = Json::String(cursor.table.clone());
                value["snapshot_key"] = json!(cursor.after);
            }
        }
        match value {
            Json::Object(map) => map,
            _ => OffsetMap::new(),
        }
    }

    /// Reads a stored offset back; an offset this connector did not write is an error that
    /// says how to reset it.
    pub fn from_map(map: &OffsetMap) -> Result<Self> {
        let invalid = |reason: &str| Error::InvalidOffset {
            offset: Json::Object(map.clone()).to_string(),
            reason: reason.to_owned(),
        };
        let file = map
            .get("file")
            .and_then(Json::as_str)
            .ok_or_else(|| invalid("it has no \"file\""))?;
        let pos = map
            .get("pos")
            .and_then(Json::as_u64)
            .ok_or_else(|| invalid("it has no numeric \"pos\""))?;
        let number = |key: &str| map.get(key).and_then(Json::as_u64).unwrap_or(0);
        let text = |key: &str| map.get(key).and_then(Json::as_str).map(str::to_owned);
        let cursor = match (
            text("snapshot_db"),
            text("snapshot_table"),
            map.get("snapshot_key"),
        ) {
            (Some(db), Some(table), Some(key)) => {
                let after = key
                    .as_array()
                    .and_then(|parts| parts.iter().map(Json::as_i64).collect::<Option<Vec<_>>>())
                    .ok_or_else(|| invalid("its \"snapshot_key\" is not an array of integers"))?;
                Some(SnapshotCursor { db, table, after })
            }
            _ => None,
        };
        Ok(Self {
            group: BinlogPosition::new(file, pos),
            event: number("event"),
            row: number("row"),
            gtids: map.get("gtids").and_then(Json::as_str).map(str::to_owned),
            server_id: number("server_id") as u32,
            ts_sec: number("ts_sec"),
            snapshot: if map.get("snapshot").and_then(Json::as_bool) == Some(true) {
                SnapshotState::InProgress
            } else {
                SnapshotState::Complete
            },
            cursor,
        })
    }
}

/// Phase of a position: snapshot records sort before the stream events of the same binlog
/// position, so streaming from the snapshot's position never looks like a replay.
const SNAPSHOT_PHASE: u64 = 0;
const STREAM_PHASE: u64 = 1;

/// The position of the `sub`-th record (delete, tombstone, create …) made from one binlog row.
pub fn stream_position(key: RowKey, sub: u64) -> SourcePosition {
    SourcePosition::from_parts(&[
        key.file_number,
        key.group_pos,
        STREAM_PHASE,
        key.event,
        key.row,
        sub,
    ])
}

/// The start of the positions of one table's rows in the snapshot taken at `at`: the
/// snapshot's binlog position, then the database and table names (each NUL-terminated, so
/// tables sort by name bytes as the snapshot reads them).
pub fn snapshot_table_prefix(at: &BinlogPosition, db: &str, table: &str) -> Vec<u8> {
    let mut bytes =
        SourcePosition::from_parts(&[at.file_number(), at.pos, SNAPSHOT_PHASE]).into_bytes();
    for name in [db, table] {
        bytes.extend_from_slice(name.as_bytes());
        bytes.push(0);
    }
    bytes
}

/// A snapshot row's position from its integer primary key: each part with its sign bit
/// flipped and big-endian, so byte order is key order. The same row always gets the same
/// position, which is what lets a resumed snapshot's repeats be dropped.
pub fn snapshot_key_position(table_prefix: &[u8], key: &[i64]) -> SourcePosition {
    let mut bytes = Vec::with_capacity(table_prefix.len() + key.len() * 8);
    bytes.extend_from_slice(table_prefix);
    for part in key {
        bytes.extend_from_slice(&((*part as u64) ^ (1 << 63)).to_be_bytes());
    }
    SourcePosition::from_bytes(bytes)
}

/// A snapshot row's position for a table read without a usable key: the binlog position the
/// rows were read at, then their sequence number. A table read again (at a later position)
/// sorts after its earlier reading.
pub fn snapshot_sequence_position(
    table_prefix: &[u8],
    read_at: &BinlogPosition,
    sequence: u64,
) -> SourcePosition {
    let mut bytes = table_prefix.to_vec();
    bytes.extend(
        SourcePosition::from_parts(&[read_at.file_number(), read_at.pos, sequence]).into_bytes(),
    );
    SourcePosition::from_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_round_trip() {
        let offset = SourceOffset {
            group: BinlogPosition::new("mysql-bin.000003", 1234),
            event: 2,
            row: 17,
            gtids: Some("0-1-42".into()),
            server_id: 223344,
            ts_sec: 1_700_000_000,
            snapshot: SnapshotState::InProgress,
            cursor: Some(SnapshotCursor {
                db: "shop".into(),
                table: "orders".into(),
                after: vec![-5, 7],
            }),
        };
        let map = offset.to_map();
        assert_eq!(map["snapshot"], Json::Bool(true));
        assert_eq!(map["snapshot_key"], json!([-5, 7]));
        assert_eq!(SourceOffset::from_map(&map).unwrap(), offset);
        let error = SourceOffset::from_map(&OffsetMap::new()).unwrap_err();
        assert!(error.to_string().contains("file"), "{error}");
    }

    #[test]
    fn positions_follow_the_binlog() {
        let snap = BinlogPosition::new("mysql-bin.000002", 500);
        let key = |file, pos, event, row| RowKey {
            file_number: file,
            group_pos: pos,
            event,
            row,
        };
        let earlier =
            snapshot_table_prefix(&BinlogPosition::new("mysql-bin.000001", 900), "a", "t");
        let a = snapshot_table_prefix(&snap, "a", "t");
        let ab = snapshot_table_prefix(&snap, "ab", "a");
        let later = BinlogPosition::new("mysql-bin.000002", 900);
        let ordered = [
            snapshot_key_position(&earlier, &[5]),
            snapshot_key_position(&a, &[i64::MIN]),
            snapshot_key_position(&a, &[-1]),
            snapshot_key_position(&a, &[0]),
            snapshot_key_position(&a, &[i64::MAX]),
            snapshot_sequence_position(&ab, &snap, 7),
            snapshot_sequence_position(&ab, &later, 0),
            stream_position(key(2, 500, 0, 0), 0),
            stream_position(key(2, 500, 0, 0), 1),
            stream_position(key(2, 500, 0, 1), 0),
            stream_position(key(2, 500, 1, 0), 0),
            stream_position(key(2, 900, 0, 0), 0),
            stream_position(key(3, 4, 0, 0), 0),
        ];
        assert!(ordered.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(file_number("mysql-bin.000042"), 42);
    }
}
