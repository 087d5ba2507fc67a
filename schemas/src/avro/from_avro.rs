//! Avro schema → Connect schema (Confluent's `AvroData.toConnectSchema`), together with the
//! [`Node`] plan that decodes datums of that Avro schema into Connect values. The `connect.*`
//! properties written by [`super::schema`] are read back, so a Connect schema survives the round
//! trip; schemas from other producers get sensible Connect types (records → structs, logical
//! types → Connect's Decimal/Date/Time/Timestamp, `[null, T]` → optional).

use std::collections::HashMap;

use serde_json::{Map, Value as Json};

use super::decode::{IntWidth, Node};
use super::schema::{
    DEFAULT_DECIMAL_PRECISION, DEFAULT_NAMESPACE, DEFAULT_SCHEMA_NAME, MAP_ENTRY_NAME,
};
use crate::logical;
use crate::schema::{SchemaBuilder, SchemaRef, SchemaType};
use crate::value::Value;
use crate::{Error, Result};

/// Parses Avro schema JSON text into a Connect schema and its decoding plan.
pub fn connect_schema(avro_text: &str) -> Result<(SchemaRef, Node)> {
    let json: Json = serde_json::from_str(avro_text).map_err(|e| Error::InvalidAvroSchema {
        reason: format!("schema is not valid JSON: {e}"),
        source: None,
    })?;
    let mut context = Context::default();
    context.convert(&json, None, Optionality::Required, None)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Optionality {
    Required,
    /// Inside a `[null, T]` / `[T, null]` union; the null branch's index.
    Optional {
        null_index: u8,
    },
}

#[derive(Debug, Default)]
struct Context {
    /// Named types by full name: their definition and the namespace they were defined in.
    names: HashMap<String, Json>,
    depth: usize,
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidAvroSchema {
        reason: reason.into(),
        source: None,
    }
}

fn full_name(object: &Map<String, Json>, enclosing_ns: Option<&str>) -> Result<String> {
    let name = object
        .get("name")
        .and_then(Json::as_str)
        .ok_or_else(|| invalid("a named type has no `name`"))?;
    if name.contains('.') {
        return Ok(name.to_owned());
    }
    let namespace = object
        .get("namespace")
        .and_then(Json::as_str)
        .or(enclosing_ns);
    Ok(match namespace {
        Some(ns) if !ns.is_empty() => format!("{ns}.{name}"),
        _ => name.to_owned(),
    })
}

impl Context {
    fn convert(
        &mut self,
        json: &Json,
        enclosing_ns: Option<&str>,
        optionality: Optionality,
        default: Option<&Json>,
    ) -> Result<(SchemaRef, Node)> {
        self.depth += 1;
        if self.depth > 64 {
            return Err(invalid(
                "the schema nests deeper than 64 levels (recursive Avro types cannot be Connect schemas)",
            ));
        }
        let result = match json {
            Json::String(name) => {
                self.named_or_primitive(name, &Map::new(), enclosing_ns, optionality, default)
            }
            Json::Array(branches) => self.union(branches, enclosing_ns, optionality, default),
            Json::Object(object) => match object.get("type") {
                Some(Json::String(kind)) => {
                    self.named_or_primitive(kind, object, enclosing_ns, optionality, default)
                }
                Some(nested @ (Json::Object(_) | Json::Array(_))) => {
                    self.convert(nested, enclosing_ns, optionality, default)
                }
                _ => Err(invalid(format!(
                    "schema object without a valid `type`: {json}"
                ))),
            },
            other => Err(invalid(format!("`{other}` is not an Avro schema"))),
        };
        self.depth -= 1;
        result
    }

    fn union(
        &mut self,
        branches: &[Json],
        enclosing_ns: Option<&str>,
        optionality: Optionality,
        default: Option<&Json>,
    ) -> Result<(SchemaRef, Node)> {
        let is_null = |b: &Json| {
            b.as_str() == Some("null") || b.get("type").and_then(Json::as_str) == Some("null")
        };
        match branches {
            [a, b] if is_null(a) != is_null(b) && optionality == Optionality::Required => {
                let (null_index, inner) = if is_null(a) { (0, b) } else { (1, a) };
                let (schema, node) = self.convert(
                    inner,
                    enclosing_ns,
                    Optionality::Optional { null_index },
                    default,
                )?;
                Ok((
                    schema.clone(),
                    Node::Optional {
                        null_index,
                        inner: Box::new(node),
                    },
                ))
            }
            [single] => self.convert(single, enclosing_ns, optionality, default),
            _ => Err(invalid(format!(
                "Avro unions other than [\"null\", T] are not supported as Connect schemas (found {} branches)",
                branches.len()
            ))),
        }
    }

    fn named_or_primitive(
        &mut self,
        kind: &str,
        object: &Map<String, Json>,
        enclosing_ns: Option<&str>,
        optionality: Optionality,
        default: Option<&Json>,
    ) -> Result<(SchemaRef, Node)> {
        let (builder, node) = match kind {
            "null" => return Err(invalid("a bare `null` schema has no Connect equivalent")),
            "boolean" => (SchemaBuilder::boolean(), Node::Boolean),
            "int" => match object.get("connect.type").and_then(Json::as_str) {
                Some("int8") => (SchemaBuilder::int8(), Node::Int(IntWidth::Int8)),
                Some("int16") => (SchemaBuilder::int16(), Node::Int(IntWidth::Int16)),
                _ => (SchemaBuilder::int32(), Node::Int(IntWidth::Int32)),
            },
            "long" => (SchemaBuilder::int64(), Node::Long),
            "float" => (SchemaBuilder::float32(), Node::Float),
            "double" => (SchemaBuilder::float64(), Node::Double),
            "string" => (SchemaBuilder::string(), Node::String),
            "bytes" => (SchemaBuilder::bytes(), Node::Bytes),
            "array" => {
                let items = object
                    .get("items")
                    .ok_or_else(|| invalid("array schema without `items`"))?;
                if let Some((key, value)) = self.map_entry(items, enclosing_ns)? {
                    let (key_schema, key_node) =
                        self.convert(&key, enclosing_ns, Optionality::Required, None)?;
                    let (value_schema, value_node) =
                        self.convert(&value, enclosing_ns, Optionality::Required, None)?;
                    let node = Node::MapEntries {
                        key: Box::new(key_node),
                        value: Box::new(value_node),
                    };
                    (SchemaBuilder::map(key_schema, value_schema), node)
                } else {
                    let (item_schema, item_node) =
                        self.convert(items, enclosing_ns, Optionality::Required, None)?;
                    (
                        SchemaBuilder::array(item_schema),
                        Node::Array(Box::new(item_node)),
                    )
                }
            }
            "map" => {
                let values = object
                    .get("values")
                    .ok_or_else(|| invalid("map schema without `values`"))?;
                let (value_schema, value_node) =
                    self.convert(values, enclosing_ns, Optionality::Required, None)?;
                let key_schema = SchemaBuilder::string().build();
                (
                    SchemaBuilder::map(key_schema, value_schema),
                    Node::Map(Box::new(value_node)),
                )
            }
            "record" | "error" => return self.record(object, enclosing_ns, optionality, default),
            "enum" => {
                let name = full_name(object, enclosing_ns)?;
                self.names
                    .insert(name.clone(), Json::Object(object.clone()));
                let symbols: Vec<String> = object
                    .get("symbols")
                    .and_then(Json::as_array)
                    .ok_or_else(|| invalid(format!("enum `{name}` has no `symbols`")))?
                    .iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect();
                let mut builder = SchemaBuilder::string().name(name.clone());
                builder = builder.parameter(format!("{DEFAULT_NAMESPACE}.Enum"), name.clone());
                for symbol in &symbols {
                    builder = builder
                        .parameter(format!("{DEFAULT_NAMESPACE}.Enum.{symbol}"), symbol.clone());
                }
                (builder, Node::Enum(symbols))
            }
            "fixed" => {
                let name = full_name(object, enclosing_ns)?;
                self.names
                    .insert(name.clone(), Json::Object(object.clone()));
                let size = object
                    .get("size")
                    .and_then(Json::as_u64)
                    .ok_or_else(|| invalid(format!("fixed `{name}` has no `size`")))?;
                let builder =
                    SchemaBuilder::bytes().parameter("connect.fixed.size", size.to_string());
                (builder, Node::Fixed(size as usize))
            }
            reference => {
                let full = if reference.contains('.') {
                    reference.to_owned()
                } else {
                    enclosing_ns
                        .filter(|ns| !ns.is_empty())
                        .map_or(reference.to_owned(), |ns| format!("{ns}.{reference}"))
                };
                let definition = self
                    .names
                    .get(&full)
                    .or_else(|| self.names.get(reference))
                    .cloned()
                    .ok_or_else(|| invalid(format!("unknown Avro type `{reference}`")))?;
                let definition_ns = split_namespace(&full);
                return self.convert(&definition, definition_ns.as_deref(), optionality, default);
            }
        };
        let builder = self.apply_properties(builder, object)?;
        finish(builder, node, optionality, default)
    }

    /// Recognizes the `MapEntry` records Confluent writes for maps with non-string keys.
    fn map_entry(
        &mut self,
        items: &Json,
        enclosing_ns: Option<&str>,
    ) -> Result<Option<(Json, Json)>> {
        let Some(object) = items.as_object() else {
            return Ok(None);
        };
        if object.get("type").and_then(Json::as_str) != Some("record") {
            return Ok(None);
        }
        let name = full_name(object, enclosing_ns)?;
        let marked =
            object.get("connect.internal.type").and_then(Json::as_str) == Some(MAP_ENTRY_NAME);
        if !(marked || name == format!("{DEFAULT_NAMESPACE}.{MAP_ENTRY_NAME}")) {
            return Ok(None);
        }
        let fields = object
            .get("fields")
            .and_then(Json::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let field_type = |wanted: &str| {
            fields
                .iter()
                .find(|f| f.get("name").and_then(Json::as_str) == Some(wanted))
                .and_then(|f| f.get("type"))
                .cloned()
        };
        match (field_type("key"), field_type("value")) {
            (Some(key), Some(value)) if fields.len() == 2 => {
                self.names.insert(name, items.clone());
                Ok(Some((key, value)))
            }
            _ => Ok(None),
        }
    }

    fn record(
        &mut self,
        object: &Map<String, Json>,
        enclosing_ns: Option<&str>,
        optionality: Optionality,
        default: Option<&Json>,
    ) -> Result<(SchemaRef, Node)> {
        let avro_name = full_name(object, enclosing_ns)?;
        self.names
            .insert(avro_name.clone(), Json::Object(object.clone()));
        let namespace = split_namespace(&avro_name);
        let mut builder = SchemaBuilder::struct_();
        let mut nodes = Vec::new();
        let fields = object
            .get("fields")
            .and_then(Json::as_array)
            .ok_or_else(|| invalid(format!("record `{avro_name}` has no `fields`")))?;
        for field in fields {
            let name = field
                .get("name")
                .and_then(Json::as_str)
                .ok_or_else(|| invalid(format!("a field of `{avro_name}` has no name")))?;
            let field_type = field
                .get("type")
                .ok_or_else(|| invalid(format!("field `{name}` of `{avro_name}` has no type")))?;
            let field_default = field.get("default").filter(|d| !d.is_null());
            let (schema, node) = self.convert(
                field_type,
                namespace.as_deref(),
                Optionality::Required,
                field_default,
            )?;
            builder = builder.field(name, schema);
            nodes.push(node);
        }
        if !object.contains_key("connect.name")
            && !avro_name.starts_with(&format!("{DEFAULT_NAMESPACE}.{DEFAULT_SCHEMA_NAME}"))
        {
            builder = builder.name(avro_name);
        }
        let builder = self.apply_properties(builder, object)?;
        let (schema, _) = finish(builder, Node::Null, optionality, default)?;
        Ok((
            schema.clone(),
            Node::Record {
                schema,
                fields: nodes,
            },
        ))
    }

    fn apply_properties(
        &self,
        mut builder: SchemaBuilder,
        object: &Map<String, Json>,
    ) -> Result<SchemaBuilder> {
        if let Some(name) = object.get("connect.name").and_then(Json::as_str) {
            builder = builder.name(name);
        }
        if let Some(version) = object.get("connect.version").and_then(Json::as_i64) {
            builder = builder.version(version as i32);
        }
        if let Some(doc) = object.get("connect.doc").and_then(Json::as_str) {
            builder = builder.doc(doc);
        }
        if let Some(parameters) = object.get("connect.parameters").and_then(Json::as_object) {
            for (key, value) in parameters {
                builder = builder.parameter(key.clone(), value.as_str().unwrap_or_default());
            }
        }
        let has_connect_name = object.contains_key("connect.name");
        match object.get("logicalType").and_then(Json::as_str) {
            Some("decimal") if !has_connect_name => {
                let scale = object.get("scale").and_then(Json::as_i64).unwrap_or(0);
                let precision = object
                    .get("precision")
                    .and_then(Json::as_u64)
                    .unwrap_or(u64::from(DEFAULT_DECIMAL_PRECISION));
                builder = builder
                    .name(logical::DECIMAL)
                    .version(1)
                    .parameter(logical::DECIMAL_SCALE, scale.to_string());
                if precision != u64::from(DEFAULT_DECIMAL_PRECISION) {
                    builder = builder.parameter(logical::DECIMAL_PRECISION, precision.to_string());
                }
            }
            Some("date") if !has_connect_name => {
                builder = builder.name(logical::CONNECT_DATE).version(1)
            }
            Some("time-millis") if !has_connect_name => {
                builder = builder.name(logical::CONNECT_TIME).version(1)
            }
            Some("timestamp-millis") if !has_connect_name => {
                builder = builder.name(logical::CONNECT_TIMESTAMP).version(1);
            }
            _ => {}
        }
        if let Some(default) = object.get("connect.default")
            && let Some(value) = json_default(builder.schema_type(), default)?
        {
            builder = builder.default_value(value);
        }
        Ok(builder)
    }
}

fn split_namespace(full: &str) -> Option<String> {
    full.rfind('.').map(|dot| full[..dot].to_owned())
}

fn finish(
    mut builder: SchemaBuilder,
    node: Node,
    optionality: Optionality,
    default: Option<&Json>,
) -> Result<(SchemaRef, Node)> {
    if let Optionality::Optional { .. } = optionality {
        builder = builder.optional();
    }
    if let Some(default) = default
        && let Some(value) = json_default(builder.schema_type(), default)?
    {
        builder = builder.default_value(value);
    }
    Ok((builder.try_build()?, node))
}

/// An Avro default (JSON) as a Connect value of a primitive type; complex defaults are not
/// carried over (`None`): Connect producers rarely set them, and every datum holds its value.
fn json_default(schema_type: SchemaType, json: &Json) -> Result<Option<Value>> {
    let bad = || {
        invalid(format!(
            "default `{json}` does not fit Connect type {schema_type}"
        ))
    };
    Ok(Some(match schema_type {
        SchemaType::Int8 => Value::Int8(
            json.as_i64()
                .and_then(|v| v.try_into().ok())
                .ok_or_else(bad)?,
        ),
        SchemaType::Int16 => Value::Int16(
            json.as_i64()
                .and_then(|v| v.try_into().ok())
                .ok_or_else(bad)?,
        ),
        SchemaType::Int32 => Value::Int32(
            json.as_i64()
                .and_then(|v| v.try_into().ok())
                .ok_or_else(bad)?,
        ),
        SchemaType::Int64 => Value::Int64(json.as_i64().ok_or_else(bad)?),
        SchemaType::Float32 => Value::Float32(json.as_f64().ok_or_else(bad)? as f32),
        SchemaType::Float64 => Value::Float64(json.as_f64().ok_or_else(bad)?),
        SchemaType::Boolean => Value::Boolean(json.as_bool().ok_or_else(bad)?),
        SchemaType::String => Value::String(json.as_str().ok_or_else(bad)?.into()),
        SchemaType::Bytes => Value::Bytes(
            json.as_str()
                .ok_or_else(bad)?
                .chars()
                .map(|c| u8::try_from(u32::from(c)).map_err(|_| bad()))
                .collect::<Result<_>>()?,
        ),
        SchemaType::Array | SchemaType::Map | SchemaType::Struct => return Ok(None),
    }))
}

#[cfg(test)]
mod tests {
    use apache_avro::types::Value as AvroValue;

    use super::*;
    use crate::avro::decode::Reader;
    use crate::value::Struct;

    /// A schema another producer might have registered: no `connect.*` properties.
    const FOREIGN: &str = r#"{"type":"record","name":"Order","namespace":"shop","fields":[
        {"name":"id","type":"long"},
        {"name":"color","type":{"type":"enum","name":"Color","symbols":["RED","GREEN"]}},
        {"name":"hash","type":{"type":"fixed","name":"Hash","size":4}},
        {"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}},
        {"name":"day","type":{"type":"int","logicalType":"date"}},
        {"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}},
        {"name":"micros","type":{"type":"long","logicalType":"timestamp-micros"}},
        {"name":"note","type":["string","null"],"default":"none"},
        {"name":"again","type":["null","Color"],"default":null}]}"#;

    #[test]
    fn foreign_schemas_get_connect_types_and_decode() {
        let (schema, plan) = connect_schema(FOREIGN).unwrap();
        assert_eq!(schema.name(), Some("shop.Order"));
        let field = |name: &str| schema.field(name).unwrap().schema().clone();
        assert_eq!(field("color").schema_type(), SchemaType::String);
        assert_eq!(field("hash").parameter("connect.fixed.size"), Some("4"));
        assert_eq!(field("price").name(), Some(logical::DECIMAL));
        assert_eq!(field("price").parameter(logical::DECIMAL_SCALE), Some("2"));
        assert_eq!(
            field("price").parameter(logical::DECIMAL_PRECISION),
            Some("9")
        );
        assert_eq!(field("day").name(), Some(logical::CONNECT_DATE));
        assert_eq!(field("at").name(), Some(logical::CONNECT_TIMESTAMP));
        assert_eq!(
            (field("micros").schema_type(), field("micros").name()),
            (SchemaType::Int64, None)
        );
        assert!(field("note").is_optional());
        assert_eq!(
            field("note").default_value(),
            Some(&Value::String("none".into()))
        );
        assert!(field("again").is_optional());

        let avro = apache_avro::Schema::parse_str(FOREIGN).unwrap();
        let datum = AvroValue::Record(vec![
            ("id".into(), AvroValue::Long(7)),
            ("color".into(), AvroValue::Enum(1, "GREEN".into())),
            ("hash".into(), AvroValue::Fixed(4, vec![1, 2, 3, 4])),
            (
                "price".into(),
                AvroValue::Decimal(apache_avro::Decimal::from(vec![0x04, 0xD2])),
            ),
            ("day".into(), AvroValue::Date(3)),
            ("at".into(), AvroValue::TimestampMillis(1_000)),
            ("micros".into(), AvroValue::TimestampMicros(2_000)),
            (
                "note".into(),
                AvroValue::Union(1, Box::new(AvroValue::Null)),
            ),
            (
                "again".into(),
                AvroValue::Union(1, Box::new(AvroValue::Enum(0, "RED".into()))),
            ),
        ]);
        let bytes = apache_avro::writer::datum::GenericDatumWriter::builder(&avro)
            .build()
            .unwrap()
            .write_value_to_vec(datum)
            .unwrap();
        let value = plan.decode(&mut Reader::new(&bytes)).unwrap();
        let expected = Struct::from_values(
            schema.clone(),
            vec![
                Value::Int64(7),
                Value::String("GREEN".into()),
                Value::Bytes(vec![1, 2, 3, 4]),
                Value::Bytes(vec![0x04, 0xD2]),
                Value::Int32(3),
                Value::Int64(1_000),
                Value::Int64(2_000),
                Value::Null,
                Value::String("RED".into()),
            ],
        )
        .unwrap();
        assert_eq!(value, Value::Struct(expected));
    }

    #[test]
    fn unsupported_schemas_are_refused_with_the_reason() {
        let general_union =
            r#"{"type":"record","name":"R","fields":[{"name":"x","type":["int","string"]}]}"#;
        let error = connect_schema(general_union).unwrap_err().to_string();
        assert!(error.contains("unions other than"), "{error}");
        let unknown = r#"{"type":"record","name":"R","fields":[{"name":"x","type":"Missing"}]}"#;
        let error = connect_schema(unknown).unwrap_err().to_string();
        assert!(error.contains("unknown Avro type `Missing`"), "{error}");
        assert!(connect_schema("not json").is_err());
    }
}
