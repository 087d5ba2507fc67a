//! The snapshot's output side: records collected into batches of `max.batch.size` for the
//! task's queue, the first one marked `snapshot: first` and the newest one held back so the
//! last record of the snapshot can be marked `last` (its offset then says the snapshot is
//! complete).
//!
//! Only the last record of each batch carries its offset; the others carry an empty one. The
//! runtime stores the newest offset of each polled batch and `poll` hands over whole batches,
//! so a batch's last offset is the only one ever stored — and turning a [`SourceOffset`] into
//! its map (a dozen keys and strings) for every row was a large part of a snapshot row's cost.

use std::sync::Arc;

use sluice_connect::api::SourceRecord;
use sluice_schemas::Value;
use sluice_schemas::source::SnapshotMarker;

use crate::error::{Error, Result};
use crate::offset::{SnapshotCursor, SnapshotState, SourceOffset};
use crate::queue::BatchSender;

/// A snapshot row's offset as the output holds it: the part every row of its table shares
/// (built once per table) and the row's own integer key. The full [`SourceOffset`] — binlog
/// file, GTIDs, database and table names, each a string copy — is made only for the records
/// that carry it, the last of each batch.
#[derive(Debug, Clone)]
pub(crate) struct RowOffset {
    /// The table's offset, its cursor (when the table is read in key order) naming the
    /// table with an empty key.
    pub table: Arc<SourceOffset>,
    /// The row's key, for tables read in key order; `None`: the offset has no cursor.
    pub after: Option<Vec<i64>>,
}

impl RowOffset {
    /// The table's offset with the row's key as its cursor.
    pub fn into_offset(self) -> SourceOffset {
        let mut offset = (*self.table).clone();
        offset.cursor = match (offset.cursor.take(), self.after) {
            (Some(cursor), Some(after)) => Some(SnapshotCursor { after, ..cursor }),
            _ => None,
        };
        offset
    }
}

/// Collects records into batches, holding the newest one back so the last record of the
/// snapshot can be marked as such.
pub(crate) struct Output<'a> {
    sender: &'a BatchSender,
    batch: Vec<SourceRecord>,
    /// The newest record and its offset, not yet in the batch.
    held: Option<(SourceRecord, RowOffset)>,
    max_batch: usize,
    /// Whether the next record is the first of the whole snapshot (not of a resumed one).
    first: bool,
    emitted: u64,
}

impl<'a> Output<'a> {
    /// `first`: whether the snapshot starts here (not when resuming an interrupted one).
    pub fn new(sender: &'a BatchSender, max_batch: usize, first: bool) -> Self {
        Self {
            sender,
            batch: Vec::with_capacity(max_batch),
            held: None,
            max_batch,
            first,
            emitted: 0,
        }
    }

    /// Records taken so far.
    pub fn emitted(&self) -> u64 {
        self.emitted
    }

    /// Adds a record (whose own offset map is left empty) with its offset; `false` when the
    /// receiver is gone.
    pub async fn push(&mut self, mut record: SourceRecord, offset: RowOffset) -> Result<bool> {
        if self.first {
            set_marker(&mut record, SnapshotMarker::First)?;
            self.first = false;
        }
        self.emitted += 1;
        if let Some((mut previous, offset)) = self.held.replace((record, offset)) {
            if self.batch.len() + 1 >= self.max_batch {
                previous.source_offset = offset.into_offset().to_map().into();
            }
            self.batch.push(previous);
        }
        if self.batch.len() >= self.max_batch {
            return Ok(self
                .sender
                .send(Ok(std::mem::take(&mut self.batch)))
                .await
                .is_ok());
        }
        Ok(true)
    }

    /// Sends the rest, the held record marked last; `false` when the receiver is gone.
    pub async fn finish(mut self) -> Result<bool> {
        if let Some((mut last, offset)) = self.held.take() {
            // The last record's offset says the snapshot is complete: no cursor.
            last.source_offset = SourceOffset {
                snapshot: SnapshotState::Complete,
                cursor: None,
                ..offset.into_offset()
            }
            .to_map()
            .into();
            set_marker(&mut last, SnapshotMarker::Last)?;
            self.batch.push(last);
        }
        Ok(self.batch.is_empty() || self.sender.send(Ok(self.batch)).await.is_ok())
    }
}

/// Sets the `snapshot` field of a record's source block.
fn set_marker(record: &mut SourceRecord, marker: SnapshotMarker) -> Result<()> {
    if let Value::Struct(envelope) = &mut record.value.value
        && let Some(Value::Struct(source)) = envelope.get("source").cloned()
    {
        let mut source = source;
        let marked = source
            .put("snapshot", marker.as_str())
            .map(|_| ())
            .and_then(|()| envelope.put("source", Value::Struct(source)).map(|_| ()));
        marked.map_err(|source| Error::Schema {
            table: record.topic.to_string(),
            source,
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use sluice_connect::api::{OffsetMap, SchemaAndValue};

    use super::*;
    use crate::offset::BinlogPosition;

    fn offset(key: i64) -> SourceOffset {
        SourceOffset {
            snapshot: SnapshotState::InProgress,
            cursor: Some(SnapshotCursor {
                db: "shop".into(),
                table: "orders".into(),
                after: vec![key],
            }),
            ..SourceOffset::at(BinlogPosition::new("mysql-bin.000001", 4), None)
        }
    }

    fn row_offset(key: i64) -> RowOffset {
        let mut table = offset(0);
        if let Some(cursor) = &mut table.cursor {
            cursor.after.clear();
        }
        RowOffset {
            table: Arc::new(table),
            after: Some(vec![key]),
        }
    }

    #[test]
    fn a_row_offset_is_its_tables_offset_with_the_rows_key() {
        assert_eq!(row_offset(7).into_offset(), offset(7));
        let unordered = RowOffset {
            after: None,
            ..row_offset(7)
        };
        assert_eq!(unordered.into_offset().cursor, None);
    }

    #[tokio::test]
    async fn only_the_last_record_of_each_batch_carries_its_offset() {
        let (sender, mut receiver) = crate::queue::bounded(16, 0);
        let mut out = Output::new(&sender, 2, true);
        for key in 1..=5 {
            let record = SourceRecord::new(
                OffsetMap::new(),
                OffsetMap::new(),
                "t",
                SchemaAndValue::null(),
                SchemaAndValue::null(),
            );
            assert!(out.push(record, row_offset(key)).await.unwrap());
        }
        assert!(out.finish().await.unwrap());
        drop(sender);
        let mut batches = Vec::new();
        while let Some(batch) = receiver.recv().await {
            batches.push(batch.unwrap());
        }
        assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
        for (batch, key) in batches[..2].iter().zip([2, 4]) {
            assert!(batch[0].source_offset.is_empty());
            let stored = SourceOffset::from_map(&batch[1].source_offset).unwrap();
            assert_eq!(stored, offset(key));
        }
        let last = SourceOffset::from_map(&batches[2][0].source_offset).unwrap();
        assert_eq!(last.snapshot, SnapshotState::Complete);
        assert_eq!(last.cursor, None);
        assert_eq!(last.group, offset(5).group);
    }
}
