//! Upsert mode for one topic partition: the current row of every key, kept in memory and
//! written as one snapshot file `path/<topic>/<topic>+<partition>.<ext>` that replaces the
//! previous one by rename — a reader of `path/<topic>/*.<ext>` sees exactly the current rows,
//! never two versions.
//!
//! The scheme (exactly once without reading our own files back):
//! - The state is a pure function of the partition's log prefix: updates replace the key's
//!   row, deletes (op `d`, ExtractNewRecordState's `__deleted`, or a tombstone) remove it,
//!   a truncate empties the table. So on `open` the partition is read again from the start
//!   of the log and the state rebuilt; rewriting the snapshot of the same prefix gives the
//!   same rows.
//! - Before each snapshot is renamed into place, a hidden marker
//!   `.<topic>+<partition>.upsert-offset` durably records the last offset it covers. On a
//!   restart, records up to the marker only rebuild the state (the visible snapshot already
//!   holds them, or — after a crash between marker and rename — one rewrite follows once the
//!   replay reaches the marker); the snapshot is rewritten only from there on, so a replay
//!   never makes an older state visible.
//! - A snapshot is rewritten when changes are pending and `flush.size` changes arrived or
//!   `rotate.interval.ms` passed, and when the partition is closed or the task stops.
//!
//! Rows written before a schema change are projected onto the newest row schema by column
//! name (a column that is new, or whose type changed, is null for them).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use sluice_broker::Offset;
use sluice_connect::api::{Headers, SchemaAndValue, SinkRecord};
use sluice_schemas::{SchemaRef, Struct, Value};

use crate::columns::{ColumnKind, Layout};
use crate::config::{FileSinkConfig, Mode};
use crate::durable::{PendingFile, remove_temporaries, write_atomically};
use crate::error::{Error, Result};
use crate::event::{Change, Effect, Row};
use crate::format::FileSpec;
use crate::json::write_value;
use crate::naming::{snapshot_name, topic_dir};

/// The current table of one topic partition.
#[derive(Debug)]
pub struct UpsertPartition {
    topic: String,
    partition: i32,
    /// Key (as JSON bytes) → the key's current row, as a plain-row record.
    rows: BTreeMap<Vec<u8>, SinkRecord>,
    newest_schema: Option<SchemaRef>,
    /// Records up to this offset are already in the visible snapshot (from the marker).
    replay_through: Option<Offset>,
    last_offset: Option<Offset>,
    pending_changes: u64,
    last_snapshot: Instant,
    key_buffer: Vec<u8>,
}

fn marker_name(topic: &str, partition: i32) -> String {
    format!(".{topic}+{partition}.upsert-offset")
}

