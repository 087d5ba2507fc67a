//! The connector's source offsets and record positions.
//!
//! Source partition: `{"server": <topic.prefix>}`. Source offset, as JSON numbers:
//! - while snapshotting: `{"snapshot": true, "lsn": <slot consistent point>, "snapshot_table":
//!   t, "snapshot_row": r, "last_snapshot_record": bool, "ts_usec"}` — carried only by the
//!   last row of each queued chunk (the others have an empty offset, which the runtime never
//!   stores in place of one);
//! - while streaming: `{"lsn_commit": C, "lsn": <change LSN>, "txId", "ts_usec",
//!   "event_index": i, "lsn_flushable": F}` where `i` counts the records of transaction `C` and
//!   `F` is the end of the newest transaction known complete before this one (what the slot
//!   may be told is processed) — carried only by the last record of each queued chunk too.
//!
//! Positions ([`SourcePosition::from_parts`]) order every record of the task: snapshot rows
//! are `[L, 0, t, r]` and streamed records `[C, 1, i]`; streamed transactions commit at or after
//! the slot's consistent point `L`, so positions rise across the snapshot → stream hand-over
//! and across restarts.

use serde_json::{Map, Value};
use sluice_connect::api::{OffsetMap, SourcePosition};

use crate::lsn::Lsn;

/// Where the task resumes, as read from a stored offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resume {
    /// A snapshot was under way: rows of table `table` up to `row` are durable, earlier
    /// tables are complete.
    Snapshot {
        slot_lsn: Lsn,
        table: u64,
        row: u64,
        complete: bool,
    },
    /// Streaming: records `0..=event_index` of the transaction committing at `commit` are
    /// durable.
    Stream {
        commit: Lsn,
        event_index: u64,
        flushable: Lsn,
    },
}

/// The offset of a snapshot row.
pub fn snapshot_offset(slot_lsn: Lsn, table: u64, row: u64, last: bool, ts_usec: i64) -> OffsetMap {
    offset_map([
        ("snapshot", Value::Bool(true)),
        ("lsn", Value::from(slot_lsn.0)),
        ("snapshot_table", Value::from(table)),
        ("snapshot_row", Value::from(row)),
        ("last_snapshot_record", Value::Bool(last)),
        ("ts_usec", Value::from(ts_usec)),
    ])
}

/// The position of a snapshot row.
pub fn snapshot_position(slot_lsn: Lsn, table: u64, row: u64) -> SourcePosition {
    SourcePosition::from_parts(&[slot_lsn.0, 0, table, row])
}

/// Identifies one streamed record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamPoint {
    pub commit: Lsn,
    pub change_lsn: Lsn,
    pub xid: u32,
    pub commit_micros: i64,
    pub event_index: u64,
    pub flushable: Lsn,
}

impl StreamPoint {
    pub fn offset(&self) -> OffsetMap {
        offset_map([
            ("lsn_commit", Value::from(self.commit.0)),
            ("lsn", Value::from(self.change_lsn.0)),
            ("txId", Value::from(self.xid)),
            ("ts_usec", Value::from(self.commit_micros)),
            ("event_index", Value::from(self.event_index)),
            ("lsn_flushable", Value::from(self.flushable.0)),
        ])
    }

    pub fn position(&self) -> SourcePosition {
        SourcePosition::from_parts(&[self.commit.0, 1, self.event_index])
    }
}

/// Reads a stored offset; `None` when it is not one of ours (then the task starts afresh).
pub fn parse(offset: &OffsetMap) -> Option<Resume> {
    let number = |key: &str| offset.get(key).and_then(Value::as_u64);
    if offset.get("snapshot").and_then(Value::as_bool) == Some(true) {
        return Some(Resume::Snapshot {
            slot_lsn: Lsn(number("lsn")?),
            table: number("snapshot_table")?,
            row: number("snapshot_row")?,
            complete: offset
                .get("last_snapshot_record")
                .and_then(Value::as_bool)?,
        });
    }
    Some(Resume::Stream {
        commit: Lsn(number("lsn_commit")?),
        event_index: number("event_index")?,
        flushable: Lsn(number("lsn_flushable").unwrap_or(0)),
    })
}

/// An offset from its fields, sized once: every record carries one, so this is on the hot
/// path (no intermediate JSON value, no growing).
fn offset_map<const N: usize>(fields: [(&str, Value); N]) -> OffsetMap {
    let mut map = Map::with_capacity(N);
    for (key, value) in fields {
        map.insert(key.to_string(), value);
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_round_trip_and_positions_rise_into_the_stream() {
        let snap = snapshot_offset(Lsn(100), 2, 7, true, 5);
        assert_eq!(
            parse(&snap),
            Some(Resume::Snapshot {
                slot_lsn: Lsn(100),
                table: 2,
                row: 7,
                complete: true
            })
        );
        let point = StreamPoint {
            commit: Lsn(100),
            change_lsn: Lsn(90),
            xid: 7,
            commit_micros: 1,
            event_index: 0,
            flushable: Lsn(50),
        };
        assert_eq!(
            parse(&point.offset()),
            Some(Resume::Stream {
                commit: Lsn(100),
                event_index: 0,
                flushable: Lsn(50)
            })
        );
        assert!(snapshot_position(Lsn(100), 9, 9) < point.position());
        let next = StreamPoint {
            event_index: 1,
            ..point
        };
        assert!(point.position() < next.position());
        assert_eq!(parse(&Map::new()), None);
    }
}
