//! Connect value → Avro binary datum, written straight into a caller's buffer (no intermediate
//! Avro value tree), following the Avro schema [`super::schema`] derives from the same Connect
//! schema: the union branch of optional values, maps vs. entry arrays, defaults for nulls.

use crate::schema::{Schema, SchemaType};
use crate::value::Value;
use crate::{Error, Result};

use super::schema::{is_avro_map, null_branch};

/// Appends the Avro encoding of `value` (of `schema`) to `out`.
pub fn encode_value(schema: &Schema, value: &Value, out: &mut Vec<u8>) -> Result<()> {
    encode(schema, value, out, None)
}

/// The field path being written, as a chain on the stack (no allocation per event); rendered
/// only when an error is reported.
#[derive(Debug, Clone, Copy)]
struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    name: &'a str,
}

fn render(path: Option<&Path<'_>>) -> String {
    let mut names = Vec::new();
    let mut current = path;
    while let Some(step) = current {
        names.push(step.name);
        current = step.parent;
    }
    if names.is_empty() {
        return "(top level)".to_owned();
    }
    names.reverse();
    names.join(".")
}

/// Zig-zag varint encoding of a long, as Avro writes `int` and `long`.
#[inline]
pub fn write_long(value: i64, out: &mut Vec<u8>) {
    let mut n = ((value << 1) ^ (value >> 63)) as u64;
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

#[inline]
fn write_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    write_long(bytes.len() as i64, out);
    out.extend_from_slice(bytes);
}

fn encode(
    schema: &Schema,
    value: &Value,
    out: &mut Vec<u8>,
    path: Option<&Path<'_>>,
) -> Result<()> {
    let value = match (value, schema.default_value()) {
        // Kafka Connect writes a field's default in place of a null.
        (Value::Null, Some(default)) => default,
        _ => value,
    };
    if schema.is_optional() {
        let null_index = null_branch(schema) as i64;
        if let Value::Null = value {
            write_long(null_index, out);
            return Ok(());
        }
        write_long(1 - null_index, out);
    }
    match (schema.schema_type(), value) {
        (SchemaType::Int8, Value::Int8(v)) => write_long(i64::from(*v), out),
        (SchemaType::Int16, Value::Int16(v)) => write_long(i64::from(*v), out),
        (SchemaType::Int32, Value::Int32(v)) => write_long(i64::from(*v), out),
        (SchemaType::Int64, Value::Int64(v)) => write_long(*v, out),
        (SchemaType::Float32, Value::Float32(v)) => out.extend_from_slice(&v.to_le_bytes()),
        (SchemaType::Float64, Value::Float64(v)) => out.extend_from_slice(&v.to_le_bytes()),
        (SchemaType::Boolean, Value::Boolean(v)) => out.push(u8::from(*v)),
        (SchemaType::String, Value::String(v)) => write_bytes(v.as_bytes(), out),
        (SchemaType::Bytes, Value::Bytes(v)) => write_bytes(v, out),
        (SchemaType::Array, Value::Array(items)) => {
            let item_schema = schema
                .value_schema()
                .expect("array schemas have an item schema");
            if !items.is_empty() {
                write_long(items.len() as i64, out);
                for item in items {
                    encode(item_schema, item, out, path)?;
                }
            }
            out.push(0);
        }
        (SchemaType::Map, Value::Map(entries)) => {
            let key_schema = schema.key_schema().expect("map schemas have a key schema");
            let value_schema = schema
                .value_schema()
                .expect("map schemas have a value schema");
            let string_keys = is_avro_map(schema);
            if !entries.is_empty() {
                write_long(entries.len() as i64, out);
                for (key, entry) in entries {
                    if string_keys && let Value::Null = key {
                        return Err(mismatch(path, "a string map key", "null"));
                    }
                    encode(key_schema, key, out, path)?;
                    encode(value_schema, entry, out, path)?;
                }
            }
            out.push(0);
        }
        (SchemaType::Struct, Value::Struct(s)) => {
            let fields = schema.fields();
            if s.values().len() != fields.len() {
                return Err(mismatch(
                    path,
                    &format!("struct with {} fields", fields.len()),
                    &format!("struct with {} fields", s.values().len()),
                ));
            }
            for (field, field_value) in fields.iter().zip(s.values()) {
                let field_path = Path {
                    parent: path,
                    name: field.name(),
                };
                encode(field.schema(), field_value, out, Some(&field_path))?;
            }
        }
        (_, Value::Null) => {
            return Err(Error::MissingRequired { path: render(path) });
        }
        (_, other) => return Err(mismatch(path, &schema.describe(), other.kind())),
    }
    Ok(())
}

fn mismatch(path: Option<&Path<'_>>, expected: &str, found: &str) -> Error {
    Error::ValueMismatch {
        path: render(path),
        expected: expected.to_owned(),
        found: found.to_owned(),
    }
}
