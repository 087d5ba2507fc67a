//! Connect values as JSON text, for JSON-lines files and for the JSON-text columns of Avro
//! and Parquet files. Logical types are written the way a warehouse reads them back:
//! decimals as exact numbers, dates as `YYYY-MM-DD`, timestamps as ISO-8601 (with `Z` when
//! they are instants), times as `HH:MM:SS.ffffff`, bytes as base64.

use std::io::Write as _;

use base64::Engine as _;
use sluice_schemas::decimal::decode_decimal;
use sluice_schemas::json::number::{write_f32, write_f64};
use sluice_schemas::json::write::write_str;
use sluice_schemas::temporal::civil_from_days;
use sluice_schemas::{Schema, Value};

use crate::columns::{ColumnKind, TimeUnit, Zone};

/// Writes `value` (of `schema`, when known) as JSON.
pub fn write_value(out: &mut Vec<u8>, schema: Option<&Schema>, value: &Value) {
    let kind = schema.map(ColumnKind::of);
    match (kind, value) {
        (_, Value::Null) => out.extend_from_slice(b"null"),
        (Some(ColumnKind::Decimal { scale, .. }), Value::Bytes(bytes)) => {
            write_decimal(out, bytes, scale);
        }
        (Some(ColumnKind::Date), Value::Int32(days)) => {
            out.push(b'"');
            write_date(out, *days);
            out.push(b'"');
        }
        (Some(ColumnKind::Timestamp(unit, zone)), Value::Int64(ticks)) => {
            out.push(b'"');
            write_timestamp(out, *ticks, unit, zone);
            out.push(b'"');
        }
        (Some(ColumnKind::Time(unit)), value) if value.as_i64().is_some() => {
            out.push(b'"');
            write_time(out, value.as_i64().unwrap_or_default(), unit);
            out.push(b'"');
        }
        (_, Value::Struct(row)) => {
            out.push(b'{');
            for (i, field) in row.schema().fields().iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, field.name());
                out.push(b':');
                let value = row.get_at(i).unwrap_or(&Value::Null);
                write_value(out, Some(field.schema()), value);
            }
            out.push(b'}');
        }
        (_, Value::Map(entries)) => write_map(out, schema, entries),
        (_, Value::Array(items)) => {
            let items_schema = schema.and_then(|s| s.value_schema()).map(|s| &**s);
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, items_schema, item);
            }
            out.push(b']');
        }
        (_, other) => write_primitive(out, other),
    }
}

fn write_map(out: &mut Vec<u8>, schema: Option<&Schema>, entries: &[(Value, Value)]) {
    let key_schema = schema.and_then(|s| s.key_schema()).map(|s| &**s);
    let value_schema = schema.and_then(|s| s.value_schema()).map(|s| &**s);
    if entries.iter().all(|(key, _)| key.as_str().is_some()) {
        out.push(b'{');
        for (i, (key, value)) in entries.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_str(out, key.as_str().unwrap_or_default());
            out.push(b':');
            write_value(out, value_schema, value);
        }
        out.push(b'}');
    } else {
        // Keys that are not strings: an array of [key, value] pairs, as Kafka's JsonConverter.
        out.push(b'[');
        for (i, (key, value)) in entries.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.push(b'[');
            write_value(out, key_schema, key);
            out.push(b',');
            write_value(out, value_schema, value);
            out.push(b']');
        }
        out.push(b']');
    }
}

fn write_primitive(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Int8(v) => write_int(out, i64::from(*v)),
        Value::Int16(v) => write_int(out, i64::from(*v)),
        Value::Int32(v) => write_int(out, i64::from(*v)),
        Value::Int64(v) => write_int(out, *v),
        Value::Float32(v) => write_f32(out, *v),
        Value::Float64(v) => write_f64(out, *v),
        Value::Boolean(true) => out.extend_from_slice(b"true"),
        Value::Boolean(false) => out.extend_from_slice(b"false"),
        Value::String(text) => write_str(out, text),
        Value::Bytes(bytes) => {
            out.push(b'"');
            let start = out.len();
            out.resize(
                start + base64::encoded_len(bytes.len(), true).unwrap_or(0),
                0,
            );
            let written = base64::engine::general_purpose::STANDARD
                .encode_slice(bytes, &mut out[start..])
                .unwrap_or(0);
            out.truncate(start + written);
            out.push(b'"');
        }
        Value::Null | Value::Array(_) | Value::Map(_) | Value::Struct(_) => {
            write_value(out, None, value)
        }
    }
}

/// Decimal digits of `n` into the end of `buf`; returns where they start.
fn digits(buf: &mut [u8; 40], mut n: u128) -> usize {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return at;
        }
    }
}

/// An integer as JSON, without the formatting machinery (hot in JSON lines).
pub fn write_int(out: &mut Vec<u8>, value: i64) {
    if value < 0 {
        out.push(b'-');
    }
    let mut buf = [0u8; 40];
    let at = digits(&mut buf, u128::from(value.unsigned_abs()));
    out.extend_from_slice(&buf[at..]);
}

/// `n` as exactly `width` digits, zero-padded (dates, times, fractions).
fn write_padded(out: &mut Vec<u8>, n: u64, width: usize) {
    let mut buf = [0u8; 40];
    let at = digits(&mut buf, u128::from(n));
    out.extend(std::iter::repeat_n(
        b'0',
        width.saturating_sub(buf.len() - at),
    ));
    out.extend_from_slice(&buf[at..]);
}

