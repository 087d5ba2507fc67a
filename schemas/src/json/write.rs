//! Writes Connect schemas and values as JSON bytes, byte for byte as Kafka Connect's JsonConverter
//! (Jackson, compact) does, straight into an output buffer without an intermediate tree.
//!
//! Schema layout (`JsonConverter.asJsonSchema`): `type`, then `items` / `keys`,`values` /
//! `fields`, then `optional`, `name`, `version`, `doc`, `parameters`, `default`; a struct field is
//! its schema's object with `"field":"<name>"` appended last.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::DecimalFormat;
use super::number::{write_f32, write_f64};
use super::shared::SharedStructCache;
use crate::decimal::write_decimal_java;
use crate::error::{Error, Result};
use crate::logical::DECIMAL;
use crate::schema::{Schema, SchemaRef, SchemaType};
use crate::value::{Struct, Value};

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// True when a byte of `word` is a control character, `"` or `\\` (bit tricks on 8 bytes at once:
/// a byte is "found" when subtracting from it borrows into its high bit).
fn word_needs_escape(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let quote = word ^ (ONES * u64::from(b'"'));
    let backslash = word ^ (ONES * u64::from(b'\\'));
    // Branch-free: OR the three "found" masks and test the high bits once.
    let found = (word.wrapping_sub(ONES * 0x20) & !word)
        | (quote.wrapping_sub(ONES) & !quote)
        | (backslash.wrapping_sub(ONES) & !backslash);
    found & HIGHS != 0
}

/// Appends a JSON string literal, escaped as Jackson does: `\"`, `\\`, the short escapes
/// `\b \t \n \f \r`, other control characters as `\u00XX` (upper-case hex), everything else raw.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    // Fast path: most strings need no escaping; check them 8 bytes at a time.
    let mut clean = 0;
    while let Some(chunk) = bytes.get(clean..clean + 8) {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        if word_needs_escape(word) {
            break;
        }
        clean += 8;
    }
    // The tail shorter than a word: padded with a byte that never needs escaping, so a clean
    // string is copied whole without a per-byte loop.
    if clean == bytes.len() - bytes.len() % 8 {
        let tail = &bytes[clean..];
        let mut padded = [b'a'; 8];
        padded[..tail.len()].copy_from_slice(tail);
        if !word_needs_escape(u64::from_le_bytes(padded)) {
            out.extend_from_slice(bytes);
            out.push(b'"');
            return;
        }
    }
    out.extend_from_slice(&bytes[..clean]);
    let mut start = clean;
    for (i, &b) in bytes.iter().enumerate().skip(clean) {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            0x0c => b"\\f",
            b'\r' => b"\\r",
            0x00..=0x1f => {
                out.extend_from_slice(&bytes[start..i]);
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(escape);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

fn write_int(out: &mut Vec<u8>, v: impl itoa::Integer) {
    let mut buffer = itoa::Buffer::new();
    out.extend_from_slice(buffer.format(v).as_bytes());
}

fn write_base64(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    let start = out.len();
    out.resize(
        start + base64::encoded_len(bytes.len(), true).unwrap_or(0),
        0,
    );
    let written = BASE64.encode_slice(bytes, &mut out[start..]).unwrap_or(0);
    out.truncate(start + written);
    out.push(b'"');
}

/// Appends the JSON form of a schema; `field` is the struct field name it describes, if any.
pub fn write_schema(
    out: &mut Vec<u8>,
    schema: &Schema,
    field: Option<&str>,
    decimals: DecimalFormat,
) -> Result<()> {
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(schema.schema_type().name().as_bytes());
    out.push(b'"');
    match schema.schema_type() {
        SchemaType::Array => {
            out.extend_from_slice(b",\"items\":");
            write_nested(out, schema.value_schema().map(|s| &**s), decimals)?;
        }
        SchemaType::Map => {
            out.extend_from_slice(b",\"keys\":");
            write_nested(out, schema.key_schema().map(|s| &**s), decimals)?;
            out.extend_from_slice(b",\"values\":");
            write_nested(out, schema.value_schema().map(|s| &**s), decimals)?;
        }
        SchemaType::Struct => {
            out.extend_from_slice(b",\"fields\":[");
            for (i, f) in schema.fields().iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_schema(out, f.schema(), Some(f.name()), decimals)?;
            }
            out.push(b']');
        }
        _ => {}
    }
    out.extend_from_slice(if schema.is_optional() {
        b",\"optional\":true"
    } else {
        b",\"optional\":false"
    });
    if let Some(name) = schema.name() {
        out.extend_from_slice(b",\"name\":");
        write_str(out, name);
    }
    if let Some(version) = schema.version() {
        out.extend_from_slice(b",\"version\":");
        write_int(out, version);
    }
    if let Some(doc) = schema.doc() {
        out.extend_from_slice(b",\"doc\":");
        write_str(out, doc);
    }
    if !schema.parameters().is_empty() {
        out.extend_from_slice(b",\"parameters\":{");
        for (i, (k, v)) in schema.parameters().iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_str(out, k);
            out.push(b':');
            write_str(out, v);
        }
        out.push(b'}');
    }
    if let Some(default) = schema.default_value() {
        out.extend_from_slice(b",\"default\":");
        write_value(out, schema, default, decimals, "default")?;
    }
    if let Some(field) = field {
        out.extend_from_slice(b",\"field\":");
        write_str(out, field);
    }
    out.push(b'}');
    Ok(())
}

