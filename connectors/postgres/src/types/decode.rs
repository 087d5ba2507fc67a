//! Values in Postgres's text output format (what pgoutput sends and COPY / simple queries
//! return) converted to Connect [`Value`]s matching [`ColumnType::schema`].

use sluice_schemas::Value;

use super::array::parse_array;
use super::column::{ColumnType, TypeKind};
use super::extras::{hstore_json, hstore_map, parse_hstore, point, point_schema};
use super::interval::parse_interval;
use super::numeric::{fixed_numeric, money, unconstrained_numeric};
use super::options::{
    BinaryHandlingMode, HstoreHandlingMode, IntervalHandlingMode, TimePrecisionMode, TypeOptions,
    UnknownTypes,
};
use super::temporal::{
    Moment, TIMESTAMP_NEGATIVE_INFINITY_MICROS, TIMESTAMP_POSITIVE_INFINITY_MICROS,
    date_negative_infinity_days, date_positive_infinity_days, format_zoned_time,
    format_zoned_timestamp, parse_date, parse_time, parse_time_tz, parse_timestamp,
    parse_timestamp_tz,
};
use crate::error::{Error, Result};

impl ColumnType {
    /// Converts one non-null value from its text form. Unknown types give their text per
    /// `binary.handling.mode` (bytes by default) when `include.unknown.datatypes` is on.
    pub fn decode_text(&self, text: &str, opts: &TypeOptions) -> Result<Value> {
        self.decode(text, opts)
            .map_err(|reason| self.invalid_text(text, reason))
    }

    /// The error [`ColumnType::decode_text`] gives for `text` that [`ColumnType::decode`]
    /// refused for `reason`.
    #[cold]
    pub(crate) fn invalid_text(&self, text: &str, reason: String) -> Error {
        Error::InvalidColumnValue {
            type_name: self.name().to_string(),
            text: shorten(text),
            reason,
        }
    }

    /// [`ColumnType::decode_text`] with only the reason as the error: a small result for
    /// the per-cell hot path, which builds the full error when there is one.
    pub(crate) fn decode(&self, text: &str, opts: &TypeOptions) -> Result<Value, String> {
        let value = match self.kind() {
            TypeKind::Int16 => Value::Int16(parse_number(text)?),
            TypeKind::Int32 => Value::Int32(parse_number(text)?),
            TypeKind::Int64 => Value::Int64(parse_number(text)?),
            TypeKind::Float32 => Value::Float32(parse_number(text)?),
            TypeKind::Float64 => Value::Float64(parse_number(text)?),
            TypeKind::Boolean => Value::Boolean(parse_bool(text)?),
            TypeKind::Text
            | TypeKind::Xml
            | TypeKind::Json
            | TypeKind::Uuid
            | TypeKind::Enum { .. } => Value::String(text.into()),
            TypeKind::Bytea => binary(parse_bytea(text)?, opts.binary),
            TypeKind::Date => Value::Int32(match parse_date(text)? {
                Moment::At(days) => days,
                Moment::PositiveInfinity => date_positive_infinity_days(),
                Moment::NegativeInfinity => date_negative_infinity_days(),
            }),
            TypeKind::Time { precision } => {
                let micros = parse_time(text)?;
                match opts.time {
                    TimePrecisionMode::Adaptive if *precision > 3 => Value::Int64(micros),
                    TimePrecisionMode::AdaptiveTimeMicroseconds => Value::Int64(micros),
                    _ => Value::Int32((micros / 1000) as i32),
                }
            }
            TypeKind::TimeTz => Value::String(format_zoned_time(parse_time_tz(text)?).into()),
            TypeKind::Timestamp { precision } => {
                let micros = match parse_timestamp(text)? {
                    Moment::At(micros) => micros,
                    Moment::PositiveInfinity => TIMESTAMP_POSITIVE_INFINITY_MICROS,
                    Moment::NegativeInfinity => TIMESTAMP_NEGATIVE_INFINITY_MICROS,
                };
                let millis = matches!(opts.time, TimePrecisionMode::Connect) || *precision <= 3;
                Value::Int64(if millis {
                    micros.div_euclid(1000)
                } else {
                    micros
                })
            }
            TypeKind::TimestampTz { precision } => Value::String(match parse_timestamp_tz(text)? {
                Moment::At(micros) => format_zoned_timestamp(micros, *precision).into(),
                Moment::PositiveInfinity => "infinity".into(),
                Moment::NegativeInfinity => "-infinity".into(),
            }),
            TypeKind::Interval => {
                let fields = parse_interval(text)?;
                match opts.interval {
                    IntervalHandlingMode::Numeric => Value::Int64(fields.micro_duration()),
                    IntervalHandlingMode::String => Value::String(fields.iso_string().into()),
                }
            }
            TypeKind::Numeric { scale, .. } => fixed_numeric(text, *scale, opts.decimal)?,
            TypeKind::NumericUnconstrained => unconstrained_numeric(text, opts.decimal)?,
            TypeKind::Money => money(text, opts.money_fraction_digits, opts.decimal)?,
            TypeKind::Bits { length } => bits(text, *length)?,
            TypeKind::Point => point(text, &point_schema())?,
            TypeKind::Hstore => {
                let pairs = parse_hstore(text)?;
                match opts.hstore {
                    HstoreHandlingMode::Json => Value::String(hstore_json(&pairs).into()),
                    HstoreHandlingMode::Map => hstore_map(pairs),
                }
            }
            TypeKind::Array(element) => {
                let items = parse_array(text).map_err(|e| e.reason.to_string())?;
                let mut values = Vec::with_capacity(items.len());
                for item in items {
                    values.push(match item {
                        None => Value::Null,
                        Some(item) => element.decode(&item, opts)?,
                    });
                }
                Value::Array(values)
            }
            TypeKind::Unknown => match opts.unknown {
                UnknownTypes::Include => binary(text.as_bytes().to_vec(), opts.binary),
                UnknownTypes::Skip => {
                    return Err(
                        "the type is unknown and include.unknown.datatypes is false, so the \
                         column should have been left out"
                            .to_string(),
                    );
                }
            },
        };
        Ok(value)
    }
}

