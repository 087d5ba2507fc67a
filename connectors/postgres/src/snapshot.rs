//! The initial snapshot: every captured table read in one REPEATABLE READ transaction that
//! imports the snapshot the slot exported when it was created, so the snapshot shows exactly
//! the transactions committed before the slot's consistent point and the stream delivers
//! exactly those after — no gap, no overlap, also with writes running meanwhile.
//!
//! Rows are streamed with `COPY … TO STDOUT` (text format) and queued in chunks, never whole
//! tables in memory. Events have `op` `r` and `source.snapshot` `first` (the first row),
//! `true`, and `last` (the last row, whose offset also marks the snapshot complete).
//!
//! A snapshot interrupted by a crash resumes in a new transaction (the exported snapshot died
//! with its session): finished tables are skipped, the interrupted one is read again in the
//! same order (`synchronize_seqscans` off) and rows up to the durable one are skipped; rows
//! whose position was already written are dropped by the runtime as well.

use std::sync::Arc;

use futures_util::StreamExt;
use sluice_connect::api::{
    OffsetMap, SnapshotPhase, SnapshotProgress, SourceRecord, SourceTaskContext,
};
use sluice_schemas::envelope::EpochNanos;
use sluice_schemas::source::SnapshotMarker;
use sluice_schemas::{Struct, Value};
use tokio_postgres::Client;

use crate::ack::AckTracker;
use crate::catalog::describe_columns;
use crate::connection::{quote_ident, quote_literal};
use crate::copy_text::complete_rows;
use crate::error::{Error, Result};
use crate::events::{EventFactory, estimated_size};
use crate::lsn::Lsn;
use crate::mapping::MappingContext;
use crate::offsets::snapshot_offset;
use crate::queue::QueueSender;
use crate::snapshot_rows::{TablePlace, TableRows};
use crate::table::TableMapping;
use crate::tables::CapturedTable;

/// Records per queued chunk.
const CHUNK: usize = 512;
/// Progress is reported every this many rows.
const PROGRESS_EVERY: u64 = 10_000;

/// What the snapshot reads and where it starts.
#[derive(Debug, Clone)]
pub struct SnapshotPlan {
    /// The slot's consistent point: the snapshot's place in the stream.
    pub slot_lsn: Lsn,
    /// The snapshot exported with the slot; `None` when resuming after a crash.
    pub snapshot_name: Option<String>,
    pub tables: Vec<CapturedTable>,
    /// The durable (table, row) to continue after.
    pub resume_after: Option<(u64, u64)>,
}

/// Everything the snapshot writes to.
#[derive(Debug)]
pub struct SnapshotSinks<'a> {
    pub factory: &'a EventFactory,
    pub queue: &'a QueueSender,
    pub tracker: &'a AckTracker,
    pub context: &'a Arc<dyn SourceTaskContext>,
}

/// Reads every table of `plan` on `client` (a fresh connection) into the queue.
pub async fn run(
    client: &Client,
    plan: &SnapshotPlan,
    mapping: &mut MappingContext,
    sinks: SnapshotSinks<'_>,
) -> Result<()> {
    let begin = match &plan.snapshot_name {
        Some(name) => format!(
            "SET synchronize_seqscans = off; \
             BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; \
             SET TRANSACTION SNAPSHOT {}",
            quote_literal(name)
        ),
        None => {
            tracing::warn!(
                "resuming an interrupted snapshot in a new transaction: rows changed since the \
                 slot was created are read in their newer state and their changes streamed too"
            );
            "SET synchronize_seqscans = off; BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
                .to_string()
        }
    };
    client
        .batch_execute(&begin)
        .await
        .map_err(|source| Error::postgres("open the snapshot transaction", source))?;
    // Debezium reports the snapshot transaction's own id as the rows' txId.
    let transaction_id: i64 = client
        .query_one("SELECT txid_current()", &[])
        .await
        .map_err(|source| Error::postgres("read the snapshot transaction's id", source))?
        .get(0);
    let started_micros = EpochNanos::now().0 / 1000;
    let mut writer = Writer {
        transaction_id,
        sinks,
        plan,
        chunk: Vec::with_capacity(CHUNK + 1),
        chunk_bytes: 0,
        newest: None,
        before_newest: None,
        emitted_any: false,
        started_micros,
        processed_at: EpochNanos::now(),
    };
    for (index, table) in plan.tables.iter().enumerate() {
        let index = index as u64;
        let skip_rows = match plan.resume_after {
            Some((done_table, _)) if index < done_table => continue,
            Some((done_table, row)) if index == done_table => Some(row),
            _ => None,
        };
        let facts = describe_columns(client, table.oid).await?;
        let table_mapping = mapping
            .from_catalog(client, &table.schema, &table.name, &facts)
            .await?;
        let columns: Vec<String> = facts.iter().map(|f| quote_ident(&f.name)).collect();
        let copy = format!(
            "COPY {}.{} ({}) TO STDOUT",
            quote_ident(&table.schema),
            quote_ident(&table.name),
            columns.join(", ")
        );
        writer
            .copy_table(client, &copy, index, table, &table_mapping, skip_rows)
            .await?;
    }
    writer.finish().await?;
    client
        .batch_execute("COMMIT")
        .await
        .map_err(|source| Error::postgres("close the snapshot transaction", source))?;
    Ok(())
}