fn write_nested(out: &mut Vec<u8>, schema: Option<&Schema>, decimals: DecimalFormat) -> Result<()> {
    match schema {
        Some(s) => write_schema(out, s, None, decimals),
        None => {
            out.extend_from_slice(b"null");
            Ok(())
        }
    }
}

fn mismatch(path: &str, schema: &Schema, value: &Value) -> Error {
    Error::ValueMismatch {
        path: path.to_string(),
        expected: schema.describe(),
        found: value.kind().to_string(),
    }
}

/// What, besides a value and its schema, decides how the value is written.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ValueWriter<'a> {
    pub(crate) decimals: DecimalFormat,
    /// Where the bytes of shared nested structs are kept, if anywhere.
    pub(crate) shared: Option<&'a SharedStructCache>,
}

/// Appends the JSON form of `value` under `schema`. A null takes the schema's default when it has
/// one (as Kafka's `replace.null.with.default=true`), is written `null` when optional, and is an
/// error naming `path` otherwise.
pub fn write_value(
    out: &mut Vec<u8>,
    schema: &Schema,
    value: &Value,
    decimals: DecimalFormat,
    path: &str,
) -> Result<()> {
    let writer = ValueWriter {
        decimals,
        shared: None,
    };
    write_value_with(out, schema, value, writer, path)
}

/// [`write_value`], with the writer's cache of shared structs.
pub(crate) fn write_value_with(
    out: &mut Vec<u8>,
    schema: &Schema,
    value: &Value,
    writer: ValueWriter<'_>,
    path: &str,
) -> Result<()> {
    let decimals = writer.decimals;
    match (schema.schema_type(), value) {
        (_, Value::Null) => match schema.default_value() {
            Some(default) => write_value_with(out, schema, default, writer, path)?,
            None if schema.is_optional() => out.extend_from_slice(b"null"),
            None => {
                return Err(Error::MissingRequired {
                    path: path.to_string(),
                });
            }
        },
        (SchemaType::Int8, Value::Int8(v)) => write_int(out, *v),
        (SchemaType::Int16, Value::Int16(v)) => write_int(out, *v),
        (SchemaType::Int32, Value::Int32(v)) => write_int(out, *v),
        (SchemaType::Int64, Value::Int64(v)) => write_int(out, *v),
        (SchemaType::Float32, Value::Float32(v)) => write_f32(out, *v),
        (SchemaType::Float64, Value::Float64(v)) => write_f64(out, *v),
        (SchemaType::Boolean, Value::Boolean(v)) => {
            out.extend_from_slice(if *v { b"true" } else { b"false" })
        }
        (SchemaType::String, Value::String(s)) => write_str(out, s),
        (SchemaType::Bytes, Value::Bytes(b)) => {
            if decimals == DecimalFormat::Numeric && schema.name() == Some(DECIMAL) {
                let scale = decimal_scale(schema, path)?;
                write_decimal_java(out, b, scale);
            } else {
                write_base64(out, b);
            }
        }
        (SchemaType::Array, Value::Array(items)) => {
            let item_schema = schema
                .value_schema()
                .ok_or_else(|| mismatch(path, schema, value))?;
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value_with(out, item_schema, item, writer, path)?;
            }
            out.push(b']');
        }
        (SchemaType::Map, Value::Map(entries)) => {
            let (Some(key_schema), Some(value_schema)) =
                (schema.key_schema(), schema.value_schema())
            else {
                return Err(mismatch(path, schema, value));
            };
            // String-keyed maps are JSON objects; any other key type becomes an array of pairs.
            let object_mode = key_schema.schema_type() == SchemaType::String;
            out.push(if object_mode { b'{' } else { b'[' });
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                if object_mode {
                    let Value::String(k) = k else {
                        return Err(mismatch(path, key_schema, k));
                    };
                    write_str(out, k);
                    out.push(b':');
                    write_value_with(out, value_schema, v, writer, path)?;
                } else {
                    out.push(b'[');
                    write_value_with(out, key_schema, k, writer, path)?;
                    out.push(b',');
                    write_value_with(out, value_schema, v, writer, path)?;
                    out.push(b']');
                }
            }
            out.push(if object_mode { b'}' } else { b']' });
        }
        (SchemaType::Struct, Value::Struct(s)) => write_struct(out, schema, s, writer)?,
        _ => return Err(mismatch(path, schema, value)),
    }
    Ok(())
}

