//! Row-image cell values, typed by the TABLE_MAP column they belong to.

use std::fmt;

use mysql_common::binlog::jsondiff::JsonDiffOperation;
use mysql_common::binlog::value::BinlogValue;
use mysql_common::constants::ColumnType;
use mysql_common::value::Value;

use super::table::ColumnInfo;
use crate::error::{Error, Result};

/// A calendar date (DATE, or the date part of DATETIME).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

/// One change of a partial JSON update (`JSON_SET`/`JSON_REPLACE`/`JSON_REMOVE` diff).
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPatch {
    pub operation: JsonPatchOp,
    pub path: String,
    /// The new value; `None` for REMOVE.
    pub value: Option<serde_json::Value>,
}

/// The operation of a [`JsonPatch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonPatchOp {
    Replace,
    Insert,
    Remove,
}

/// One column value of a row image.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// The column is not part of this image (binlog_row_image MINIMAL/NOBLOB).
    Absent,
    Null,
    Int(i64),
    UInt(u64),
    Float(f32),
    Double(f64),
    /// DECIMAL as its exact decimal text.
    Decimal(String),
    /// Strings and binary data as stored; the column charset decides the text encoding.
    Bytes(Vec<u8>),
    Date(Date),
    DateTime {
        date: Date,
        hour: u8,
        minute: u8,
        second: u8,
        micros: u32,
    },
    /// TIMESTAMP: seconds since the epoch (UTC) plus microseconds.
    Timestamp {
        seconds: i64,
        micros: u32,
    },
    Time {
        negative: bool,
        hours: u32,
        minute: u8,
        second: u8,
        micros: u32,
    },
    Year(u16),
    /// 1-based ENUM index (0 = the empty error value).
    Enum(u16),
    /// SET members as a bitmap, bit i = member i.
    Set(u64),
    /// BIT(n) as an unsigned number.
    Bit(u64),
    Json(serde_json::Value),
    JsonDiff(Vec<JsonPatch>),
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn decode_error(what: &str, detail: impl Into<String>) -> Error {
    Error::Decode {
        context: format!("{what} cell"),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, detail.into()),
    }
}

fn ascii(bytes: &[u8], what: &str) -> Result<String> {
    String::from_utf8(bytes.to_vec()).map_err(|e| decode_error(what, e.to_string()))
}

fn le_number(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .rev()
        .fold(0, |acc, b| (acc << 8) | u64::from(*b))
}

fn be_number(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0, |acc, b| (acc << 8) | u64::from(*b))
}

fn timestamp(text: &str) -> Result<Cell> {
    let (secs, frac) = text.split_once('.').unwrap_or((text, ""));
    let seconds = secs.parse().map_err(|_| decode_error("TIMESTAMP", text))?;
    let micros = if frac.is_empty() {
        0
    } else {
        // Pad to 6 digits: "5" with fsp 1 means 500000 µs.
        format!("{frac:0<6}")
            .parse()
            .map_err(|_| decode_error("TIMESTAMP", text))?
    };
    Ok(Cell::Timestamp { seconds, micros })
}

fn json(value: mysql_common::binlog::jsonb::Value<'_>) -> Result<serde_json::Value> {
    let dom = value.parse().map_err(|source| Error::Decode {
        context: "binary JSON cell".into(),
        source,
    })?;
    Ok(dom.into())
}

fn unsigned_width(column_type: ColumnType) -> u32 {
    match column_type {
        ColumnType::MYSQL_TYPE_TINY => 8,
        ColumnType::MYSQL_TYPE_SHORT => 16,
        ColumnType::MYSQL_TYPE_INT24 => 24,
        ColumnType::MYSQL_TYPE_LONG => 32,
        _ => 64,
    }
}

