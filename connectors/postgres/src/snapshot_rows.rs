//! One snapshot table's rows as change events: each COPY text line becomes an `op` `r` record
//! with its position. What the rows of a table share — the `source` block, the table's name,
//! the cells' list — is built once per table ([`TableRows::new`]); per row only the row and
//! key structs and the record itself are made, the row's values converted in a buffer kept
//! between rows.
//!
//! Records are built without a source offset: the snapshot gives one only to the last record
//! of each chunk it queues, since the runtime commits the newest
//! offset of each polled batch and a record without one never replaces a stored offset.

use sluice_connect::api::{SharedOffsetMap, SourceRecord};
use sluice_schemas::Struct;
use sluice_schemas::envelope::{EpochNanos, Op};
use sluice_schemas::source::SnapshotMarker;

use crate::copy_text::split_cells;
use crate::error::{Error, Result};
use crate::events::{EventFactory, EventTiming, Placement, Rows, SourceFacts};
use crate::lsn::Lsn;
use crate::offsets::snapshot_position;
use crate::table::{Cell, RowBuffer, TableMapping, recycle_cells};
use crate::tables::CapturedTable;

/// Where a snapshot table sits and when its rows were read.
#[derive(Debug, Clone, Copy)]
pub struct TablePlace {
    /// The slot's consistent point: the snapshot's place in the stream.
    pub slot_lsn: Lsn,
    /// The table's index in the snapshot's table list.
    pub index: u64,
    /// When the snapshot started (the rows' event time).
    pub started_micros: i64,
    /// `txid_current()` of the snapshot transaction.
    pub transaction_id: i64,
}

/// Builds the records of one snapshot table's rows.
#[derive(Debug)]
pub struct TableRows<'a> {
    factory: &'a EventFactory,
    mapping: &'a TableMapping,
    /// `schema.table`, for errors.
    name: String,
    place: TablePlace,
    /// The `source` block every row of the table carries (`snapshot` = `true`).
    source: Struct,
    /// The cells' list, kept between rows so a row does not allocate one (empty between
    /// calls; see [`recycle_cells`]).
    cells: Vec<Cell<'static>>,
    /// The converted values, kept between rows as well.
    values: RowBuffer,
}

impl<'a> TableRows<'a> {
    pub fn new(
        factory: &'a EventFactory,
        mapping: &'a TableMapping,
        table: &CapturedTable,
        place: TablePlace,
    ) -> Result<Self> {
        let source = factory.source(&SourceFacts {
            snapshot: SnapshotMarker::True,
            event_micros: place.started_micros,
            schema: &table.schema,
            table: &table.name,
            tx_id: Some(place.transaction_id),
            lsn: Some(place.slot_lsn),
            xmin: None,
            last_commit: None,
        })?;
        Ok(Self {
            factory,
            mapping,
            name: table.qualified_name(),
            place,
            source,
            cells: Vec::with_capacity(mapping.column_count()),
            values: RowBuffer::default(),
        })
    }

    /// The record of row number `row` (from 0), whose COPY text (without its line end) is
    /// `text`, processed at `processed_at` (the envelope's `ts_ms/us/ns`; the snapshot reads
    /// the clock once per queued chunk, not per row); it has no source offset (see the module
    /// doc).
    pub fn record(
        &mut self,
        row: u64,
        text: &str,
        processed_at: EpochNanos,
    ) -> Result<SourceRecord> {
        let mut unescaped = Vec::new();
        let mut cells = recycle_cells(std::mem::take(&mut self.cells));
        split_cells(text, &mut unescaped, &mut cells).map_err(|reason| Error::CopyFormat {
            table: self.name.clone(),
            reason,
        })?;
        let (after, key) = self.mapping.row_and_key_in(&cells, &mut self.values)?;
        self.cells = recycle_cells(cells);
        let rows = Rows {
            after: Some(after),
            key,
            before: None,
        };
        let placement = Placement {
            offset: SharedOffsetMap::empty(),
            position: snapshot_position(self.place.slot_lsn, self.place.index, row),
        };
        self.factory.change_with_source(
            self.mapping,
            Op::Read,
            rows,
            self.source.clone(),
            EventTiming {
                event_micros: self.place.started_micros,
                processed_at,
            },
            None,
            placement,
        )
    }
}
