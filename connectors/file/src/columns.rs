//! Column mapping: which file column type each Connect field becomes, and the column list of
//! a file ([`Layout`]) — the row's columns, then (in changelog mode) the `__op`, `__ts_ms`,
//! `__source_ts_ms`, `__position`, `__topic`, `__partition`, `__offset`, `__deleted`
//! metadata columns. A row field that already has a metadata column's name (as
//! ExtractNewRecordState's `add.fields` writes them) is kept and that metadata column left out.
//!
//! Types follow the Connect schema: Decimal → decimal(precision, scale), Date → date,
//! Timestamp / MicroTimestamp / NanoTimestamp → timestamp of that unit (Kafka's Timestamp is
//! UTC; Debezium's are wall-clock times without zone), Time types → time, ZonedTimestamp,
//! Json, Enum and Uuid → string; structs, arrays, maps and VariableScaleDecimal → JSON text.

use sluice_schemas::logical;
use sluice_schemas::{Schema, SchemaRef, SchemaType};

use crate::config::Mode;

/// The precision used for a Decimal whose schema does not say (`connect.decimal.precision`).
pub const DEFAULT_DECIMAL_PRECISION: u8 = 38;

/// The unit of a timestamp or time-of-day column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    Millis,
    Micros,
    Nanos,
}

/// Whether a timestamp is an instant (UTC) or a wall-clock reading without zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    Utc,
    Local,
}

/// A file column's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Boolean,
    Int8,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    String,
    Bytes,
    Decimal {
        precision: u8,
        scale: i8,
    },
    /// Days since 1970-01-01.
    Date,
    Timestamp(TimeUnit, Zone),
    /// Time of day; the Connect value is an int32 (millis) or int64 (micros, nanos).
    Time(TimeUnit),
    /// Nested or variable data written as JSON text.
    JsonText,
}

impl ColumnKind {
    /// The column type of a Connect schema.
    pub fn of(schema: &Schema) -> ColumnKind {
        let name = schema.name().unwrap_or_default();
        match (schema.schema_type(), name) {
            (SchemaType::Bytes, logical::DECIMAL) => decimal_kind(schema),
            (SchemaType::Int32, logical::CONNECT_DATE | logical::DATE) => ColumnKind::Date,
            (SchemaType::Int64, logical::CONNECT_TIMESTAMP) => {
                ColumnKind::Timestamp(TimeUnit::Millis, Zone::Utc)
            }
            (SchemaType::Int64, logical::TIMESTAMP) => {
                ColumnKind::Timestamp(TimeUnit::Millis, Zone::Local)
            }
            (SchemaType::Int64, logical::MICRO_TIMESTAMP) => {
                ColumnKind::Timestamp(TimeUnit::Micros, Zone::Local)
            }
            (SchemaType::Int64, logical::NANO_TIMESTAMP) => {
                ColumnKind::Timestamp(TimeUnit::Nanos, Zone::Local)
            }
            (SchemaType::Int32, logical::CONNECT_TIME | logical::TIME) => {
                ColumnKind::Time(TimeUnit::Millis)
            }
            (SchemaType::Int64, logical::MICRO_TIME) => ColumnKind::Time(TimeUnit::Micros),
            (SchemaType::Int64, logical::NANO_TIME) => ColumnKind::Time(TimeUnit::Nanos),
            (SchemaType::Boolean, _) => ColumnKind::Boolean,
            (SchemaType::Int8, _) => ColumnKind::Int8,
            (SchemaType::Int16, _) => ColumnKind::Int16,
            (SchemaType::Int32, _) => ColumnKind::Int32,
            (SchemaType::Int64, _) => ColumnKind::Int64,
            (SchemaType::Float32, _) => ColumnKind::Float32,
            (SchemaType::Float64, _) => ColumnKind::Float64,
            (SchemaType::String, _) => ColumnKind::String,
            (SchemaType::Bytes, _) => ColumnKind::Bytes,
            (SchemaType::Array | SchemaType::Map | SchemaType::Struct, _) => ColumnKind::JsonText,
        }
    }
}

fn decimal_kind(schema: &Schema) -> ColumnKind {
    let scale = schema
        .parameter(logical::DECIMAL_SCALE)
        .and_then(|s| s.parse::<i8>().ok())
        .unwrap_or(0);
    let precision = schema
        .parameter(logical::DECIMAL_PRECISION)
        .and_then(|p| p.parse::<u8>().ok())
        .filter(|p| (1..=DEFAULT_DECIMAL_PRECISION).contains(p))
        .unwrap_or(DEFAULT_DECIMAL_PRECISION);
    // A scale above the precision is not a valid decimal type anywhere: widen the precision.
    let precision = precision
        .max(scale.max(0) as u8)
        .min(DEFAULT_DECIMAL_PRECISION);
    ColumnKind::Decimal { precision, scale }
}