/// Which row a built record is, and its share of the queue's byte bound.
#[derive(Debug, Clone, Copy)]
struct RowMark {
    table: u64,
    row: u64,
    bytes: usize,
}

struct Writer<'a, 'p> {
    /// `txid_current()` of the snapshot transaction.
    transaction_id: i64,
    sinks: SnapshotSinks<'a>,
    plan: &'p SnapshotPlan,
    /// Built records not queued yet. The newest stays behind when the others are queued: it
    /// waits to learn whether it is the snapshot's last (kept in the list, so a record is
    /// moved once on its way to the queue).
    chunk: Vec<SourceRecord>,
    chunk_bytes: usize,
    /// The newest record in `chunk`, and the one before it (the last record the next
    /// [`Writer::flush`] queues, which gets the chunk's offset).
    newest: Option<RowMark>,
    before_newest: Option<RowMark>,
    emitted_any: bool,
    started_micros: i64,
    /// The rows' processing time (`ts_ms/us/ns`), read from the clock when a table starts and
    /// after each queued chunk rather than per row: Debezium's `ts_ms` is processing time, and
    /// a value at most one chunk's reading old (about a millisecond) tells the same. Reading
    /// it after the queue accepted the chunk keeps a wait on back-pressure out of it.
    processed_at: EpochNanos,
}

impl Writer<'_, '_> {
    async fn copy_table(
        &mut self,
        client: &Client,
        statement: &str,
        index: u64,
        table: &CapturedTable,
        mapping: &TableMapping,
        skip_through: Option<u64>,
    ) -> Result<()> {
        let name = table.qualified_name();
        let stream = client
            .copy_out(statement)
            .await
            .map_err(|source| Error::postgres(format!("start reading table {name}"), source))?;
        let mut stream = std::pin::pin!(stream);
        // Bytes of a row split across COPY messages (PostgreSQL sends one row per message,
        // so this normally stays empty and rows are read straight from the message).
        let mut carry: Vec<u8> = Vec::new();
        let mut row: u64 = 0;
        let mut rows = TableRows::new(
            self.sinks.factory,
            mapping,
            table,
            TablePlace {
                slot_lsn: self.plan.slot_lsn,
                index,
                started_micros: self.started_micros,
                transaction_id: self.transaction_id,
            },
        )?;
        self.progress(&name, 0, table.estimated_rows, SnapshotPhase::Running);
        self.processed_at = EpochNanos::now();
        while let Some(chunk) = stream.next().await {
            let chunk =
                chunk.map_err(|source| Error::postgres(format!("read table {name}"), source))?;
            let joined = !carry.is_empty();
            if joined {
                carry.extend_from_slice(&chunk);
            }
            let data: &[u8] = if joined { &carry } else { &chunk };
            let (rows_text, complete) = complete_rows(data).map_err(|_| Error::CopyFormat {
                table: name.clone(),
                reason: "a row is not UTF-8; use a UTF8 database encoding".into(),
            })?;
            for text in rows_text.split_terminator('\n') {
                let this_row = row;
                row += 1;
                if skip_through.is_some_and(|done| this_row <= done) {
                    continue;
                }
                let record = rows.record(this_row, text, self.processed_at)?;
                let mark = RowMark {
                    table: index,
                    row: this_row,
                    bytes: estimated_size(text.len()),
                };
                if self.push(record, mark) == Chunk::Full {
                    self.flush().await?;
                }
                if row.is_multiple_of(PROGRESS_EVERY) {
                    self.progress(&name, row, table.estimated_rows, SnapshotPhase::Running);
                }
            }
            if joined {
                carry.drain(..complete);
            } else {
                carry.extend_from_slice(&chunk[complete..]);
            }
        }
        if !carry.is_empty() {
            return Err(Error::CopyFormat {
                table: name,
                reason: "the last row has no line end".into(),
            });
        }
        self.progress(&name, row, table.estimated_rows, SnapshotPhase::Done);
        Ok(())
    }

