//! The value half of the mapping shared by the binlog and snapshot paths: each function takes
//! a value already decoded from its source (an integer, decimal text, a calendar date, …) and
//! returns the Connect [`Value`] Debezium emits for the column's type and settings.
//!
//! Zero dates (`0000-00-00`) come out as [`Value::Null`]; the table mapping replaces them
//! with the epoch for NOT NULL columns, as Debezium does.

use sluice_schemas::Value;
use sluice_schemas::decimal::{decode_decimal, encode_decimal, encode_unscaled};
use sluice_schemas::temporal::{days_from_civil, format_date};

use super::charset::Charset;
use super::column::{ColumnType, IntWidth, Signedness, TypeKind};
use super::options::{
    BigintUnsignedHandlingMode, BinaryHandlingMode, DecimalHandlingMode, TimePrecisionMode,
    TypeOptions,
};
use crate::error::{Error, Result};

const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

/// A date and time without zone (DATETIME), as both sources deliver it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LocalDateTime {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    pub micros: u32,
}

impl LocalDateTime {
    /// `None` for zero dates (a zero month or day, which MySQL allows and Debezium nulls).
    pub fn epoch_micros(&self) -> Option<i64> {
        let days = epoch_days(self.year, self.month, self.day)?;
        Some(
            i64::from(days) * MICROS_PER_DAY
                + (i64::from(self.hour) * 3600
                    + i64::from(self.minute) * 60
                    + i64::from(self.second))
                    * MICROS_PER_SECOND
                + i64::from(self.micros),
        )
    }
}

/// Days since 1970-01-01, or `None` for a zero date.
pub(crate) fn epoch_days(year: u16, month: u8, day: u8) -> Option<i32> {
    (month != 0 && day != 0)
        .then(|| days_from_civil(i32::from(year), u32::from(month), u32::from(day)))
}

pub(crate) fn bad(reason: impl Into<String>) -> Error {
    Error::BadValue {
        column: String::new(),
        reason: reason.into(),
    }
}

impl ColumnType {
    fn mismatch(&self, what: &str) -> Error {
        bad(format!("{what} does not fit a {} column", self.type_name()))
    }

    /// An integer value (any integer column, YEAR, BIT given as a number).
    pub(crate) fn integer_value(&self, v: i128, opts: &TypeOptions) -> Result<Value> {
        let out_of_range = || bad(format!("{v} is out of range for {}", self.type_name()));
        let TypeKind::Integer { width, sign } = self.kind else {
            return match self.kind {
                TypeKind::Year => Ok(Value::Int32(i32::try_from(v).map_err(|_| out_of_range())?)),
                TypeKind::Bit { .. } => {
                    Ok(self.bits_value(u64::try_from(v).map_err(|_| out_of_range())?))
                }
                _ => Err(self.mismatch("an integer")),
            };
        };
        let bits = match width {
            IntWidth::Tiny => 8,
            IntWidth::Small => 16,
            IntWidth::Medium => 24,
            IntWidth::Int => 32,
            IntWidth::Big => 64,
        };
        let (min, max) = match sign {
            Signedness::Signed => (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1),
            Signedness::Unsigned => (0, (1i128 << bits) - 1),
        };
        if !(min..=max).contains(&v) {
            return Err(out_of_range());
        }
        Ok(match (width, sign) {
            (IntWidth::Tiny, _) | (IntWidth::Small, Signedness::Signed) => {
                Value::Int16(i16::try_from(v).map_err(|_| out_of_range())?)
            }
            (IntWidth::Small, Signedness::Unsigned)
            | (IntWidth::Medium, _)
            | (IntWidth::Int, Signedness::Signed) => {
                Value::Int32(i32::try_from(v).map_err(|_| out_of_range())?)
            }
            (IntWidth::Int, Signedness::Unsigned) | (IntWidth::Big, Signedness::Signed) => {
                Value::Int64(i64::try_from(v).map_err(|_| out_of_range())?)
            }
            (IntWidth::Big, Signedness::Unsigned) => {
                let unsigned = u64::try_from(v).map_err(|_| out_of_range())?;
                match opts.bigint_unsigned {
                    // Debezium's `long` mode keeps the 64 bits: values above i64::MAX wrap.
                    BigintUnsignedHandlingMode::Long => Value::Int64(unsigned as i64),
                    BigintUnsignedHandlingMode::Precise => {
                        Value::Bytes(encode_unscaled(i128::from(unsigned)))
                    }
                }
            }
        })
    }

