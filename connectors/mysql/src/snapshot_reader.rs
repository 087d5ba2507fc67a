//! The initial snapshot as records: every captured table read in primary-key order inside the
//! read view of [`crate::snapshot`], each row an op `r` record (`snapshot` first / true /
//! last, the last one held back until the end), progress reported per table.
//!
//! Each record's offset names the table and the integer key of its row, and its position is
//! derived from them, so after a crash the snapshot resumes where it was instead of starting
//! over: the tables already read are skipped, the table in progress continues after the
//! stored key, and the rows still to read are emitted as they were at the original snapshot
//! position (see [`crate::snapshot_rollback`]). Tables without such a key (no primary key,
//! a non-integer one, or `message.key.columns`) are positioned by sequence; when one of them
//! is still to be read, the snapshot starts over as before.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use futures_util::StreamExt;
use mysql_async::prelude::Queryable;
use sluice_connect::api::{
    SharedOffsetMap, SnapshotPhase, SnapshotProgress, SourcePosition, SourceRecord,
};
use sluice_schemas::envelope::EpochNanos;
use sluice_schemas::source::SnapshotMarker;
use sluice_schemas::{SchemaRef, Struct, Value};

use crate::connection;
use crate::error::{Error, Result};
use crate::offset::{
    SnapshotCursor, SnapshotState, SourceOffset, snapshot_key_position, snapshot_sequence_position,
    snapshot_table_prefix,
};
use crate::pipeline::Pipeline;
use crate::queue::BatchSender;
use crate::records::{RowChange, RowOrigin, RowPlace, push_change};
use crate::snapshot::{self, CapturedTable, SnapshotPoint, key_integers, key_is_ordered};
use crate::snapshot_output::{Output, RowOffset};
use crate::snapshot_rollback::{EarlierState, WindowStates, read_window};
use crate::source_info::SourceInfo;
use crate::table::TableMapping;

/// One table to read, with what is known of it before reading.
struct TableRead {
    table: CapturedTable,
    mapping: TableMapping,
    key: Vec<String>,
    /// Whether rows are placed by their integer primary key (see [`key_is_ordered`]).
    ordered: bool,
}

impl TableRead {
    fn sort_key(&self) -> (&[u8], &[u8]) {
        (self.table.db.as_bytes(), self.table.table.as_bytes())
    }
}

/// What every record of one snapshot run shares.
struct RunContext<'a> {
    origin: &'a SnapshotPoint,
    started_micros: i64,
}

/// What every record of one table of a snapshot run shares.
#[derive(Clone, Copy)]
struct ReadContext<'a> {
    read: &'a TableRead,
    run: &'a RunContext<'a>,
    /// The source block of every row of the table.
    source: &'a Struct,
    /// The offset every row of the table shares (see [`RowOffset`]).
    offset: &'a Arc<SourceOffset>,
}

impl Pipeline {
    /// Reads every captured table (or, with `resume`, what an interrupted snapshot had left);
    /// returns the snapshot's point, where streaming starts (`None`: receiver gone).
    pub(crate) async fn snapshot(
        &self,
        sender: &BatchSender,
        resume: Option<&SourceOffset>,
    ) -> Result<Option<SnapshotPoint>> {
        let mut conn = connection::connect(&self.config).await?;
        let view = snapshot::open_read_view(&mut conn, self.server.flavour).await?;
        tracing::info!(at = %view.position, "snapshot read view opened");
        let mut reads = Vec::new();
        for table in snapshot::captured_tables(&mut conn, &self.filter).await? {
            let (columns, key) =
                snapshot::table_columns(&mut conn, &table.db, &table.table).await?;
            let mapping = self
                .tables
                .from_catalog(&table.db, &table.table, &columns, &key)?;
            let ordered = key_is_ordered(&mapping, &key);
            reads.push(TableRead {
                table,
                mapping,
                key,
                ordered,
            });
        }
        let cursor = resume.and_then(|offset| offset.cursor.as_ref().map(|c| (offset, c)));
        let (origin, cursor, mut window) = match cursor {
            Some((offset, cursor)) => {
                let from = (cursor.db.as_bytes(), cursor.table.as_bytes());
                let left: Vec<&TableRead> = reads
                    .iter()
                    .filter(|read| read.sort_key() >= from)
                    .collect();
                if let Some(unordered) = left.iter().find(|read| !read.ordered) {
                    tracing::warn!(
                        table = %format!("{}.{}", unordered.table.db, unordered.table.table),
                        "the interrupted snapshot cannot resume (a table left to read has no \
                         integer primary key as its record key): reading every table again"
                    );
                    (view.clone(), None, WindowStates::default())
                } else {
                    let wanted: HashMap<String, Option<Vec<i64>>> = left
                        .iter()
                        .map(|read| {
                            let after = (read.sort_key() == from).then(|| cursor.after.clone());
                            (read.mapping.topic().to_string(), after)
                        })
                        .collect();
                    let window = read_window(self, offset, &view.position, &wanted).await?;
                    reads.retain(|read| read.sort_key() >= from);
                    let origin = SnapshotPoint {
                        position: offset.group.clone(),
                        gtids: offset.gtids.clone(),
                    };
                    tracing::info!(
                        from = %origin.position,
                        at = %view.position,
                        table = %format!("{}.{}", cursor.db, cursor.table),
                        "resuming the interrupted snapshot"
                    );
                    (origin, Some(cursor.clone()), window)
                }
            }
            None => (view.clone(), None, WindowStates::default()),
        };
        let run = RunContext {
            origin: &origin,
            started_micros: EpochNanos::now().0 / 1000,
        };
        let mut out = Output::new(sender, self.config.max_batch_size, cursor.is_none());
        for read in &reads {
            let after = cursor
                .as_ref()
                .filter(|c| c.db == read.table.db && c.table == read.table.table)
                .map(|c| c.after.as_slice());
            let earlier = window.take(read.mapping.topic());
            let sql =
                snapshot::select_statement(&read.table.db, &read.table.table, &read.key, after);
            let alive = self
                .read_table(&mut conn, read, &sql, earlier, &view, &run, &mut out)
                .await?;
            if !alive {
                return Ok(None);
            }
        }
        conn.query_drop("COMMIT")
            .await
            .map_err(|source| Error::Database {
                context: "snapshot: end the read transaction".into(),
                source,
            })?;
        let _ = conn.disconnect().await;
        let emitted = out.emitted();
        if !out.finish().await? {
            return Ok(None);
        }
        tracing::info!(records = emitted, tables = reads.len(), "snapshot done");
        Ok(Some(origin))
    }

