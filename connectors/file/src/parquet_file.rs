//! Parquet files through Arrow: one typed Arrow column builder per layout column, filled
//! straight from the borrowed cells; every [`BATCH_ROWS`] rows the builders become a
//! `RecordBatch` handed to parquet's `ArrowWriter` (snappy, zstd or no compression).

use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryBuilder, BooleanBuilder, Date32Builder, Decimal128Builder, Float32Builder,
    Float64Builder, Int8Builder, Int16Builder, Int32Builder, Int64Builder, StringBuilder,
    Time32MillisecondBuilder, Time64MicrosecondBuilder, Time64NanosecondBuilder,
    TimestampMicrosecondBuilder, TimestampMillisecondBuilder, TimestampNanosecondBuilder,
};
use arrow::datatypes::{Field, Schema};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression as ParquetCompression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use sluice_schemas::Value;

use crate::avro_file::text_of;
use crate::cell::{Cell, cell};
use crate::columns::{ColumnKind, Layout, TimeUnit, Zone};
use crate::config::Compression;
use crate::error::{Error, Result};
use crate::event::Change;
use crate::format::FormatWriter;

/// Rows gathered in the column builders before they become a record batch.
pub const BATCH_ROWS: usize = 8192;

/// One Arrow builder per column type.
#[derive(Debug)]
enum Builder {
    Boolean(BooleanBuilder),
    Int8(Int8Builder),
    Int16(Int16Builder),
    Int32(Int32Builder),
    Int64(Int64Builder),
    Float32(Float32Builder),
    Float64(Float64Builder),
    Text(StringBuilder),
    Binary(BinaryBuilder),
    Decimal(Decimal128Builder, i128),
    Date(Date32Builder),
    TimestampMillis(TimestampMillisecondBuilder),
    TimestampMicros(TimestampMicrosecondBuilder),
    TimestampNanos(TimestampNanosecondBuilder),
    TimeMillis(Time32MillisecondBuilder),
    TimeMicros(Time64MicrosecondBuilder),
    TimeNanos(Time64NanosecondBuilder),
}

fn zone_name(zone: Zone) -> Option<&'static str> {
    match zone {
        Zone::Utc => Some("UTC"),
        Zone::Local => None,
    }
}

impl Builder {
    fn new(kind: ColumnKind) -> std::result::Result<Builder, arrow::error::ArrowError> {
        Ok(match kind {
            ColumnKind::Boolean => Builder::Boolean(BooleanBuilder::new()),
            ColumnKind::Int8 => Builder::Int8(Int8Builder::new()),
            ColumnKind::Int16 => Builder::Int16(Int16Builder::new()),
            ColumnKind::Int32 => Builder::Int32(Int32Builder::new()),
            ColumnKind::Int64 => Builder::Int64(Int64Builder::new()),
            ColumnKind::Float32 => Builder::Float32(Float32Builder::new()),
            ColumnKind::Float64 => Builder::Float64(Float64Builder::new()),
            ColumnKind::String | ColumnKind::JsonText => Builder::Text(StringBuilder::new()),
            ColumnKind::Bytes => Builder::Binary(BinaryBuilder::new()),
            ColumnKind::Decimal { precision, scale } => Builder::Decimal(
                Decimal128Builder::new().with_precision_and_scale(precision, scale)?,
                10i128.pow(u32::from(precision)),
            ),
            ColumnKind::Date => Builder::Date(Date32Builder::new()),
            ColumnKind::Timestamp(TimeUnit::Millis, zone) => Builder::TimestampMillis(
                TimestampMillisecondBuilder::new().with_timezone_opt(zone_name(zone)),
            ),
            ColumnKind::Timestamp(TimeUnit::Micros, zone) => Builder::TimestampMicros(
                TimestampMicrosecondBuilder::new().with_timezone_opt(zone_name(zone)),
            ),
            ColumnKind::Timestamp(TimeUnit::Nanos, zone) => Builder::TimestampNanos(
                TimestampNanosecondBuilder::new().with_timezone_opt(zone_name(zone)),
            ),
            ColumnKind::Time(TimeUnit::Millis) => {
                Builder::TimeMillis(Time32MillisecondBuilder::new())
            }
            ColumnKind::Time(TimeUnit::Micros) => {
                Builder::TimeMicros(Time64MicrosecondBuilder::new())
            }
            ColumnKind::Time(TimeUnit::Nanos) => Builder::TimeNanos(Time64NanosecondBuilder::new()),
        })
    }