    /// DECIMAL from its exact text.
    pub(crate) fn decimal_value(&self, text: &str, opts: &TypeOptions) -> Result<Value> {
        let TypeKind::Decimal { scale, .. } = self.kind else {
            return Err(self.mismatch("a decimal"));
        };
        Ok(match opts.decimal {
            DecimalHandlingMode::Precise => {
                if let Some(unscaled) = short_unscaled(text, scale) {
                    return Ok(Value::Bytes(encode_unscaled(unscaled)));
                }
                let bytes =
                    encode_decimal(text, scale as i32).map_err(|source| Error::ValueEncoding {
                        column: String::new(),
                        source,
                    })?;
                Value::Bytes(bytes)
            }
            DecimalHandlingMode::Double => Value::Float64(
                text.trim()
                    .parse()
                    .map_err(|_| bad(format!("`{text}` is not a decimal number")))?,
            ),
            // Debezium writes `BigDecimal.toPlainString()` at the column's scale ("9.50"),
            // whichever way the source spelled the number.
            DecimalHandlingMode::String => {
                let bytes =
                    encode_decimal(text, scale as i32).map_err(|source| Error::ValueEncoding {
                        column: String::new(),
                        source,
                    })?;
                Value::String(decode_decimal(&bytes, scale as i32).into())
            }
        })
    }

    pub(crate) fn float_value(&self, v: f64) -> Result<Value> {
        match self.kind {
            TypeKind::Float => Ok(Value::Float32(v as f32)),
            TypeKind::Double => Ok(Value::Float64(v)),
            _ => Err(self.mismatch("a floating-point number")),
        }
    }

    /// BIT(1) as a boolean; BIT(n) as `io.debezium.data.Bits`: little-endian bytes, exactly
    /// ceil(n / 8) of them.
    pub(crate) fn bits_value(&self, bits: u64) -> Value {
        match self.kind {
            TypeKind::Bit { length } if length > 1 => {
                let len = length.div_ceil(8) as usize;
                Value::Bytes(bits.to_le_bytes()[..len.min(8)].to_vec())
            }
            _ => Value::Boolean(bits != 0),
        }
    }

    /// A byte string: text columns decode it with `text_charset` (the column charset for the
    /// binlog, the connection's utf8mb4 for snapshots); binary columns follow
    /// `binary.handling.mode`; ENUM/SET/JSON/GEOMETRY take their textual or internal form.
    pub(crate) fn bytes_value(
        &self,
        bytes: Vec<u8>,
        text_charset: Charset,
        opts: &TypeOptions,
    ) -> Result<Value> {
        match &self.kind {
            TypeKind::FixedString { length, .. } if self.is_binary() => {
                // The binlog drops BINARY(n)'s trailing zero bytes; Debezium pads them back.
                let mut bytes = bytes;
                if let Some(n) = length
                    && bytes.len() < *n as usize
                {
                    bytes.resize(*n as usize, 0);
                }
                Ok(binary_value(bytes, opts.binary))
            }
            TypeKind::VarString { .. } | TypeKind::Lob { .. } if self.is_binary() => {
                Ok(binary_value(bytes, opts.binary))
            }
            TypeKind::FixedString { .. } | TypeKind::VarString { .. } | TypeKind::Lob { .. } => {
                Ok(Value::String(text_charset.decode_owned(bytes).into()))
            }
            TypeKind::Enum { .. } | TypeKind::Set { .. } => {
                Ok(Value::String(text_charset.decode_owned(bytes).into()))
            }
            TypeKind::Json => json_text_value(&bytes),
            TypeKind::Geometry(kind) => super::geometry::geometry_value(&bytes, *kind),
            TypeKind::Decimal { .. } => self.decimal_value(&utf8(&bytes)?, opts),
            _ => Err(self.mismatch("a byte string")),
        }
    }

    /// DATE (`None` date parts = zero date).
    pub(crate) fn date_value(&self, year: u16, month: u8, day: u8) -> Result<Value> {
        if self.kind != TypeKind::Date {
            return Err(self.mismatch("a date"));
        }
        Ok(epoch_days(year, month, day).map_or(Value::Null, Value::Int32))
    }