    /// Reads one table, merging in the P0 states of rows the window changed (`earlier`);
    /// `false` when the receiver is gone.
    #[allow(clippy::too_many_arguments)]
    async fn read_table(
        &self,
        conn: &mut mysql_async::Conn,
        read: &TableRead,
        sql: &str,
        mut earlier: BTreeMap<Vec<i64>, EarlierState>,
        view: &SnapshotPoint,
        run: &RunContext<'_>,
        out: &mut Output<'_>,
    ) -> Result<bool> {
        let table = &read.table;
        let name = format!("{}.{}", table.db, table.table);
        let read_error = |source| Error::Database {
            context: format!("snapshot: read {name}"),
            source,
        };
        let report = |rows_done, phase| {
            self.context.report_progress(SnapshotProgress {
                table: name.clone(),
                rows_done,
                rows_estimated: table.rows_estimated,
                phase,
            });
        };
        report(0, SnapshotPhase::Running);
        let prefix = snapshot_table_prefix(&run.origin.position, &table.db, &table.table);
        // Every row of the table has the same source block: built once, copied per row.
        let source = self.source_block(read, run)?;
        let offset = Arc::new(table_offset(read, run));
        let context = &ReadContext {
            read,
            run,
            source: &source,
            offset: &offset,
        };
        let mut result = conn.query_iter(sql).await.map_err(read_error)?;
        let mut rows = result
            .stream::<mysql_async::Row>()
            .await
            .map_err(read_error)?;
        let mut rows_done = 0u64;
        while let Some(row) = match rows.as_mut() {
            Some(stream) => stream.next().await,
            None => None,
        } {
            let values: Vec<mysql_async::Value> = row
                .map_err(read_error)?
                .unwrap_raw()
                .into_iter()
                .map(|v| v.unwrap_or(mysql_async::Value::NULL))
                .collect();
            let key = read.mapping.key_from_snapshot(&values)?;
            let after = read.mapping.row_from_snapshot_owned(values)?;
            rows_done += 1;
            if !read.ordered {
                let position = snapshot_sequence_position(&prefix, &view.position, rows_done);
                let (record, offset) = self.read_record(context, after, key, position, None)?;
                if !out.push(record, offset).await? {
                    return Ok(false);
                }
                continue;
            }
            let integers = ordered_key(key.as_ref(), &name)?;
            // Rows the window changed come in key order with the rows read now.
            while let Some(entry) = earlier.first_entry() {
                if *entry.key() >= integers {
                    break;
                }
                let (before_key, state) = entry.remove_entry();
                if !self
                    .push_earlier(context, &prefix, before_key, state, out)
                    .await?
                {
                    return Ok(false);
                }
            }
            let record = match earlier.remove(&integers) {
                Some(state) => {
                    if !self
                        .push_earlier(context, &prefix, integers, state, out)
                        .await?
                    {
                        return Ok(false);
                    }
                    None
                }
                None => Some(self.read_record(
                    context,
                    after,
                    key,
                    snapshot_key_position(&prefix, &integers),
                    Some(integers),
                )?),
            };
            if let Some((record, offset)) = record
                && !out.push(record, offset).await?
            {
                return Ok(false);
            }
            if rows_done.is_multiple_of(self.config.max_batch_size as u64) {
                report(rows_done, SnapshotPhase::Running);
            }
        }
        drop(rows);
        drop(result);
        for (integers, state) in earlier {
            if !self
                .push_earlier(context, &prefix, integers, state, out)
                .await?
            {
                return Ok(false);
            }
        }
        report(rows_done, SnapshotPhase::Done);
        Ok(true)
    }