/// Appends a struct's fields as a JSON object. A nested struct that other events share (see
/// [`SharedStructCache`]) is copied from the writer's cache when it is there.
fn write_struct(
    out: &mut Vec<u8>,
    schema: &Schema,
    value: &Struct,
    writer: ValueWriter<'_>,
) -> Result<()> {
    start_loading_nested(value.values(), writer);
    out.push(b'{');
    for (i, (f, v)) in schema.fields().iter().zip(value.values()).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(f.json_key());
        if write_plain(out, f.schema(), v) {
            continue;
        }
        match (v, writer.shared) {
            (Value::Struct(nested), Some(cache))
                if nested.values_are_shared() && f.schema().schema_type() == SchemaType::Struct =>
            {
                write_shared_struct(out, f.schema(), nested, writer, cache)?
            }
            _ => write_value_with(out, f.schema(), v, writer, f.name())?,
        }
    }
    out.push(b'}');
    Ok(())
}

/// A shared nested struct: its cached bytes, or written and cached.
#[inline(never)]
fn write_shared_struct(
    out: &mut Vec<u8>,
    schema: &SchemaRef,
    value: &Struct,
    writer: ValueWriter<'_>,
    cache: &SharedStructCache,
) -> Result<()> {
    cache.write(out, value, schema, writer.decimals, |out| {
        write_struct(out, schema, value, writer)
    })
}

/// Writes the most common struct fields (integers, strings, booleans, plain nulls) in the
/// struct's own loop, without a recursive call; returns false, having written nothing, for any
/// other value, which [`write_value`] then writes.
#[inline(always)]
fn write_plain(out: &mut Vec<u8>, schema: &Schema, value: &Value) -> bool {
    match (value, schema.schema_type()) {
        (Value::String(s), SchemaType::String) => write_str(out, s),
        (Value::Int64(v), SchemaType::Int64) => write_int(out, *v),
        (Value::Int32(v), SchemaType::Int32) => write_int(out, *v),
        (Value::Boolean(v), SchemaType::Boolean) => {
            out.extend_from_slice(if *v { b"true" } else { b"false" })
        }
        (Value::Null, _) if schema.is_optional() && schema.default_value().is_none() => {
            out.extend_from_slice(b"null")
        }
        _ => return false,
    }
    true
}

/// Reads the first byte of every separately allocated part of a struct's values (nested structs'
/// values, heap strings, bytes) before any of them is written.
///
/// The converter thread writes events another thread built, so those parts are usually not in
/// its caches, and writing them field by field would wait for one memory fetch after another.
/// These loads do not depend on each other, so the CPU issues them together and the fetches
/// overlap; by the time the writer reaches a nested struct its first line is (being) loaded.
///
/// A shared nested struct is skipped when the writer caches them: its bytes will most likely be
/// copied from the cache, and its values are in the CPU caches anyway, being written for event
/// after event.
fn start_loading_nested(values: &[Value], writer: ValueWriter<'_>) {
    let mut touched = 0u8;
    for value in values {
        touched ^= match value {
            Value::Struct(s) if writer.shared.is_some() && s.values_are_shared() => 0,
            Value::Struct(s) => s
                .values()
                .iter()
                .step_by(2)
                .fold(0, |t, v| t ^ first_byte(v)),
            _ => first_byte(value),
        };
    }
    // Keeps the loads: their results are otherwise unused.
    std::hint::black_box(touched);
}

/// The first byte of a value's separately allocated part (0 when it has none).
fn first_byte(value: &Value) -> u8 {
    match value {
        Value::Struct(s) => s.values().first().map_or(0, value_tag),
        Value::String(text) if text.is_heap_allocated() => {
            text.as_bytes().first().copied().unwrap_or(0)
        }
        Value::Bytes(bytes) => bytes.first().copied().unwrap_or(0),
        Value::Array(items) => items.first().map_or(0, value_tag),
        _ => 0,
    }
}

