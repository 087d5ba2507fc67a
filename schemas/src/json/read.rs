//! Reads Kafka Connect JSON back into schemas and values (`JsonConverter.asConnectSchema` and
//! `convertToConnect`): with a schema, each payload node is read as its schema says; without one,
//! integers become int64, other numbers float64 and objects string-keyed maps, as Kafka does.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::parse::JsonNode;
use super::write::decimal_scale;
use crate::decimal::encode_decimal;
use crate::error::{Error, Result};
use crate::logical::DECIMAL;
use crate::schema::{Schema, SchemaBuilder, SchemaRef, SchemaType};
use crate::value::{Struct, Value};

fn shape(path: &str, reason: impl Into<String>) -> Error {
    Error::JsonShape {
        path: path.to_string(),
        reason: reason.into(),
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// Reads a JSON schema object as Kafka Connect writes it.
pub fn read_schema(node: &JsonNode, path: &str) -> Result<SchemaRef> {
    let type_name = match node.get("type") {
        Some(JsonNode::String(t)) => t,
        _ => return Err(shape(path, "a schema needs a string `type`")),
    };
    let schema_type = SchemaType::from_name(type_name)
        .ok_or_else(|| shape(path, format!("unknown schema type `{type_name}`")))?;
    let mut builder = match schema_type {
        SchemaType::Array => {
            let items = node.get("items").filter(|n| **n != JsonNode::Null);
            let items = items.ok_or_else(|| shape(path, "an array schema needs `items`"))?;
            SchemaBuilder::array(read_schema(items, &join(path, "items"))?)
        }
        SchemaType::Map => {
            let keys = node
                .get("keys")
                .ok_or_else(|| shape(path, "a map schema needs `keys`"))?;
            let values = node
                .get("values")
                .ok_or_else(|| shape(path, "a map schema needs `values`"))?;
            SchemaBuilder::map(
                read_schema(keys, &join(path, "keys"))?,
                read_schema(values, &join(path, "values"))?,
            )
        }
        SchemaType::Struct => {
            let Some(JsonNode::Array(fields)) = node.get("fields") else {
                return Err(shape(path, "a struct schema needs a `fields` array"));
            };
            let mut builder = SchemaBuilder::struct_();
            for field in fields {
                let Some(JsonNode::String(name)) = field.get("field") else {
                    return Err(shape(
                        path,
                        "every struct field needs a string `field` name",
                    ));
                };
                builder = builder.field(name.clone(), read_schema(field, &join(path, name))?);
            }
            builder
        }
        other => SchemaBuilder::of_type(other),
    };
    if node.get("optional") == Some(&JsonNode::Bool(true)) {
        builder = builder.optional();
    }
    if let Some(JsonNode::String(name)) = node.get("name") {
        builder = builder.name(name.clone());
    }
    if let Some(JsonNode::Number(v)) = node.get("version") {
        let version = v
            .parse()
            .map_err(|_| shape(path, format!("version `{v}` is not an int32")))?;
        builder = builder.version(version);
    }
    if let Some(JsonNode::String(doc)) = node.get("doc") {
        builder = builder.doc(doc.clone());
    }
    if let Some(JsonNode::Object(params)) = node.get("parameters") {
        for (k, v) in params {
            let JsonNode::String(v) = v else {
                return Err(shape(
                    path,
                    format!("schema parameter `{k}` must be a string"),
                ));
            };
            builder = builder.parameter(k.clone(), v.clone());
        }
    }
    if let Some(default) = node.get("default") {
        // The default is read with the schema built so far (Kafka reads it with the builder).
        let partial = builder.clone().try_build()?;
        let value = read_value(Some(&partial), default, &join(path, "default"))?;
        builder = builder.default_value(value);
    }
    builder.try_build()
}

fn integer<T: TryFrom<i64>>(node: &JsonNode, schema: &Schema, path: &str) -> Result<T> {
    let JsonNode::Number(text) = node else {
        return Err(mismatch(path, schema, node));
    };
    let parsed: i64 = text.parse().map_err(|_| mismatch(path, schema, node))?;
    T::try_from(parsed).map_err(|_| Error::ValueMismatch {
        path: path.to_string(),
        expected: schema.describe(),
        found: format!("{text}, which is out of range"),
    })
}

fn float(node: &JsonNode, schema: &Schema, path: &str) -> Result<f64> {
    match node {
        JsonNode::Number(text) => text.parse().map_err(|_| mismatch(path, schema, node)),
        JsonNode::String(s) if s == "NaN" => Ok(f64::NAN),
        JsonNode::String(s) if s == "Infinity" => Ok(f64::INFINITY),
        JsonNode::String(s) if s == "-Infinity" => Ok(f64::NEG_INFINITY),
        _ => Err(mismatch(path, schema, node)),
    }
}

fn mismatch(path: &str, schema: &Schema, node: &JsonNode) -> Error {
    Error::ValueMismatch {
        path: path.to_string(),
        expected: schema.describe(),
        found: format!("JSON {}", node.kind()),
    }
}

fn base64(text: &str, path: &str) -> Result<Vec<u8>> {
    BASE64.decode(text).map_err(|source| Error::Base64 {
        path: path.to_string(),
        source,
    })
}

/// Reads a payload node: with `schema`, as it says; without, by the node's own JSON type.
pub fn read_value(schema: Option<&SchemaRef>, node: &JsonNode, path: &str) -> Result<Value> {
    let Some(schema) = schema else {
        return Ok(read_schemaless(node));
    };
    if *node == JsonNode::Null {
        return match schema.default_value() {
            Some(default) => Ok(default.clone()),
            None if schema.is_optional() => Ok(Value::Null),
            None => Err(Error::MissingRequired {
                path: path.to_string(),
            }),
        };
    }
    Ok(match schema.schema_type() {
        SchemaType::Int8 => Value::Int8(integer(node, schema, path)?),
        SchemaType::Int16 => Value::Int16(integer(node, schema, path)?),
        SchemaType::Int32 => Value::Int32(integer(node, schema, path)?),
        SchemaType::Int64 => Value::Int64(integer(node, schema, path)?),
        SchemaType::Float32 => Value::Float32(float(node, schema, path)? as f32),
        SchemaType::Float64 => Value::Float64(float(node, schema, path)?),
        SchemaType::Boolean => match node {
            JsonNode::Bool(b) => Value::Boolean(*b),
            _ => return Err(mismatch(path, schema, node)),
        },
        SchemaType::String => match node {
            JsonNode::String(s) => Value::String(s.as_str().into()),
            _ => return Err(mismatch(path, schema, node)),
        },
        SchemaType::Bytes => match node {
            JsonNode::String(s) => Value::Bytes(base64(s, path)?),
            JsonNode::Number(text) if schema.name() == Some(DECIMAL) => {
                Value::Bytes(encode_decimal(text, decimal_scale(schema, path)?)?)
            }
            _ => return Err(mismatch(path, schema, node)),
        },
        SchemaType::Array => {
            let JsonNode::Array(items) = node else {
                return Err(mismatch(path, schema, node));
            };
            let item_schema = schema.value_schema();
            let values: Result<Vec<Value>> = items
                .iter()
                .enumerate()
                .map(|(i, n)| read_value(item_schema, n, &format!("{path}[{i}]")))
                .collect();
            Value::Array(values?)
        }
        SchemaType::Map => read_map(schema, node, path)?,
        SchemaType::Struct => {
            let JsonNode::Object(_) = node else {
                return Err(mismatch(path, schema, node));
            };
            let mut values = Vec::with_capacity(schema.fields().len());
            for field in schema.fields() {
                let member = node.get(field.name()).unwrap_or(&JsonNode::Null);
                values.push(read_value(
                    Some(field.schema()),
                    member,
                    &join(path, field.name()),
                )?);
            }
            Value::Struct(Struct::from_values(schema.clone(), values)?)
        }
    })
}

fn read_map(schema: &SchemaRef, node: &JsonNode, path: &str) -> Result<Value> {
    let (key_schema, value_schema) = (schema.key_schema(), schema.value_schema());
    let string_keys = key_schema.is_none_or(|k| k.schema_type() == SchemaType::String);
    let mut entries = Vec::new();
    match node {
        JsonNode::Object(members) if string_keys => {
            for (k, v) in members {
                entries.push((
                    Value::String(k.as_str().into()),
                    read_value(value_schema, v, &join(path, k))?,
                ));
            }
        }
        JsonNode::Array(pairs) if !string_keys => {
            for (i, pair) in pairs.iter().enumerate() {
                let JsonNode::Array(kv) = pair else {
                    return Err(shape(
                        path,
                        format!("map entry {i} must be a [key, value] array"),
                    ));
                };
                let [k, v] = kv.as_slice() else {
                    return Err(shape(
                        path,
                        format!("map entry {i} must have exactly 2 elements"),
                    ));
                };
                let entry_path = format!("{path}[{i}]");
                entries.push((
                    read_value(key_schema, k, &entry_path)?,
                    read_value(value_schema, v, &entry_path)?,
                ));
            }
        }
        _ => {
            let expected = if string_keys {
                "a JSON object (string keys)"
            } else {
                "an array of [key, value] pairs"
            };
            return Err(shape(
                path,
                format!("a map must be {expected}, found JSON {}", node.kind()),
            ));
        }
    }
    Ok(Value::Map(entries))
}

/// Kafka's schemaless reading: integral numbers → int64, other numbers → float64, objects → maps.
fn read_schemaless(node: &JsonNode) -> Value {
    match node {
        JsonNode::Null => Value::Null,
        JsonNode::Bool(b) => Value::Boolean(*b),
        JsonNode::Number(text) => match text.parse::<i64>() {
            Ok(i) => Value::Int64(i),
            Err(_) => Value::Float64(text.parse().unwrap_or(f64::NAN)),
        },
        JsonNode::String(s) => Value::String(s.as_str().into()),
        JsonNode::Array(items) => Value::Array(items.iter().map(read_schemaless).collect()),
        JsonNode::Object(members) => Value::Map(
            members
                .iter()
                .map(|(k, v)| (Value::String(k.as_str().into()), read_schemaless(v)))
                .collect(),
        ),
    }
}