/// Reads the marker of a topic partition and removes its temporaries: the offset the visible
/// snapshot covers, if any.
pub fn recover(config: &FileSinkConfig, topic: &str, partition: i32) -> Result<Option<Offset>> {
    let dir = topic_dir(&config.path, topic);
    remove_temporaries(std::slice::from_ref(&dir), topic, partition)?;
    let marker = dir.join(marker_name(topic, partition));
    match std::fs::read_to_string(&marker) {
        Ok(text) => Ok(text.trim().parse().ok().map(Offset)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(Error::io(
            format!("cannot read {}", marker.display()),
            error,
        )),
    }
}

impl UpsertPartition {
    pub fn new(topic: &str, partition: i32, replay_through: Option<Offset>) -> Self {
        Self {
            topic: topic.to_string(),
            partition,
            rows: BTreeMap::new(),
            newest_schema: None,
            replay_through,
            last_offset: None,
            pending_changes: 0,
            last_snapshot: Instant::now(),
            key_buffer: Vec::new(),
        }
    }

    fn replaying(&self, offset: Offset) -> bool {
        self.replay_through.is_some_and(|through| offset < through)
    }

    /// Applies one record (tombstones included: they delete their key).
    pub fn apply(&mut self, record: &SinkRecord) -> Result<()> {
        self.last_offset = Some(record.offset);
        let replaying = self.replaying(record.offset);
        if !replaying {
            self.pending_changes += 1;
        }
        let change = Change::of(record);
        if let Some(Change {
            effect: Effect::Truncate,
            ..
        }) = change
        {
            self.rows.clear();
            return Ok(());
        }
        if change.is_none() && !record.value.is_null() {
            return Ok(()); // a message event: no row changes
        }
        self.key_buffer.clear();
        if record.key.is_null() {
            return Err(Error::Unwritable {
                topic: record.topic.clone(),
                partition: record.partition.0,
                offset: record.offset.0,
                reason: "mode=upsert needs a record key (the table's primary key); use mode=changelog for tables without one".into(),
            });
        }
        write_value(
            &mut self.key_buffer,
            record.key.schema.as_deref(),
            &record.key.value,
        );
        let Some(change) = change.filter(|c| c.effect == Effect::Upsert) else {
            self.rows.remove(&self.key_buffer);
            return Ok(());
        };
        let (schema, row) = match change.row {
            Row::Struct(row) => (Some(row.schema().clone()), Value::Struct(row.clone())),
            Row::Map(entries) => (None, Value::Map(entries.to_vec())),
            Row::Absent => return Ok(()),
        };
        if let Some(schema) = &schema {
            let newer = self
                .newest_schema
                .as_ref()
                .is_none_or(|newest| !std::sync::Arc::ptr_eq(newest, schema));
            if newer {
                self.newest_schema = Some(schema.clone());
            }
        }
        let stored = SinkRecord {
            topic: record.topic.clone(),
            partition: record.partition,
            offset: record.offset,
            key: SchemaAndValue::null(),
            value: SchemaAndValue::new(schema, row),
            headers: Headers::new(),
            timestamp_ms: record.timestamp_ms,
        };
        self.rows.insert(self.key_buffer.clone(), stored);
        Ok(())
    }

    /// Whether the snapshot should be rewritten now.
    pub fn snapshot_due(&self, config: &FileSinkConfig) -> bool {
        self.pending_changes > 0
            && (self.pending_changes >= config.flush_size
                || self.last_snapshot.elapsed() >= config.rotate_interval)
    }

    /// The offset that may be committed: everything consumed once it is in the snapshot.
    pub fn committable(&self, consumed: Offset) -> Option<Offset> {
        let replayed = self
            .replay_through
            .is_none_or(|through| self.last_offset.is_some_and(|last| last >= through));
        (self.pending_changes == 0 && replayed).then_some(consumed)
    }

    /// Writes the current rows as the new snapshot if changes are pending.
    pub fn write_snapshot(&mut self, config: &FileSinkConfig) -> Result<Option<PathBuf>> {
        let Some(last) = self.last_offset.filter(|_| self.pending_changes > 0) else {
            return Ok(None);
        };
        let dir = topic_dir(&config.path, &self.topic);
        let name = snapshot_name(&self.topic, self.partition, config.format.extension());
        let spec = FileSpec {
            format: config.format,
            compression: config.compression,
            mode: Mode::Upsert,
        };
        let layout = self
            .newest_schema
            .as_ref()
            .map(|schema| Layout::new(schema.clone(), Mode::Upsert));
        let mut pending = PendingFile::create(&dir, &name, spec, layout.clone())?;
        for stored in self.rows.values() {
            let projected = layout.as_ref().and_then(|layout| project(stored, layout));
            let record = projected.as_ref().unwrap_or(stored);
            if let Some(change) = Change::of(record) {
                pending.writer().append(&change)?;
            }
        }
        write_atomically(
            &dir,
            &marker_name(&self.topic, self.partition),
            last.0.to_string().as_bytes(),
        )?;
        let path = pending.commit(&name)?;
        self.pending_changes = 0;
        self.last_snapshot = Instant::now();
        Ok(Some(path))
    }
}

/// The row of `stored` in the shape of `layout`, when its schema is an older one.
fn project(stored: &SinkRecord, layout: &Layout) -> Option<SinkRecord> {
    let Value::Struct(row) = &stored.value.value else {
        return None;
    };
    if layout.fits(row.schema()) {
        return None;
    }
    let mut projected = Struct::new(layout.row_schema.clone());
    for field in layout.row_schema.fields() {
        let Some(old) = row.schema().field(field.name()) else {
            continue;
        };
        if ColumnKind::of(old.schema()) != ColumnKind::of(field.schema()) {
            continue;
        }
        if let Some(value) = row.get_at(old.index()) {
            // A value that does not fit the new field's schema stays null.
            let _ = projected.put_at(field.index(), value.clone());
        }
    }
    Some(SinkRecord {
        value: SchemaAndValue::with_schema(layout.row_schema.clone(), projected),
        ..stored.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::changelog::tests::config;
    use crate::config::Format;
    use crate::event::tests::{customers, pg_event};
    use sluice_schemas::envelope::Op;

    fn read_lines(path: &std::path::Path) -> Vec<serde_json::Value> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    #[test]
    fn the_snapshot_holds_the_current_row_per_key() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = config(dir.path(), Format::JsonLines, 1000);
        config.mode = Mode::Upsert;
        let table = customers();
        let mut partition = UpsertPartition::new("db.inv.customers", 0, None);
        let events = [
            pg_event(&table, 0, Op::Create, 1, "a"),
            pg_event(&table, 1, Op::Create, 2, "b"),
            pg_event(&table, 2, Op::Update, 1, "a2"),
            pg_event(&table, 3, Op::Delete, 2, "b"),
            pg_event(&table, 4, Op::Create, 3, "c"),
        ];
        for event in &events {
            partition.apply(event).unwrap();
        }
        assert_eq!(partition.committable(Offset(5)), None);
        let path = partition.write_snapshot(&config).unwrap().unwrap();
        assert_eq!(partition.committable(Offset(5)), Some(Offset(5)));
        let rows = read_lines(&path);
        assert_eq!(
            rows,
            [
                serde_json::json!({"id": 1, "email": "a2"}),
                serde_json::json!({"id": 3, "email": "c"})
            ]
        );
        assert_eq!(
            recover(&config, "db.inv.customers", 0).unwrap(),
            Some(Offset(4))
        );

        // A restart replays from the start: nothing is rewritten until the marker is reached.
        let mut replay = UpsertPartition::new("db.inv.customers", 0, Some(Offset(4)));
        for event in &events[..4] {
            replay.apply(event).unwrap();
        }
        assert!(replay.write_snapshot(&config).unwrap().is_none());
        replay.apply(&events[4]).unwrap();
        assert!(replay.write_snapshot(&config).unwrap().is_some());
        assert_eq!(read_lines(&path).len(), 2);
    }
}