/// A byte that depends on a value's variant (so reading it loads the value's first line).
fn value_tag(value: &Value) -> u8 {
    match value {
        Value::Null => 0,
        Value::Struct(_) => 1,
        Value::String(_) => 2,
        _ => 3,
    }
}

/// The `scale` parameter of a Decimal schema.
pub(crate) fn decimal_scale(schema: &Schema, path: &str) -> Result<i32> {
    let scale = schema
        .parameter("scale")
        .ok_or_else(|| Error::InvalidSchema {
            name: schema.name().map(str::to_string),
            reason: format!("the Decimal schema of `{path}` has no `scale` parameter"),
        })?;
    scale.parse().map_err(|_| Error::InvalidSchema {
        name: schema.name().map(str::to_string),
        reason: format!(
            "the Decimal schema of `{path}` has scale `{scale}`, which is not an integer"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logical;
    use crate::schema::{INT32_SCHEMA, OPTIONAL_STRING_SCHEMA, STRING_SCHEMA, SchemaBuilder};

    fn text(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escapes_are_found_in_every_byte_position() {
        for position in 0..20 {
            for special in ['"', '\\', '\n', '\u{1f}'] {
                let mut text: String = "abcdefghijklmnopqrst".into();
                text.replace_range(position..=position, &special.to_string());
                let written = String::from_utf8(text_of(&text)).unwrap();
                let expected = serde_json::to_string(&text)
                    .unwrap()
                    .replace("\\u001f", "\\u001F");
                assert_eq!(written, expected, "{position} {special:?}");
            }
        }
        assert_eq!(
            text_of("é and ✓ and \u{7f} are raw"),
            "\"é and ✓ and \u{7f} are raw\"".as_bytes()
        );
    }

    proptest::proptest! {
        #[test]
        fn any_string_is_escaped_like_a_standard_json_writer(text in ".*") {
            let expected = serde_json::to_string(&text).unwrap();
            let expected = expected.replace("\\u00", "\\U00");
            let written = String::from_utf8(text_of(&text)).unwrap().replace("\\u00", "\\U00");
            proptest::prop_assert_eq!(written.to_lowercase(), expected.to_lowercase());
        }
    }

    fn text_of(s: &str) -> Vec<u8> {
        let mut out = Vec::new();
        write_str(&mut out, s);
        out
    }

    #[test]
    fn strings_are_escaped_like_jackson() {
        let s = text(|o| write_str(o, "a\"b\\c\n\u{1}\u{7f}é/"));
        assert_eq!(s, "\"a\\\"b\\\\c\\n\\u0001\u{7f}é/\"");
    }

    #[test]
    fn schema_layout_matches_kafka() {
        let schema = SchemaBuilder::struct_()
            .name("k")
            .field("id", INT32_SCHEMA.clone())
            .field(
                "snapshot",
                logical::enumeration(&["true", "false"])
                    .optional()
                    .default_value("false".into())
                    .build(),
            )
            .field(
                "tags",
                SchemaBuilder::map(STRING_SCHEMA.clone(), OPTIONAL_STRING_SCHEMA.clone())
                    .optional()
                    .build(),
            )
            .build();
        let s = text(|o| write_schema(o, &schema, None, DecimalFormat::Base64).unwrap());
        assert_eq!(
            s,
            concat!(
                r#"{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},"#,
                r#"{"type":"string","optional":true,"name":"io.debezium.data.Enum","version":1,"parameters":{"allowed":"true,false"},"default":"false","field":"snapshot"},"#,
                r#"{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"string","optional":true},"optional":true,"field":"tags"}"#,
                r#"],"optional":false,"name":"k"}"#
            )
        );
    }

    #[test]
    fn decimals_follow_the_decimal_format() {
        let schema = logical::decimal(2).build();
        let value = Value::Bytes(vec![0x04, 0xe2]);
        let b64 = text(|o| write_value(o, &schema, &value, DecimalFormat::Base64, "p").unwrap());
        assert_eq!(b64, "\"BOI=\"");
        let numeric =
            text(|o| write_value(o, &schema, &value, DecimalFormat::Numeric, "p").unwrap());
        assert_eq!(numeric, "12.50");
    }

    #[test]
    fn null_for_required_names_the_field() {
        let schema = SchemaBuilder::struct_()
            .field("id", INT32_SCHEMA.clone())
            .build();
        let value = Value::Struct(crate::value::Struct::new(schema.clone()));
        let err =
            write_value(&mut Vec::new(), &schema, &value, DecimalFormat::Base64, "").unwrap_err();
        assert!(err.to_string().contains("`id`"), "{err}");
    }
}