    /// Emits a row as it was at the snapshot's origin (nothing when it did not exist yet).
    async fn push_earlier(
        &self,
        context: &ReadContext<'_>,
        prefix: &[u8],
        integers: Vec<i64>,
        state: EarlierState,
        out: &mut Output<'_>,
    ) -> Result<bool> {
        let Some((key, row)) = state else {
            return Ok(true);
        };
        let read = context.read;
        let envelope = read.mapping.envelope();
        let row = conform(&row, envelope.row_schema(), read.mapping.topic())?;
        let key = envelope
            .key_schema()
            .map(|schema| conform(&key, schema, read.mapping.topic()))
            .transpose()?;
        let position = snapshot_key_position(prefix, &integers);
        let (record, offset) = self.read_record(context, row, key, position, Some(integers))?;
        out.push(record, offset).await
    }

    /// The `source` block of every row of one table.
    fn source_block(&self, read: &TableRead, run: &RunContext<'_>) -> Result<Struct> {
        let point = &run.origin.position;
        self.source.build(&SourceInfo {
            db: &read.table.db,
            table: Some(&read.table.table),
            event_time_micros: run.started_micros,
            snapshot: SnapshotMarker::True,
            server_id: 0,
            gtid: None,
            file: &point.file,
            pos: point.pos,
            row: 0,
            thread: None,
            query: None,
        })
    }

    /// The `r` record of one row (its offset map left empty, see [`Output`]) and its offset.
    fn read_record(
        &self,
        context: &ReadContext<'_>,
        after: Struct,
        key: Option<Struct>,
        position: SourcePosition,
        integers: Option<Vec<i64>>,
    ) -> Result<(SourceRecord, RowOffset)> {
        let ReadContext {
            read,
            run,
            source,
            offset,
        } = *context;
        let offset = RowOffset {
            table: offset.clone(),
            after: integers,
        };
        let origin = RowOrigin {
            partition: &self.partition,
            offset: SharedOffsetMap::empty(),
            place: RowPlace::Snapshot(&position),
            timestamp_ms: run.started_micros / 1000,
            processed_at: EpochNanos::now(),
        };
        let mut one = Vec::with_capacity(1);
        push_change(
            &mut one,
            &read.mapping,
            RowChange::Read(after),
            (None, key),
            source.clone(),
            self.config.tombstones,
            origin,
        )?;
        let record = one.pop().ok_or_else(|| Error::TableMapping {
            table: read.mapping.topic().to_string(),
            reason: "a snapshot row made no record".into(),
        })?;
        Ok((record, offset))
    }
}

/// The offset of every row of a table, its cursor naming the table with an empty key.
fn table_offset(read: &TableRead, run: &RunContext<'_>) -> SourceOffset {
    SourceOffset {
        group: run.origin.position.clone(),
        event: 0,
        row: 0,
        gtids: run.origin.gtids.clone(),
        server_id: 0,
        ts_sec: (run.started_micros / 1_000_000) as u64,
        snapshot: SnapshotState::InProgress,
        cursor: Some(SnapshotCursor {
            db: read.table.db.clone(),
            table: read.table.table.clone(),
            after: Vec::new(),
        }),
    }
}

/// The integers of a key the table's columns say is ordered.
fn ordered_key(key: Option<&Struct>, table: &str) -> Result<Vec<i64>> {
    key.and_then(key_integers)
        .ok_or_else(|| Error::TableMapping {
            table: table.to_owned(),
            reason: "its primary key was read as integers but a row's key is not".into(),
        })
}

/// A struct of a row image (from a TABLE_MAP) in the snapshot's schema (from the catalog),
/// field by field.
fn conform(value: &Struct, schema: &SchemaRef, table: &str) -> Result<Struct> {
    let mut out = Struct::new(schema.clone());
    for field in schema.fields() {
        if let Some(v) = value.get(field.name())
            && *v != Value::Null
        {
            out.put(field.name(), v.clone())
                .map_err(|source| Error::Schema {
                    table: table.to_owned(),
                    source,
                })?;
        }
    }
    Ok(out)
}
