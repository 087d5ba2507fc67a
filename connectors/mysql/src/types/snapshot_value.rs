//! Snapshots: a `mysql_async` result value to the Connect value of its column.
//!
//! The text protocol (`query`) returns every value as bytes in the connection charset, the
//! binary protocol (`exec`) typed values; both are accepted. The snapshot connection must use
//! utf8mb4 (mysql_async's default) and `SET time_zone = '+00:00'`, so TIMESTAMP text is UTC.

use std::borrow::Cow;

use mysql_async::Value as MyValue;
use sluice_schemas::Value;

use super::charset::Charset;
use super::column::{ColumnType, TypeKind};
use super::options::TypeOptions;
use super::value::{LocalDateTime, bad};
use crate::error::Result;

impl ColumnType {
    /// Converts one value of a snapshot SELECT.
    pub fn snapshot_value(&self, value: &MyValue, opts: &TypeOptions) -> Result<Value> {
        match value {
            MyValue::NULL => Ok(Value::Null),
            MyValue::Bytes(bytes) => self.snapshot_bytes(Cow::Borrowed(bytes), opts),
            MyValue::Int(v) => self.integer_value(i128::from(*v), opts),
            MyValue::UInt(v) => self.integer_value(i128::from(*v), opts),
            MyValue::Float(v) => self.float_value(f64::from(*v)),
            MyValue::Double(v) => self.float_value(*v),
            MyValue::Date(year, month, day, hour, minute, second, micros) => self.datetime_value(
                LocalDateTime {
                    year: *year,
                    month: *month,
                    day: *day,
                    hour: *hour,
                    minute: *minute,
                    second: *second,
                    micros: *micros,
                },
                opts,
            ),
            MyValue::Time(negative, days, hours, minutes, seconds, micros) => {
                let magnitude = ((i64::from(*days) * 24 + i64::from(*hours)) * 3600
                    + i64::from(*minutes) * 60
                    + i64::from(*seconds))
                    * 1_000_000
                    + i64::from(*micros);
                self.time_value(if *negative { -magnitude } else { magnitude }, opts)
            }
        }
    }

    /// [`Self::snapshot_value`] of a value the caller gives up: text and binary columns keep
    /// its buffer instead of copying it.
    pub fn snapshot_value_owned(&self, value: MyValue, opts: &TypeOptions) -> Result<Value> {
        match value {
            MyValue::Bytes(bytes) => self.snapshot_bytes(Cow::Owned(bytes), opts),
            other => self.snapshot_value(&other, opts),
        }
    }

    /// A text-protocol value: parsed according to the column type.
    fn snapshot_bytes(&self, bytes: Cow<'_, [u8]>, opts: &TypeOptions) -> Result<Value> {
        let text = || std::str::from_utf8(&bytes).map_err(|_| bad("the value is not UTF-8 text"));
        match &self.kind {
            TypeKind::Integer { .. } | TypeKind::Year => {
                let text = text()?;
                let v: i128 = text
                    .trim()
                    .parse()
                    .map_err(|_| bad(format!("`{text}` is not an integer")))?;
                self.integer_value(v, opts)
            }
            TypeKind::Float | TypeKind::Double => {
                let text = text()?;
                let v: f64 = text
                    .trim()
                    .parse()
                    .map_err(|_| bad(format!("`{text}` is not a number")))?;
                // Parse FLOAT text as f32 directly: its shortest text round-trips to the
                // same f32, while going through f64 could round differently.
                match self.kind {
                    TypeKind::Float => Ok(Value::Float32(text.trim().parse().unwrap_or(v as f32))),
                    _ => Ok(Value::Float64(v)),
                }
            }
            TypeKind::Decimal { .. } => self.decimal_value(text()?, opts),
            // BIT comes as its big-endian bytes.
            TypeKind::Bit { .. } => {
                Ok(self.bits_value(bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b))))
            }
            TypeKind::Date => {
                let (year, month, day) = parse_date(text()?)?;
                self.date_value(year, month, day)
            }
            TypeKind::DateTime { .. } | TypeKind::Timestamp { .. } => {
                self.datetime_value(parse_datetime(text()?)?, opts)
            }
            TypeKind::Time { .. } => self.time_value(parse_time(text()?)?, opts),
            _ => self.bytes_value(bytes.into_owned(), Charset::Utf8mb4, opts),
        }
    }
}