/// A metadata column of changelog files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meta {
    Op,
    TsMs,
    SourceTsMs,
    Position,
    Topic,
    Partition,
    Offset,
    Deleted,
}

impl Meta {
    pub const ALL: [Meta; 8] = [
        Meta::Op,
        Meta::TsMs,
        Meta::SourceTsMs,
        Meta::Position,
        Meta::Topic,
        Meta::Partition,
        Meta::Offset,
        Meta::Deleted,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Meta::Op => "__op",
            Meta::TsMs => "__ts_ms",
            Meta::SourceTsMs => "__source_ts_ms",
            Meta::Position => "__position",
            Meta::Topic => "__topic",
            Meta::Partition => "__partition",
            Meta::Offset => "__offset",
            Meta::Deleted => "__deleted",
        }
    }

    pub fn kind(self) -> ColumnKind {
        match self {
            Meta::Op | Meta::Position | Meta::Topic => ColumnKind::String,
            Meta::TsMs | Meta::SourceTsMs | Meta::Offset => ColumnKind::Int64,
            Meta::Partition => ColumnKind::Int32,
            Meta::Deleted => ColumnKind::Boolean,
        }
    }
}

/// Where a column's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The row struct's field at this index.
    Field(usize),
    Meta(Meta),
}

/// One column of a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub kind: ColumnKind,
    pub source: Source,
}

/// The columns of files written for one row schema. Every column is nullable in the files:
/// a before-image, a truncate event or a column added later can leave any of them empty.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The row schema (a struct) the layout was built for.
    pub row_schema: SchemaRef,
    pub columns: Vec<Column>,
}

impl Layout {
    /// The layout of `row_schema` (a struct schema) in `mode`.
    pub fn new(row_schema: SchemaRef, mode: Mode) -> Layout {
        let mut columns: Vec<Column> = row_schema
            .fields()
            .iter()
            .map(|field| Column {
                name: field.name().to_string(),
                kind: ColumnKind::of(field.schema()),
                source: Source::Field(field.index()),
            })
            .collect();
        if mode == Mode::Changelog {
            for meta in Meta::ALL {
                if row_schema.field(meta.name()).is_none() {
                    columns.push(Column {
                        name: meta.name().to_string(),
                        kind: meta.kind(),
                        source: Source::Meta(meta),
                    });
                }
            }
        }
        Layout {
            row_schema,
            columns,
        }
    }

    /// Whether rows of `schema` fit this layout as they are (same schema).
    pub fn fits(&self, schema: &SchemaRef) -> bool {
        std::sync::Arc::ptr_eq(&self.row_schema, schema) || *self.row_schema == **schema
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_schemas::SchemaBuilder;
    use sluice_schemas::schema::{INT32_SCHEMA, OPTIONAL_STRING_SCHEMA, STRING_SCHEMA};

    #[test]
    fn logical_types_map_to_typed_columns() {
        let cases = [
            (
                logical::decimal_with_precision(10, 2).build(),
                ColumnKind::Decimal {
                    precision: 10,
                    scale: 2,
                },
            ),
            (
                logical::decimal(4).build(),
                ColumnKind::Decimal {
                    precision: 38,
                    scale: 4,
                },
            ),
            (logical::date().build(), ColumnKind::Date),
            (logical::connect_date().build(), ColumnKind::Date),
            (
                logical::connect_timestamp().build(),
                ColumnKind::Timestamp(TimeUnit::Millis, Zone::Utc),
            ),
            (
                logical::micro_timestamp().build(),
                ColumnKind::Timestamp(TimeUnit::Micros, Zone::Local),
            ),
            (
                logical::micro_time().build(),
                ColumnKind::Time(TimeUnit::Micros),
            ),
            (logical::zoned_timestamp().build(), ColumnKind::String),
            (logical::json().build(), ColumnKind::String),
            (
                SchemaBuilder::array(INT32_SCHEMA.clone()).build(),
                ColumnKind::JsonText,
            ),
        ];
        for (schema, kind) in cases {
            assert_eq!(ColumnKind::of(&schema), kind, "{schema:?}");
        }
    }

    #[test]
    fn changelog_layout_appends_metadata_unless_the_row_has_it() {
        let row = SchemaBuilder::struct_()
            .name("r")
            .field("id", INT32_SCHEMA.clone())
            .field("__deleted", STRING_SCHEMA.clone())
            .field("name", OPTIONAL_STRING_SCHEMA.clone())
            .build();
        let layout = Layout::new(row.clone(), Mode::Changelog);
        let names: Vec<&str> = layout.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "id",
                "__deleted",
                "name",
                "__op",
                "__ts_ms",
                "__source_ts_ms",
                "__position",
                "__topic",
                "__partition",
                "__offset"
            ]
        );
        assert_eq!(layout.columns[1].source, Source::Field(1));
        let upsert = Layout::new(row.clone(), Mode::Upsert);
        assert_eq!(upsert.columns.len(), 3);
        assert!(upsert.fits(&row));
    }
}