    /// Refuses a decimal too wide for its column, before anything of the row is appended.
    fn check(&self, cell: Cell<'_>) -> std::result::Result<(), String> {
        let (Builder::Decimal(_, bound), Cell::Value(Value::Bytes(bytes), _)) = (self, cell) else {
            return Ok(());
        };
        match unscaled_i128(bytes).filter(|v| v.unsigned_abs() < bound.unsigned_abs()) {
            Some(_) => Ok(()),
            None => Err(format!(
                "decimal with unscaled value {} does not fit the column's precision",
                sluice_schemas::decimal::decode_decimal(bytes, 0)
            )),
        }
    }

    /// Appends a cell ([`Builder::check`]ed first).
    fn append(&mut self, cell: Cell<'_>, scratch: &mut Vec<u8>) {
        let value = match cell {
            Cell::Value(value, _) => Some(value),
            _ => None,
        };
        let int = || match cell {
            Cell::Int(number) => Some(number),
            _ => value.and_then(Value::as_i64),
        };
        match self {
            Builder::Boolean(b) => b.append_option(match (cell, value) {
                (Cell::Bool(flag), _) | (_, Some(&Value::Boolean(flag))) => Some(flag),
                _ => None,
            }),
            Builder::Int8(b) => b.append_option(int().map(|n| n as i8)),
            Builder::Int16(b) => b.append_option(int().map(|n| n as i16)),
            Builder::Int32(b) => b.append_option(int().map(|n| n as i32)),
            Builder::Int64(b) => b.append_option(int()),
            Builder::Date(b) => b.append_option(int().map(|n| n as i32)),
            Builder::TimestampMillis(b) => b.append_option(int()),
            Builder::TimestampMicros(b) => b.append_option(int()),
            Builder::TimestampNanos(b) => b.append_option(int()),
            Builder::TimeMillis(b) => b.append_option(int().map(|n| n as i32)),
            Builder::TimeMicros(b) => b.append_option(int()),
            Builder::TimeNanos(b) => b.append_option(int()),
            Builder::Float32(b) => b.append_option(match value {
                Some(Value::Float32(v)) => Some(*v),
                _ => None,
            }),
            Builder::Float64(b) => b.append_option(match value {
                Some(Value::Float64(v)) => Some(*v),
                Some(Value::Float32(v)) => Some(f64::from(*v)),
                _ => None,
            }),
            Builder::Binary(b) => b.append_option(value.and_then(Value::as_bytes)),
            Builder::Decimal(b, _) => {
                b.append_option(value.and_then(Value::as_bytes).and_then(unscaled_i128))
            }
            Builder::Text(b) => match cell {
                Cell::Str(text) => b.append_value(text),
                Cell::Value(Value::String(text), _) => b.append_value(text),
                Cell::Position(position) => {
                    let _ = write!(b, "{position}");
                    b.append_value("");
                }
                other => {
                    if text_of(other, scratch) {
                        b.append_value(String::from_utf8_lossy(scratch));
                    } else {
                        b.append_null();
                    }
                }
            },
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Boolean(b) => Arc::new(b.finish()),
            Builder::Int8(b) => Arc::new(b.finish()),
            Builder::Int16(b) => Arc::new(b.finish()),
            Builder::Int32(b) => Arc::new(b.finish()),
            Builder::Int64(b) => Arc::new(b.finish()),
            Builder::Float32(b) => Arc::new(b.finish()),
            Builder::Float64(b) => Arc::new(b.finish()),
            Builder::Text(b) => Arc::new(b.finish()),
            Builder::Binary(b) => Arc::new(b.finish()),
            Builder::Decimal(b, _) => Arc::new(b.finish()),
            Builder::Date(b) => Arc::new(b.finish()),
            Builder::TimestampMillis(b) => Arc::new(b.finish()),
            Builder::TimestampMicros(b) => Arc::new(b.finish()),
            Builder::TimestampNanos(b) => Arc::new(b.finish()),
            Builder::TimeMillis(b) => Arc::new(b.finish()),
            Builder::TimeMicros(b) => Arc::new(b.finish()),
            Builder::TimeNanos(b) => Arc::new(b.finish()),
        }
    }
}