    /// DATETIME as milli- or microseconds since the epoch, by fsp and `time.precision.mode`.
    pub(crate) fn datetime_value(&self, dt: LocalDateTime, opts: &TypeOptions) -> Result<Value> {
        match self.kind {
            TypeKind::DateTime { fsp } => {
                let Some(micros) = dt.epoch_micros() else {
                    return Ok(Value::Null);
                };
                let millis = || Value::Int64(micros.div_euclid(1000));
                Ok(match opts.time_precision {
                    TimePrecisionMode::Connect => millis(),
                    _ if fsp <= 3 => millis(),
                    _ => Value::Int64(micros),
                })
            }
            TypeKind::Timestamp { .. } => Ok(dt
                .epoch_micros()
                .map_or(Value::Null, |micros| self.timestamp_value(micros))),
            TypeKind::Date => self.date_value(dt.year, dt.month, dt.day),
            _ => Err(self.mismatch("a date and time")),
        }
    }

    /// TIMESTAMP as Debezium's ZonedTimestamp text in UTC, with exactly fsp fraction digits
    /// when fsp > 0 (Debezium passes the column's fsp as the fractional width).
    pub(crate) fn timestamp_value(&self, epoch_micros: i64) -> Value {
        let fsp = match self.kind {
            TypeKind::Timestamp { fsp } => fsp,
            _ => 0,
        };
        Value::String(format_zoned_timestamp(epoch_micros, fsp).into())
    }

    /// TIME as a signed duration in microseconds (it may be negative or above 24 hours).
    pub(crate) fn time_value(&self, micros: i64, opts: &TypeOptions) -> Result<Value> {
        let TypeKind::Time { fsp } = self.kind else {
            return Err(self.mismatch("a time"));
        };
        let millis = || Value::Int32((micros / 1000) as i32);
        Ok(match opts.time_precision {
            TimePrecisionMode::AdaptiveTimeMicroseconds => Value::Int64(micros),
            TimePrecisionMode::Adaptive if fsp <= 3 => millis(),
            TimePrecisionMode::Adaptive => Value::Int64(micros),
            TimePrecisionMode::Connect => millis(),
        })
    }

    /// ENUM by its 1-based index (0 is MySQL's empty error value).
    pub(crate) fn enum_value(&self, index: u16) -> Result<Value> {
        let TypeKind::Enum { values } = &self.kind else {
            return Err(self.mismatch("an ENUM index"));
        };
        if index == 0 {
            return Ok(Value::String(Default::default()));
        }
        values
            .get(usize::from(index) - 1)
            .map(|v| Value::String(v.as_str().into()))
            .ok_or_else(|| {
                bad(format!(
                    "ENUM index {index} is beyond the {} known members (is \
                     binlog_row_metadata=FULL?)",
                    values.len()
                ))
            })
    }

    /// SET by its member bitmap, members comma-joined in definition order.
    pub(crate) fn set_value(&self, bits: u64) -> Result<Value> {
        let TypeKind::Set { values } = &self.kind else {
            return Err(self.mismatch("a SET bitmap"));
        };
        let mut out = String::new();
        for bit in 0..64 {
            if bits & (1 << bit) == 0 {
                continue;
            }
            let member = values.get(bit).ok_or_else(|| {
                bad(format!(
                    "SET bit {bit} is beyond the {} known members (is binlog_row_metadata=FULL?)",
                    values.len()
                ))
            })?;
            if !out.is_empty() {
                out.push(',');
            }
            out.push_str(member);
        }
        Ok(Value::String(out.into()))
    }

    /// A parsed JSON document as compact text, object keys in MySQL's order.
    pub(crate) fn json_value(&self, json: &serde_json::Value) -> Result<Value> {
        match self.kind {
            TypeKind::Json => Ok(Value::String(
                canonical_json(json.clone()).to_string().into(),
            )),
            _ => Err(self.mismatch("a JSON document")),
        }
    }

    /// The value Debezium emits for a NOT NULL column whose value came out null (a zero date):
    /// the epoch for temporal types.
    pub(crate) fn zero_value(&self, opts: &TypeOptions) -> Option<Value> {
        match self.kind {
            TypeKind::Date => Some(Value::Int32(0)),
            TypeKind::DateTime { .. } => Some(Value::Int64(0)),
            TypeKind::Timestamp { .. } => Some(self.timestamp_value(0)),
            TypeKind::Time { .. } => self.time_value(0, opts).ok(),
            _ => None,
        }
    }

    /// MySQL's name for the type, for messages and schema-change descriptions.
    pub fn type_name(&self) -> String {
        super::describe::type_name(self)
    }
}

