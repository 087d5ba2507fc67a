//! Resuming a snapshot that a crash interrupted, without gaps or duplicates.
//!
//! The first run read the tables in a read view at binlog position P0 and stored, with each
//! record, the table being read and the key of its last row ([`SnapshotCursor`]). The
//! resumed run opens a new read view at P1 and reads what is left: that table after the key,
//! and the tables after it. Streaming then starts at P0, as for an uninterrupted snapshot,
//! so every change between P0 and P1 (the window) is emitted anyway; the rows read at P1 must
//! therefore be emitted *as they were at P0*. A row's P0 state is the before-image of its
//! first change in the window (none when that change inserted it), or its P1 state when the
//! window did not touch it. This module reads the window once and keeps, per key of the
//! tables still to read, that first image — memory in proportion to the rows changed while
//! the connector was down.
//!
//! [`SnapshotCursor`]: crate::offset::SnapshotCursor

use std::collections::{BTreeMap, HashMap};

use sluice_connect::api::SourceRecord;
use sluice_schemas::{Struct, Value};

use crate::error::Result;
use crate::offset::{BinlogPosition, SourceOffset, file_number};
use crate::pipeline::Pipeline;
use crate::snapshot::key_integers;
use crate::stream::changes::ChangeBuilder;
use crate::stream::client::BinlogClient;

/// A row's state at P0: its key and row structs, or `None` when the row did not exist.
pub type EarlierState = Option<(Struct, Struct)>;

/// The P0 states of the rows the window changed, per table topic and integer key.
#[derive(Debug, Default)]
pub struct WindowStates {
    tables: HashMap<String, BTreeMap<Vec<i64>, EarlierState>>,
}

impl WindowStates {
    /// The states of one table's rows (empty when the window did not touch it).
    pub fn take(&mut self, topic: &str) -> BTreeMap<Vec<i64>, EarlierState> {
        self.tables.remove(topic).unwrap_or_default()
    }

    /// Notes one record of the window when its table and key are wanted and it is the
    /// first change of that key.
    fn note(&mut self, record: &SourceRecord, wanted: &HashMap<String, Option<Vec<i64>>>) {
        let Some(after) = wanted.get(&*record.topic) else {
            return;
        };
        let (Value::Struct(envelope), Value::Struct(key)) =
            (&record.value.value, &record.key.value)
        else {
            return; // a tombstone, or a keyless table (never resumed)
        };
        let Some(integers) = key_integers(key) else {
            return;
        };
        if after.as_ref().is_some_and(|after| integers <= *after) {
            return; // read at P0 before the crash: its changes simply follow
        }
        let earlier = match envelope.get("op") {
            Some(Value::String(op)) if op == "c" => None,
            _ => match envelope.get("before") {
                Some(Value::Struct(before)) => Some((key.clone(), before.clone())),
                _ => None,
            },
        };
        self.tables
            .entry(record.topic.to_string())
            .or_default()
            .entry(integers)
            .or_insert(earlier);
    }
}

/// Reads the binlog from `from` (P0) up to `to` (P1) and returns the first images of the
/// rows of the `wanted` topics (each with the key its reading resumes after, if any).
pub async fn read_window(
    pipeline: &Pipeline,
    from: &SourceOffset,
    to: &BinlogPosition,
    wanted: &HashMap<String, Option<Vec<i64>>>,
) -> Result<WindowStates> {
    let mut states = WindowStates::default();
    let end = (to.file_number(), to.pos);
    if (from.group.file_number(), from.group.pos) >= end {
        return Ok(states);
    }
    let mut client = BinlogClient::new(
        pipeline.config.clone(),
        pipeline.server.flavour,
        &pipeline.server.checksum,
        from.group.clone(),
    );
    let mut builder = ChangeBuilder::new(
        pipeline.partition.clone(),
        pipeline.tables.clone(),
        pipeline.filter.clone(),
        pipeline.source.clone(),
        pipeline.config.tombstones,
        false,
        from,
    )
    // The stream after the snapshot builds its records the same way.
    .with_skipped_operations(pipeline.config.skipped_operations)
    .with_gtid_source_filter(pipeline.gtid_sources.clone());
    let mut records = Vec::new();
    let mut events = 0u64;
    loop {
        let event = client.next_event().await?;
        let file = file_number(&event.file);
        if (file, event.start) >= end {
            break; // past P1: the resumed read view already shows nothing of it
        }
        let reached = (file, event.next) >= end;
        builder.handle(event, &mut records)?;
        for record in records.drain(..) {
            states.note(&record, wanted);
        }
        events += 1;
        if reached {
            break;
        }
    }
    tracing::info!(
        events,
        from = %from.group,
        to = %to,
        changed_rows = states.tables.values().map(BTreeMap::len).sum::<usize>(),
        "read the binlog between the interrupted snapshot and its resumption"
    );
    Ok(states)
}