    fn progress(&self, table: &str, rows_done: u64, estimated: Option<u64>, phase: SnapshotPhase) {
        self.sinks.context.report_progress(SnapshotProgress {
            table: table.to_string(),
            rows_done,
            rows_estimated: estimated,
            phase,
        });
    }

    /// Adds a built record to the chunk (synchronous: an `async` step here would copy every
    /// record into its future once more).
    fn push(&mut self, mut record: SourceRecord, mark: RowMark) -> Chunk {
        if !self.emitted_any && self.plan.resume_after.is_none() {
            set_marker(&mut record, SnapshotMarker::First);
        }
        self.emitted_any = true;
        self.chunk.push(record);
        self.chunk_bytes += mark.bytes;
        self.before_newest = self.newest.replace(mark);
        // Full when CHUNK records can go besides the newest one, which stays.
        if self.chunk.len() > CHUNK {
            Chunk::Full
        } else {
            Chunk::Filling
        }
    }

    /// Queues the chunk but its newest record, the last one queued carrying the offset of
    /// the whole chunk: the others have none (building and storing an offset per row cost
    /// more than any other part of a row's bookkeeping), and a record without an offset
    /// leaves the stored one in place. `QueueReceiver::take` ends each batch at a record
    /// with an offset.
    async fn flush(&mut self) -> Result<()> {
        let (Some(newest), Some(last)) = (self.newest, self.before_newest.take()) else {
            return Ok(());
        };
        let held = self.chunk.pop().expect("the newest record is in the chunk");
        let records = std::mem::replace(&mut self.chunk, Vec::with_capacity(CHUNK + 1));
        self.chunk.push(held);
        let bytes = std::mem::replace(&mut self.chunk_bytes, newest.bytes) - newest.bytes;
        let offset = snapshot_offset(
            self.plan.slot_lsn,
            last.table,
            last.row,
            false,
            self.started_micros,
        );
        self.queue(records, offset, bytes).await
    }

    /// Queues every record left, the newest marked as the snapshot's last and carrying the
    /// offset that marks the snapshot complete.
    async fn finish(&mut self) -> Result<()> {
        let Some(newest) = self.newest.take() else {
            return Ok(());
        };
        self.before_newest = None;
        let mut records = std::mem::take(&mut self.chunk);
        if let Some(last) = records.last_mut() {
            set_marker(last, SnapshotMarker::Last);
        }
        let bytes = std::mem::take(&mut self.chunk_bytes);
        let offset = snapshot_offset(
            self.plan.slot_lsn,
            newest.table,
            newest.row,
            true,
            self.started_micros,
        );
        self.queue(records, offset, bytes).await
    }

    /// Sends `records`, the last one given `offset`, then reads the clock for the next rows.
    async fn queue(
        &mut self,
        mut records: Vec<SourceRecord>,
        offset: OffsetMap,
        bytes: usize,
    ) -> Result<()> {
        let Some(last) = records.last_mut() else {
            return Ok(());
        };
        last.source_offset = offset.into();
        if let Some(position) = &last.position {
            self.sinks.tracker.emitted(position);
        }
        self.sinks
            .queue
            .send(records, bytes)
            .await
            .map_err(|_| Error::Stopped)?;
        self.processed_at = EpochNanos::now();
        Ok(())
    }
}

/// Whether the chunk has a full batch to queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    Filling,
    Full,
}

/// Rewrites `source.snapshot` of a built change event.
fn set_marker(record: &mut SourceRecord, marker: SnapshotMarker) {
    if let Value::Struct(envelope) = &mut record.value.value
        && let Some(Value::Struct(source)) = envelope.get("source")
    {
        let mut source: Struct = source.clone();
        if source.put("snapshot", marker.as_str()).is_ok() {
            let _ = envelope.put("source", Value::Struct(source));
        }
    }
}