/// Error texts quote at most this many characters of the value.
fn shorten(text: &str) -> String {
    const LIMIT: usize = 200;
    match text.char_indices().nth(LIMIT) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

fn parse_number<T: std::str::FromStr>(text: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| "not a number of the column's type".to_string())
}

fn parse_bool(text: &str) -> Result<bool, String> {
    match text {
        "t" | "true" => Ok(true),
        "f" | "false" => Ok(false),
        _ => Err("expected t or f".to_string()),
    }
}

/// `bytea` in the `hex` output format (`\x0102`) or the older `escape` format.
fn parse_bytea(text: &str) -> Result<Vec<u8>, String> {
    if let Some(hex) = text.strip_prefix("\\x") {
        if hex.len() % 2 != 0 {
            return Err("odd number of hex digits".to_string());
        }
        return (0..hex.len())
            .step_by(2)
            .map(|at| u8::from_str_radix(&hex[at..at + 2], 16).map_err(|_| "not hex".to_string()))
            .collect();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] != b'\\' {
            out.push(bytes[at]);
            at += 1;
        } else if bytes.get(at + 1) == Some(&b'\\') {
            out.push(b'\\');
            at += 2;
        } else {
            let octal = text
                .get(at + 1..at + 4)
                .and_then(|digits| u8::from_str_radix(digits, 8).ok())
                .ok_or_else(|| "a backslash not followed by \\ or 3 octal digits".to_string())?;
            out.push(octal);
            at += 4;
        }
    }
    Ok(out)
}

/// `bytea` bytes as `binary.handling.mode` represents them.
pub(crate) fn binary(bytes: Vec<u8>, mode: BinaryHandlingMode) -> Value {
    mode.value(bytes)
}

/// `bit(n)` / `varbit(n)`: a boolean for one bit, else Debezium's `Bits` bytes — the bit
/// string read as a binary number, little-endian, without high zero bytes (Java's
/// `BitSet.toByteArray`).
fn bits(text: &str, length: u32) -> Result<Value, String> {
    if !text.bytes().all(|b| b == b'0' || b == b'1') {
        return Err("expected only 0 and 1".to_string());
    }
    if length <= 1 {
        return Ok(Value::Boolean(text.contains('1')));
    }
    let mut bytes = vec![0u8; text.len().div_ceil(8)];
    for (index, bit) in text.bytes().rev().enumerate() {
        if bit == b'1' {
            bytes[index / 8] |= 1 << (index % 8);
        }
    }
    while bytes.last() == Some(&0) {
        bytes.pop();
    }
    Ok(Value::Bytes(bytes))
}

#[cfg(test)]
mod tests;