fn utf8(bytes: &[u8]) -> Result<String> {
    String::from_utf8(bytes.to_vec()).map_err(|_| bad("the value is not UTF-8 text"))
}

fn binary_value(bytes: Vec<u8>, mode: BinaryHandlingMode) -> Value {
    mode.value(bytes)
}

/// JSON text (snapshots; MySQL renders it with spaces) re-serialized compactly, so the
/// snapshot and the binlog give the same string.
fn json_text_value(bytes: &[u8]) -> Result<Value> {
    let json: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| bad(format!("the JSON column holds invalid JSON: {e}")))?;
    Ok(Value::String(canonical_json(json).to_string().into()))
}

/// MySQL keeps (and prints) object keys sorted by length, then bytewise; Debezium's binlog
/// JSON follows that order. Sorting both sources' documents the same way makes snapshot and
/// streaming text identical.
fn canonical_json(json: serde_json::Value) -> serde_json::Value {
    match json {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<(String, serde_json::Value)> = map.into_iter().collect();
            entries.sort_by(|(a, _), (b, _)| (a.len(), a.as_bytes()).cmp(&(b.len(), b.as_bytes())));
            serde_json::Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, canonical_json(v)))
                    .collect(),
            )
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(canonical_json).collect())
        }
        other => other,
    }
}

/// `2024-06-15T12:34:56.500Z` (fsp 3) / `2024-06-15T12:34:56Z` (fsp 0).
pub(crate) fn format_zoned_timestamp(epoch_micros: i64, fsp: u8) -> String {
    let days = epoch_micros.div_euclid(MICROS_PER_DAY);
    let time = epoch_micros.rem_euclid(MICROS_PER_DAY);
    let secs = time / MICROS_PER_SECOND;
    let micros = time % MICROS_PER_SECOND;
    let mut out = format!(
        "{}T{:02}:{:02}:{:02}",
        format_date(days as i32),
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
    if fsp > 0 {
        let digits = format!("{micros:06}");
        out.push('.');
        out.push_str(&digits[..usize::from(fsp.min(6))]);
    } else if micros != 0 {
        out.push('.');
        out.push_str(format!("{micros:06}").trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// The unscaled value of plain decimal text (`-12.5`) at `scale`, when it is short enough to
/// compute exactly without the general decimal parser (at most 30 digits, no more fraction
/// digits than `scale`, no exponent); `None` sends the text down the general path.
fn short_unscaled(text: &str, scale: u32) -> Option<i128> {
    let text = text.trim();
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && fraction.is_empty()
        || fraction.len() > scale as usize
        || whole.len() + scale as usize > 30
    {
        return None;
    }
    let mut unscaled: i128 = 0;
    for b in whole.bytes().chain(fraction.bytes()) {
        if !b.is_ascii_digit() {
            return None;
        }
        unscaled = unscaled * 10 + i128::from(b - b'0');
    }
    unscaled *= 10i128.pow(scale - fraction.len() as u32);
    Some(if negative { -unscaled } else { unscaled })
}

#[cfg(test)]
mod short_decimal_tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// The short path gives the same bytes as the general decimal encoder.
        #[test]
        fn short_decimals_encode_like_the_general_path(
            whole in -999_999_999_999i64..999_999_999_999,
            fraction in 0u32..1_000_000,
            fraction_digits in 0usize..7,
            extra_scale in 0u32..6,
        ) {
            let fraction_text = format!("{fraction:06}");
            let fraction_text = &fraction_text[..fraction_digits];
            let text = if fraction_digits == 0 {
                whole.to_string()
            } else {
                format!("{whole}.{fraction_text}")
            };
            let scale = fraction_digits as u32 + extra_scale;
            let unscaled = short_unscaled(&text, scale).expect("short");
            prop_assert_eq!(encode_unscaled(unscaled), encode_decimal(&text, scale as i32).unwrap());
        }
    }

    #[test]
    fn long_or_unusual_decimals_take_the_general_path() {
        assert_eq!(short_unscaled("1.234", 2), None);
        assert_eq!(short_unscaled("1e5", 0), None);
        assert_eq!(short_unscaled("", 2), None);
        assert_eq!(short_unscaled("-", 2), None);
        assert_eq!(short_unscaled("12345678901234567890123456789012", 0), None);
        assert_eq!(short_unscaled("-0.50", 2), Some(-50));
    }
}
