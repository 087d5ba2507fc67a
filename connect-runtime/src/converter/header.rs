//! Header values as bytes, the way Kafka Connect's default header converter
//! (`org.apache.kafka.connect.storage.SimpleHeaderConverter`) writes them: a top-level string
//! as its UTF-8 text, numbers and booleans as Java prints them, bytes as base64, and arrays,
//! maps and structs in Connect's compact notation (`[1,2]`, `{"a":1}`, strings inside them
//! quoted with `\` and `"` escaped). A null value is a null header.
//!
//! Reading is left to the consumer: sink tasks receive headers as raw bytes
//! ([`HeaderValue::Raw`]).

use base64::Engine;
use bytes::Bytes;
use sluice_schemas::json::number::{write_f32, write_f64};
use sluice_schemas::{Schema, Value, decimal, logical, temporal};

use crate::api::{Header, HeaderValue};

const MILLIS_PER_DAY: i64 = 86_400_000;

/// The bytes to store for a header; `None` for a null value.
pub fn header_bytes(header: &Header) -> Option<Bytes> {
    match &header.value {
        HeaderValue::Raw(bytes) => Some(bytes.clone()),
        HeaderValue::Typed { schema, value } => {
            encode_header_value(schema.as_deref(), value).map(Bytes::from)
        }
    }
}

/// The SimpleHeaderConverter text of a typed value; `None` for null.
pub fn encode_header_value(schema: Option<&Schema>, value: &Value) -> Option<Vec<u8>> {
    if value.is_null() {
        return None;
    }
    let mut out = Vec::new();
    append(&mut out, schema, value, false);
    Some(out)
}

fn append(out: &mut Vec<u8>, schema: Option<&Schema>, value: &Value, embedded: bool) {
    if let Some(text) = logical_text(schema, value) {
        out.extend_from_slice(text.as_bytes());
        return;
    }
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Int8(v) => out.extend_from_slice(v.to_string().as_bytes()),
        Value::Int16(v) => out.extend_from_slice(v.to_string().as_bytes()),
        Value::Int32(v) => out.extend_from_slice(v.to_string().as_bytes()),
        Value::Int64(v) => out.extend_from_slice(v.to_string().as_bytes()),
        Value::Float32(v) => write_f32(out, *v),
        Value::Float64(v) => write_f64(out, *v),
        Value::Boolean(v) => out.extend_from_slice(if *v { b"true" } else { b"false" }),
        Value::String(text) => append_text(out, text, embedded),
        Value::Bytes(bytes) => {
            let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
            if embedded {
                out.push(b'"');
                out.extend_from_slice(encoded.as_bytes());
                out.push(b'"');
            } else {
                out.extend_from_slice(encoded.as_bytes());
            }
        }
        Value::Array(items) => {
            let item_schema = schema.and_then(Schema::value_schema).map(|s| &**s);
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                append(out, item_schema, item, true);
            }
            out.push(b']');
        }
        Value::Map(entries) => {
            let key_schema = schema.and_then(Schema::key_schema).map(|s| &**s);
            let value_schema = schema.and_then(Schema::value_schema).map(|s| &**s);
            out.push(b'{');
            for (index, (key, item)) in entries.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                append(out, key_schema, key, true);
                out.push(b':');
                append(out, value_schema, item, true);
            }
            out.push(b'}');
        }
        Value::Struct(record) => {
            out.push(b'{');
            for (index, field) in record.schema().fields().iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                append_text(out, field.name(), true);
                out.push(b':');
                let item = record.get_at(index).unwrap_or(&Value::Null);
                append(out, Some(field.schema()), item, true);
            }
            out.push(b'}');
        }
    }
}

fn append_text(out: &mut Vec<u8>, text: &str, embedded: bool) {
    if !embedded {
        out.extend_from_slice(text.as_bytes());
        return;
    }
    out.push(b'"');
    for c in text.chars() {
        if c == '\\' || c == '"' {
            out.push(b'\\');
        }
        let mut buffer = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buffer).as_bytes());
    }
    out.push(b'"');
}