fn number<T: std::str::FromStr>(part: &str, whole: &str) -> Result<T> {
    part.parse()
        .map_err(|_| bad(format!("`{whole}` is not a valid date/time")))
}

/// `YYYY-MM-DD`.
fn parse_date(text: &str) -> Result<(u16, u8, u8)> {
    let mut parts = text.trim().splitn(3, '-');
    let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad(format!("`{text}` is not a date")));
    };
    Ok((number(y, text)?, number(m, text)?, number(d, text)?))
}

/// Six fraction digits from `.5` / `.500000` style text (right-padded with zeros).
fn micros_of_fraction(fraction: &str, whole: &str) -> Result<u32> {
    if fraction.is_empty() {
        return Ok(0);
    }
    if fraction.len() > 6 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(format!("`{whole}` has a bad fraction")));
    }
    // Right-padded to six digits by arithmetic (every row of a DATETIME(n) column has one).
    let digits = fraction
        .bytes()
        .fold(0u32, |acc, digit| acc * 10 + u32::from(digit - b'0'));
    Ok(digits * 10u32.pow(6 - fraction.len() as u32))
}

/// `YYYY-MM-DD HH:MM:SS[.ffffff]`.
fn parse_datetime(text: &str) -> Result<LocalDateTime> {
    let text = text.trim();
    let (date, clock) = text
        .split_once([' ', 'T'])
        .ok_or_else(|| bad(format!("`{text}` is not a date and time")))?;
    let (year, month, day) = parse_date(date)?;
    let (clock, fraction) = clock.split_once('.').unwrap_or((clock, ""));
    let mut parts = clock.splitn(3, ':');
    let (Some(h), Some(mi), Some(s)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad(format!("`{text}` is not a date and time")));
    };
    Ok(LocalDateTime {
        year,
        month,
        day,
        hour: number(h, text)?,
        minute: number(mi, text)?,
        second: number(s, text)?,
        micros: micros_of_fraction(fraction, text)?,
    })
}

/// `[-]H…H:MM:SS[.ffffff]` to signed microseconds.
fn parse_time(text: &str) -> Result<i64> {
    let text = text.trim();
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (clock, fraction) = rest.split_once('.').unwrap_or((rest, ""));
    let mut parts = clock.splitn(3, ':');
    let (Some(h), Some(m), Some(s)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad(format!("`{text}` is not a time")));
    };
    let hours: i64 = number(h, text)?;
    let minutes: i64 = number(m, text)?;
    let seconds: i64 = number(s, text)?;
    let magnitude = (hours * 3600 + minutes * 60 + seconds) * 1_000_000
        + i64::from(micros_of_fraction(fraction, text)?);
    Ok(if negative { -magnitude } else { magnitude })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_temporals_parse() {
        assert_eq!(parse_date("2024-06-15").unwrap(), (2024, 6, 15));
        assert_eq!(parse_date("0000-00-00").unwrap(), (0, 0, 0));
        let dt = parse_datetime("2024-06-15 12:34:56.789").unwrap();
        assert_eq!(
            (dt.hour, dt.minute, dt.second, dt.micros),
            (12, 34, 56, 789_000)
        );
        assert_eq!(parse_time("-01:02:03.500").unwrap(), -3_723_500_000);
        assert_eq!(micros_of_fraction("5", "").unwrap(), 500_000);
        assert_eq!(micros_of_fraction("000001", "").unwrap(), 1);
        assert_eq!(micros_of_fraction("", "").unwrap(), 0);
        assert!(micros_of_fraction("1234567", "").is_err());
        assert!(micros_of_fraction("1a", "").is_err());
        assert_eq!(parse_time("838:59:59").unwrap(), 3_020_399_000_000);
        assert!(parse_time("12").is_err());
        assert!(parse_datetime("2024-06-15").is_err());
    }
}
