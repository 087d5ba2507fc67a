//! JSON for values without a Connect schema (what `schemas.enable=false` input gives), written
//! as Kafka's JsonConverter writes schemaless data: maps with string keys as objects, other
//! maps as arrays of `[key, value]` pairs, bytes as base64.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sluice_schemas::Value;
use sluice_schemas::json::number::{write_f32, write_f64};
use sluice_schemas::json::write::write_str;

/// Appends `value` as JSON; structs carry their own schema and are written with it.
pub fn write_schemaless(
    converter: &sluice_schemas::json::JsonConverter,
    value: &Value,
    out: &mut Vec<u8>,
) -> Result<(), sluice_schemas::Error> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Int8(v) => write_integer(out, i64::from(*v)),
        Value::Int16(v) => write_integer(out, i64::from(*v)),
        Value::Int32(v) => write_integer(out, i64::from(*v)),
        Value::Int64(v) => write_integer(out, *v),
        Value::Float32(v) => write_f32(out, *v),
        Value::Float64(v) => write_f64(out, *v),
        Value::Boolean(v) => out.extend_from_slice(if *v { b"true" } else { b"false" }),
        Value::String(text) => write_str(out, text),
        Value::Bytes(bytes) => {
            out.push(b'"');
            let start = out.len();
            out.resize(
                start + base64::encoded_len(bytes.len(), true).unwrap_or(0),
                0,
            );
            let written = STANDARD.encode_slice(bytes, &mut out[start..]).unwrap_or(0);
            out.truncate(start + written);
            out.push(b'"');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_schemaless(converter, item, out)?;
            }
            out.push(b']');
        }
        Value::Map(entries) => {
            let object = entries.iter().all(|(k, _)| matches!(k, Value::String(_)));
            out.push(if object { b'{' } else { b'[' });
            for (i, (key, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                if object {
                    write_schemaless(converter, key, out)?;
                    out.push(b':');
                    write_schemaless(converter, item, out)?;
                } else {
                    out.push(b'[');
                    write_schemaless(converter, key, out)?;
                    out.push(b',');
                    write_schemaless(converter, item, out)?;
                    out.push(b']');
                }
            }
            out.push(if object { b'}' } else { b']' });
        }
        Value::Struct(s) => {
            converter.write(Some(s.schema()), value, out)?;
        }
    }
    Ok(())
}

fn write_integer(out: &mut Vec<u8>, v: i64) {
    use std::io::Write;
    // Writing to a Vec cannot fail.
    let _ = write!(out, "{v}");
}

/// Appends a key or value: with its schema through the converter (payload or envelope, as
/// configured), else schemaless; a null without schema is `null`.
pub fn write_data(
    converter: &sluice_schemas::json::JsonConverter,
    schema: Option<&sluice_schemas::SchemaRef>,
    value: &Value,
    out: &mut Vec<u8>,
) -> Result<(), sluice_schemas::Error> {
    match schema {
        Some(_) => {
            if !converter.write(schema, value, out)? {
                out.extend_from_slice(b"null");
            }
            Ok(())
        }
        None => write_schemaless(converter, value, out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_schemas::json::{JsonConverter, JsonConverterConfig, SchemaEnvelope};

    fn text(value: &Value) -> String {
        let converter = JsonConverter::new(JsonConverterConfig {
            schemas: SchemaEnvelope::PayloadOnly,
            ..JsonConverterConfig::default()
        });
        let mut out = Vec::new();
        write_data(&converter, None, value, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn schemaless_values_write_like_kafka() {
        let map = Value::Map(vec![
            (Value::String("a".into()), Value::Int64(1)),
            (
                Value::String("b".into()),
                Value::Array(vec![Value::Boolean(true), Value::Null]),
            ),
        ]);
        assert_eq!(text(&map), r#"{"a":1,"b":[true,null]}"#);
        let pairs = Value::Map(vec![(Value::Int32(1), Value::String("x\"".into()))]);
        assert_eq!(text(&pairs), r#"[[1,"x\""]]"#);
        assert_eq!(text(&Value::Bytes(vec![1, 2, 3])), r#""AQID""#);
        assert_eq!(text(&Value::Float64(100.0)), "100.0");
        assert_eq!(text(&Value::Null), "null");
    }
}
