//! The value of one column of one change ([`Cell`]), borrowed from the record: what every
//! format writer reads, so the three formats agree on what a column holds.

use sluice_schemas::{Schema, Value};

use crate::columns::{Column, Meta, Source};
use crate::event::{Change, Position, Row};

/// One column's value in one row.
#[derive(Debug, Clone, Copy)]
pub enum Cell<'a> {
    Null,
    /// A row field with its schema.
    Value(&'a Value, &'a Schema),
    Str(&'a str),
    Int(i64),
    Bool(bool),
    Position(Position<'a>),
}

/// The cell of `column` in `change`.
pub fn cell<'a>(change: &Change<'a>, column: &Column) -> Cell<'a> {
    match column.source {
        Source::Field(index) => match change.row {
            Row::Struct(row) => match (row.get_at(index), row.schema().fields().get(index)) {
                (Some(Value::Null) | None, _) | (_, None) => Cell::Null,
                (Some(value), Some(field)) => Cell::Value(value, field.schema()),
            },
            Row::Map(_) | Row::Absent => Cell::Null,
        },
        Source::Meta(meta) => meta_cell(change, meta),
    }
}

/// The value of a metadata column.
pub fn meta_cell<'a>(change: &Change<'a>, meta: Meta) -> Cell<'a> {
    let record = change.record;
    match meta {
        Meta::Op => change.op.map_or(Cell::Null, Cell::Str),
        Meta::TsMs => change.ts_ms.map_or(Cell::Null, Cell::Int),
        Meta::SourceTsMs => change.source_ts_ms.map_or(Cell::Null, Cell::Int),
        Meta::Position => change.position.map_or(Cell::Null, Cell::Position),
        Meta::Topic => Cell::Str(&record.topic),
        Meta::Partition => Cell::Int(i64::from(record.partition.0)),
        Meta::Offset => Cell::Int(record.offset.0),
        Meta::Deleted => Cell::Bool(change.deleted()),
    }
}
