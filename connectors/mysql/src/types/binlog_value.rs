//! Streaming: a binlog row-image [`Cell`] to the Connect value of its column.

use sluice_schemas::Value;

use super::charset::Charset;
use super::column::{ColumnType, TypeKind};
use super::options::TypeOptions;
use super::value::{LocalDateTime, bad};
use crate::binlog::Cell;
use crate::error::Result;

impl ColumnType {
    /// The column's charset for decoding binlog bytes (text columns only; others ignore it).
    fn binlog_charset(&self) -> Charset {
        match &self.kind {
            TypeKind::FixedString { charset, .. }
            | TypeKind::VarString { charset, .. }
            | TypeKind::Lob { charset, .. } => *charset,
            _ => Charset::Utf8mb4,
        }
    }

    /// [`Self::binlog_value`] of a cell the caller gives up: byte strings keep their buffer.
    pub fn binlog_value_owned(&self, cell: Cell, opts: &TypeOptions) -> Result<Value> {
        match cell {
            Cell::Bytes(bytes) => self.bytes_value(bytes, self.binlog_charset(), opts),
            other => self.binlog_value(&other, opts),
        }
    }

    /// Converts one binlog cell. NULL and absent cells give [`Value::Null`], as do zero dates;
    /// a partial JSON update ([`Cell::JsonDiff`]) needs the before image and is resolved by
    /// [`crate::table::TableMapping::row_from_binlog_update`].
    pub fn binlog_value(&self, cell: &Cell, opts: &TypeOptions) -> Result<Value> {
        match cell {
            Cell::Null | Cell::Absent => Ok(Value::Null),
            Cell::Int(v) => self.integer_value(i128::from(*v), opts),
            Cell::UInt(v) => self.integer_value(i128::from(*v), opts),
            Cell::Float(v) => self.float_value(f64::from(*v)),
            Cell::Double(v) => self.float_value(*v),
            Cell::Decimal(text) => self.decimal_value(text, opts),
            Cell::Bytes(bytes) => self.bytes_value(bytes.clone(), self.binlog_charset(), opts),
            Cell::Date(d) => self.date_value(d.year, d.month, d.day),
            Cell::DateTime {
                date,
                hour,
                minute,
                second,
                micros,
            } => self.datetime_value(
                LocalDateTime {
                    year: date.year,
                    month: date.month,
                    day: date.day,
                    hour: *hour,
                    minute: *minute,
                    second: *second,
                    micros: *micros,
                },
                opts,
            ),
            // TIMESTAMP 0 is the zero value ('0000-00-00 00:00:00'); real ones start at 1 s.
            Cell::Timestamp {
                seconds: 0,
                micros: 0,
            } => Ok(Value::Null),
            Cell::Timestamp { seconds, micros } => {
                Ok(self.timestamp_value(seconds * 1_000_000 + i64::from(*micros)))
            }
            Cell::Time {
                negative,
                hours,
                minute,
                second,
                micros,
            } => {
                let magnitude =
                    (i64::from(*hours) * 3600 + i64::from(*minute) * 60 + i64::from(*second))
                        * 1_000_000
                        + i64::from(*micros);
                self.time_value(if *negative { -magnitude } else { magnitude }, opts)
            }
            Cell::Year(year) => self.integer_value(i128::from(*year), opts),
            Cell::Enum(index) => self.enum_value(*index),
            Cell::Set(bits) => self.set_value(*bits),
            Cell::Bit(bits) => Ok(self.bits_value(*bits)),
            Cell::Json(json) => self.json_value(json),
            Cell::JsonDiff(_) => Err(bad(
                "a partial JSON update needs the before image; map the row with \
                 TableMapping::row_from_binlog_update",
            )),
        }
    }
}
