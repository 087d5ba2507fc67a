//! The snapshot's output side: records collected into batches of `max.batch.size` for the
//! task's queue, the first one marked `snapshot: first` and the newest one held back so the
//! last record of the snapshot can be marked `last` (its offset then says the snapshot is
//! complete).

use sluice_connect::api::SourceRecord;
use sluice_schemas::Value;
use sluice_schemas::source::SnapshotMarker;

use crate::error::{Error, Result};
use crate::queue::BatchSender;

/// Collects records into batches, holding the newest one back so the last record of the
/// snapshot can be marked as such.
pub(crate) struct Output<'a> {
    sender: &'a BatchSender,
    batch: Vec<SourceRecord>,
    held: Option<SourceRecord>,
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

    /// Adds a record; `false` when the receiver is gone.
    pub async fn push(&mut self, mut record: SourceRecord) -> Result<bool> {
        if self.first {
            set_marker(&mut record, SnapshotMarker::First)?;
            self.first = false;
        }
        self.emitted += 1;
        if let Some(previous) = self.held.replace(record) {
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
        if let Some(mut last) = self.held.take() {
            last.source_offset.remove("snapshot");
            for key in ["snapshot_db", "snapshot_table", "snapshot_key"] {
                last.source_offset.remove(key);
            }
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
            table: record.topic.clone(),
            source,
        })?;
    }
    Ok(())
}