/// A big-endian two's-complement integer of at most 16 bytes.
pub fn unscaled_i128(bytes: &[u8]) -> Option<i128> {
    if bytes.is_empty() {
        return Some(0);
    }
    if bytes.len() > 16 {
        return None;
    }
    let fill = if bytes[0] & 0x80 != 0 { 0xff } else { 0 };
    let mut wide = [fill; 16];
    wide[16 - bytes.len()..].copy_from_slice(bytes);
    Some(i128::from_be_bytes(wide))
}

pub struct ParquetWriter {
    writer: ArrowWriter<File>,
    path: PathBuf,
    layout: Layout,
    schema: Arc<Schema>,
    builders: Vec<Builder>,
    rows: usize,
    scratch: Vec<u8>,
}

impl std::fmt::Debug for ParquetWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetWriter")
            .field("path", &self.path)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl ParquetWriter {
    pub fn new(file: File, path: &Path, layout: Layout, compression: Compression) -> Result<Self> {
        let arrow_error = |source| Error::Arrow {
            path: path.to_path_buf(),
            source,
        };
        let builders = layout
            .columns
            .iter()
            .map(|column| Builder::new(column.kind))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(arrow_error)?;
        let mut builders = builders;
        let fields: Vec<Field> = layout
            .columns
            .iter()
            .zip(builders.iter_mut())
            .map(|(column, builder)| {
                Field::new(&column.name, builder.finish().data_type().clone(), true)
            })
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let codec = match compression {
            Compression::Snappy => ParquetCompression::SNAPPY,
            Compression::Zstd => ParquetCompression::ZSTD(ZstdLevel::default()),
            Compression::None | Compression::Deflate => ParquetCompression::UNCOMPRESSED,
        };
        let properties = WriterProperties::builder().set_compression(codec).build();
        let writer =
            ArrowWriter::try_new(file, schema.clone(), Some(properties)).map_err(|source| {
                Error::Parquet {
                    path: path.to_path_buf(),
                    source,
                }
            })?;
        Ok(Self {
            writer,
            path: path.to_path_buf(),
            layout,
            schema,
            builders,
            rows: 0,
            scratch: Vec::new(),
        })
    }

    fn write_batch(&mut self) -> Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let columns: Vec<ArrayRef> = self.builders.iter_mut().map(Builder::finish).collect();
        let batch =
            RecordBatch::try_new(self.schema.clone(), columns).map_err(|source| Error::Arrow {
                path: self.path.clone(),
                source,
            })?;
        self.rows = 0;
        self.writer.write(&batch).map_err(|source| Error::Parquet {
            path: self.path.clone(),
            source,
        })
    }
}

impl FormatWriter for ParquetWriter {
    fn append(&mut self, change: &Change<'_>) -> Result<()> {
        for (column, builder) in self.layout.columns.iter().zip(&self.builders) {
            if let Err(reason) = builder.check(cell(change, column)) {
                let record = change.record;
                return Err(Error::Unwritable {
                    topic: record.topic.clone(),
                    partition: record.partition.0,
                    offset: record.offset.0,
                    reason: format!("column {}: {reason}", column.name),
                });
            }
        }
        for (column, builder) in self.layout.columns.iter().zip(self.builders.iter_mut()) {
            builder.append(cell(change, column), &mut self.scratch);
        }
        self.rows += 1;
        if self.rows >= BATCH_ROWS {
            self.write_batch()?;
        }
        Ok(())
    }

    fn bytes_written(&self) -> u64 {
        (self.writer.bytes_written() + self.writer.in_progress_size()) as u64
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        self.write_batch()?;
        let path = self.path.clone();
        self.writer
            .close()
            .map(drop)
            .map_err(|source| Error::Parquet { path, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_bytes_sign_extend() {
        assert_eq!(unscaled_i128(&[0xff, 0x38]), Some(-200));
        assert_eq!(unscaled_i128(&[0x04, 0xd2]), Some(1234));
        assert_eq!(unscaled_i128(&[]), Some(0));
        assert_eq!(unscaled_i128(&[1; 17]), None);
    }
}