impl Cell {
    /// Converts one decoded binlog value, using the column's type and signedness.
    pub(crate) fn from_binlog(value: Option<BinlogValue<'_>>, column: &ColumnInfo) -> Result<Self> {
        let value = match value {
            None => return Ok(Cell::Absent),
            Some(BinlogValue::Jsonb(v)) => return Ok(Cell::Json(json(v)?)),
            Some(BinlogValue::JsonDiff(diffs)) => {
                let mut patches = Vec::with_capacity(diffs.len());
                for diff in diffs {
                    let operation = match diff.operation() {
                        JsonDiffOperation::REPLACE => JsonPatchOp::Replace,
                        JsonDiffOperation::INSERT => JsonPatchOp::Insert,
                        JsonDiffOperation::REMOVE => JsonPatchOp::Remove,
                    };
                    let value = diff.value().cloned().map(json).transpose()?;
                    patches.push(JsonPatch {
                        operation,
                        path: diff.path_str().into(),
                        value,
                    });
                }
                return Ok(Cell::JsonDiff(patches));
            }
            Some(BinlogValue::Value(v)) => v,
        };
        let column_type = column.column_type;
        Ok(match (column_type, value) {
            (_, Value::NULL) => Cell::Null,
            (ColumnType::MYSQL_TYPE_ENUM, Value::Int(i)) => Cell::Enum(i as u16),
            (ColumnType::MYSQL_TYPE_SET, Value::Bytes(b)) => Cell::Set(le_number(&b)),
            (ColumnType::MYSQL_TYPE_BIT, Value::Bytes(b)) => Cell::Bit(be_number(&b)),
            // The decoded text is already an owned buffer: kept, not copied.
            (ColumnType::MYSQL_TYPE_NEWDECIMAL, Value::Bytes(b)) => Cell::Decimal(
                String::from_utf8(b).map_err(|e| decode_error("DECIMAL", e.to_string()))?,
            ),
            (ColumnType::MYSQL_TYPE_YEAR, Value::Bytes(b)) => {
                let text = ascii(&b, "YEAR")?;
                Cell::Year(text.parse().map_err(|_| decode_error("YEAR", text))?)
            }
            (
                ColumnType::MYSQL_TYPE_TIMESTAMP2 | ColumnType::MYSQL_TYPE_TIMESTAMP,
                Value::Bytes(b),
            ) => timestamp(&ascii(&b, "TIMESTAMP")?)?,
            (_, Value::Int(i)) if column.unsigned == Some(true) => {
                let width = unsigned_width(column_type);
                let mask = if width == 64 {
                    u64::MAX
                } else {
                    (1u64 << width) - 1
                };
                Cell::UInt(i as u64 & mask)
            }
            // mysql_common reads a MEDIUMINT's 3 bytes without extending the sign.
            (ColumnType::MYSQL_TYPE_INT24, Value::Int(i)) => Cell::Int((i << 40) >> 40),
            (_, Value::Int(i)) => Cell::Int(i),
            (_, Value::UInt(u)) => Cell::UInt(u),
            (_, Value::Float(x)) => Cell::Float(x),
            (_, Value::Double(x)) => Cell::Double(x),
            (
                ColumnType::MYSQL_TYPE_DATE | ColumnType::MYSQL_TYPE_NEWDATE,
                Value::Date(y, m, d, ..),
            ) => Cell::Date(Date {
                year: y,
                month: m,
                day: d,
            }),
            (_, Value::Date(y, m, d, hour, minute, second, micros)) => Cell::DateTime {
                date: Date {
                    year: y,
                    month: m,
                    day: d,
                },
                hour,
                minute,
                second,
                micros,
            },
            (_, Value::Time(negative, days, h, minute, second, micros)) => Cell::Time {
                negative,
                hours: days * 24 + u32::from(h),
                minute,
                second,
                micros,
            },
            (_, Value::Bytes(b)) => Cell::Bytes(b),
        })
    }

    /// The value as UTF-8 text when it is a byte string holding valid UTF-8.
    pub fn as_utf8(&self) -> Option<&str> {
        match self {
            Cell::Bytes(b) => std::str::from_utf8(b).ok(),
            _ => None,
        }
    }
}