/// A decimal's unscaled bytes at `scale` as an exact JSON number.
fn write_decimal(out: &mut Vec<u8>, bytes: &[u8], scale: i8) {
    let unscaled = match crate::parquet_file::unscaled_i128(bytes) {
        Some(unscaled) if scale >= 0 => unscaled,
        _ => {
            out.extend_from_slice(decode_decimal(bytes, i32::from(scale)).as_bytes());
            return;
        }
    };
    if unscaled < 0 {
        out.push(b'-');
    }
    let mut buf = [0u8; 40];
    let at = digits(&mut buf, unscaled.unsigned_abs());
    let text = &buf[at..];
    let scale = scale as usize;
    if scale == 0 {
        out.extend_from_slice(text);
    } else if text.len() > scale {
        let (whole, fraction) = text.split_at(text.len() - scale);
        out.extend_from_slice(whole);
        out.push(b'.');
        out.extend_from_slice(fraction);
    } else {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', scale - text.len()));
        out.extend_from_slice(text);
    }
}

/// `YYYY-MM-DD`.
pub fn write_date(out: &mut Vec<u8>, days: i32) {
    let (year, month, day) = civil_from_days(days);
    if !(0..=9999).contains(&year) {
        let _ = write!(out, "{year:04}-{month:02}-{day:02}");
        return;
    }
    write_padded(out, year as u64, 4);
    out.push(b'-');
    write_padded(out, u64::from(month), 2);
    out.push(b'-');
    write_padded(out, u64::from(day), 2);
}

fn ticks_per_second(unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Millis => 1_000,
        TimeUnit::Micros => 1_000_000,
        TimeUnit::Nanos => 1_000_000_000,
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fff…]` (+`Z` for instants).
pub fn write_timestamp(out: &mut Vec<u8>, ticks: i64, unit: TimeUnit, zone: Zone) {
    let per_day = ticks_per_second(unit) * 86_400;
    let days = ticks.div_euclid(per_day);
    write_date(out, days as i32);
    out.push(b'T');
    write_time(out, ticks.rem_euclid(per_day), unit);
    if zone == Zone::Utc {
        out.push(b'Z');
    }
}

/// `HH:MM:SS[.fff…]` for a time of day.
pub fn write_time(out: &mut Vec<u8>, ticks: i64, unit: TimeUnit) {
    let per_second = ticks_per_second(unit);
    let seconds = ticks.div_euclid(per_second);
    let fraction = ticks.rem_euclid(per_second);
    write_padded(out, (seconds / 3600) as u64, 2);
    out.push(b':');
    write_padded(out, (seconds / 60 % 60) as u64, 2);
    out.push(b':');
    write_padded(out, (seconds % 60) as u64, 2);
    if fraction != 0 {
        out.push(b'.');
        let width = match unit {
            TimeUnit::Millis => 3,
            TimeUnit::Micros => 6,
            TimeUnit::Nanos => 9,
        };
        write_padded(out, fraction as u64, width);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_schemas::logical;
    use sluice_schemas::schema::{INT32_SCHEMA, STRING_SCHEMA};
    use sluice_schemas::{SchemaBuilder, Struct};

    fn json(schema: Option<&Schema>, value: &Value) -> String {
        let mut out = Vec::new();
        write_value(&mut out, schema, value);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn logical_types_are_written_readably() {
        let decimal = logical::decimal_with_precision(10, 2).build();
        let bytes = sluice_schemas::decimal::encode_decimal("-12.50", 2).unwrap();
        assert_eq!(json(Some(&decimal), &Value::Bytes(bytes)), "-12.50");
        let date = logical::date().build();
        assert_eq!(json(Some(&date), &Value::Int32(19_000)), "\"2022-01-08\"");
        let ts = logical::micro_timestamp().build();
        assert_eq!(
            json(Some(&ts), &Value::Int64(1_700_000_000_123_456)),
            "\"2023-11-14T22:13:20.123456\""
        );
        let instant = logical::connect_timestamp().build();
        assert_eq!(
            json(Some(&instant), &Value::Int64(-1)),
            "\"1969-12-31T23:59:59.999Z\""
        );
        for (text, scale) in [
            ("0.05", 2),
            ("-0.05", 2),
            ("1200", 0),
            ("-7.000", 3),
            ("0", 0),
        ] {
            let decimal = logical::decimal(scale).build();
            let bytes = sluice_schemas::decimal::encode_decimal(text, scale).unwrap();
            assert_eq!(json(Some(&decimal), &Value::Bytes(bytes.clone())), text);
            assert_eq!(decode_decimal(&bytes, scale), text);
        }
        let time = logical::nano_time().build();
        assert_eq!(
            json(Some(&time), &Value::Int64(3_723_000_000_007)),
            "\"01:02:03.000000007\""
        );
        assert_eq!(json(None, &Value::Int64(i64::MIN)), i64::MIN.to_string());
        assert_eq!(json(None, &Value::Bytes(vec![1, 2, 3])), "\"AQID\"");
        assert_eq!(json(None, &Value::Int64(-42)), "-42");
    }

    #[test]
    fn structs_and_maps_become_objects() {
        let schema = SchemaBuilder::struct_()
            .name("s")
            .field("id", INT32_SCHEMA.clone())
            .field("name", STRING_SCHEMA.clone())
            .build();
        let row = Struct::new(schema.clone())
            .with("id", 1)
            .unwrap()
            .with("name", "a\"b")
            .unwrap();
        assert_eq!(
            json(Some(&schema), &Value::Struct(row)),
            r#"{"id":1,"name":"a\"b"}"#
        );
        let map = Value::Map(vec![(Value::Int32(1), "x".into())]);
        assert_eq!(json(None, &map), r#"[[1,"x"]]"#);
    }
}
