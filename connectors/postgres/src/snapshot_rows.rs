//! One snapshot table's rows as change events: each COPY text line becomes an `op` `r` record
//! with its offset and position. What the rows of a table share — the `source` block, the
//! offset's fields, the table's name — is built once per table ([`TableRows::new`]); per row
//! only the cells, the row and key structs and the record itself are made.

use sluice_connect::api::SourceRecord;
use sluice_schemas::Struct;
use sluice_schemas::envelope::Op;
use sluice_schemas::source::SnapshotMarker;

use crate::copy_text::split_cells;
use crate::error::{Error, Result};
use crate::events::{EventFactory, Placement, Rows, SourceFacts};
use crate::lsn::Lsn;
use crate::offsets::{SnapshotOffsets, snapshot_position};
use crate::table::{Cell, TableMapping};
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
    offsets: SnapshotOffsets,
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
            offsets: SnapshotOffsets::new(place.slot_lsn, place.index, place.started_micros),
            place,
            source,
        })
    }

    /// The record of row number `row` (from 0), whose COPY text (without its line end) is
    /// `text`.
    pub fn record(&self, row: u64, text: &str) -> Result<SourceRecord> {
        let mut unescaped = Vec::new();
        let mut cells: Vec<Cell<'_>> = Vec::with_capacity(self.mapping.column_count());
        split_cells(text, &mut unescaped, &mut cells).map_err(|reason| Error::CopyFormat {
            table: self.name.clone(),
            reason,
        })?;
        let rows = Rows {
            after: Some(self.mapping.row(&cells)?),
            key: self.mapping.key(&cells)?,
            before: None,
        };
        let placement = Placement {
            offset: self.offsets.row(row),
            position: snapshot_position(self.place.slot_lsn, self.place.index, row),
        };
        self.factory.change_with_source(
            self.mapping,
            Op::Read,
            rows,
            self.source.clone(),
            self.place.started_micros,
            None,
            placement,
        )
    }
}