/// Kafka's text for its logical types: Decimal as `BigDecimal.toString()`, Date, Time and
/// Timestamp as ISO-8601 (chosen by value, as `Values.dateFormatFor` does).
fn logical_text(schema: Option<&Schema>, value: &Value) -> Option<String> {
    let name = schema?.name()?;
    match (name, value) {
        (logical::DECIMAL, Value::Bytes(bytes)) => {
            let scale = schema?.parameter(logical::DECIMAL_SCALE)?.parse().ok()?;
            Some(decimal::decode_decimal_java(bytes, scale))
        }
        (logical::CONNECT_DATE, Value::Int32(days)) => {
            Some(java_date_text(i64::from(*days) * MILLIS_PER_DAY))
        }
        (logical::CONNECT_TIME, Value::Int32(millis)) => Some(java_date_text(i64::from(*millis))),
        (logical::CONNECT_TIMESTAMP, Value::Int64(millis)) => Some(java_date_text(*millis)),
        _ => None,
    }
}

/// `Values.dateFormatFor`: a time of day below one day, a date on whole days, else a
/// timestamp, all in UTC with milliseconds.
fn java_date_text(millis: i64) -> String {
    let days = millis.div_euclid(MILLIS_PER_DAY);
    let in_day = millis.rem_euclid(MILLIS_PER_DAY);
    let time = format!(
        "{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    );
    if millis < MILLIS_PER_DAY {
        return time;
    }
    let date = temporal::format_date(i32::try_from(days).unwrap_or(i32::MAX));
    if in_day == 0 {
        date
    } else {
        format!("{date}T{time}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_schemas::schema::{INT32_SCHEMA, STRING_SCHEMA};
    use sluice_schemas::{SchemaBuilder, Struct};

    fn text(schema: Option<&Schema>, value: Value) -> String {
        String::from_utf8(encode_header_value(schema, &value).unwrap()).unwrap()
    }

    #[test]
    fn primitives_as_kafka_prints_them() {
        assert_eq!(text(None, Value::from("c")), "c");
        assert_eq!(text(None, Value::Int64(-5)), "-5");
        assert_eq!(text(None, Value::Float64(1.0)), "1.0");
        assert_eq!(text(None, Value::Boolean(true)), "true");
        assert_eq!(text(None, Value::Bytes(b"hi".to_vec())), "aGk=");
        assert_eq!(encode_header_value(None, &Value::Null), None);
    }

    #[test]
    fn structs_arrays_and_maps_in_connect_notation() {
        let key = SchemaBuilder::struct_()
            .name("dbserver1.inventory.customers.Key")
            .field("id", INT32_SCHEMA.clone())
            .field("code", STRING_SCHEMA.clone())
            .build();
        let value = Struct::new(key.clone())
            .with("id", 1001)
            .unwrap()
            .with("code", "a\"b\\c")
            .unwrap();
        assert_eq!(
            text(Some(&key), Value::Struct(value)),
            r#"{"id":1001,"code":"a\"b\\c"}"#
        );
        let list = Value::Array(vec![Value::from("x"), Value::Null, Value::Int32(2)]);
        assert_eq!(text(None, list), r#"["x",null,2]"#);
        let map = Value::Map(vec![(Value::from("k"), Value::Boolean(false))]);
        assert_eq!(text(None, map), r#"{"k":false}"#);
    }

    #[test]
    fn logical_types_as_text() {
        let decimal_schema = logical::decimal(2).build();
        assert_eq!(
            text(Some(&decimal_schema), Value::Bytes(vec![0x30, 0x39])),
            "123.45"
        );
        let date = logical::connect_date().build();
        assert_eq!(text(Some(&date), Value::Int32(19_000)), "2022-01-08");
        let timestamp = logical::connect_timestamp().build();
        assert_eq!(
            text(Some(&timestamp), Value::Int64(1_641_600_000_123)),
            "2022-01-08T00:00:00.123Z"
        );
        let time = logical::connect_time().build();
        assert_eq!(text(Some(&time), Value::Int32(3_723_004)), "01:02:03.004Z");
    }
}
