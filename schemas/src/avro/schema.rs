//! Connect schema → Avro schema, the way Confluent's `AvroData.fromConnectSchema` writes it, so
//! the registry holds the same schemas a Kafka Connect + Confluent deployment would:
//!
//! - structs become records named from the Connect name (namespace = text before the last dot);
//!   unnamed structs are `io.confluent.connect.avro.ConnectDefault`, `…ConnectDefault2`, …;
//! - every non-union schema carries `connect.doc`, `connect.version`, `connect.parameters`,
//!   `connect.default`, `connect.name` (and `connect.type` for int8/int16) when set;
//! - Decimal is `bytes` with `scale`, `precision` (`connect.decimal.precision`, default 64) and
//!   `logicalType: decimal`; Date/Time/Timestamp get `date`/`time-millis`/`timestamp-millis`;
//! - optional schemas are `["null", T]` with field default null, or `[T, "null"]` when the schema
//!   has a default (Avro requires the default to match the first branch);
//! - maps with required string keys are Avro maps, other maps arrays of `MapEntry` records;
//! - a named type used twice is defined once and referenced by name afterwards.

use serde_json::{Map, Value as Json, json};

use super::names::{NameMode, scrub_full_name, scrub_name};
use crate::logical;
use crate::schema::{Schema, SchemaType};
use crate::value::Value;

/// Namespace of the records Confluent invents (unnamed structs, map entries).
pub const DEFAULT_NAMESPACE: &str = "io.confluent.connect.avro";
/// Base name of unnamed structs.
pub const DEFAULT_SCHEMA_NAME: &str = "ConnectDefault";
/// Name of the key/value records of maps whose keys are not strings.
pub const MAP_ENTRY_NAME: &str = "MapEntry";
/// Decimal precision used when the Connect schema does not say.
pub const DEFAULT_DECIMAL_PRECISION: u32 = 64;

/// Converts a Connect schema to Avro schema JSON (top level), keeping names as they are.
pub fn avro_schema(schema: &Schema) -> Json {
    avro_schema_with(schema, NameMode::AsIs)
}

/// Converts a Connect schema to Avro schema JSON, scrubbing invalid names when asked to.
pub fn avro_schema_with(schema: &Schema, names: NameMode) -> Json {
    let mut context = Context {
        names,
        ..Context::default()
    };
    context.convert(schema, None)
}

/// Whether an optional schema's union puts null first (`["null", T]`) or second (`[T, "null"]`).
pub fn null_branch(schema: &Schema) -> usize {
    if schema.default_value().is_some() {
        1
    } else {
        0
    }
}

/// Whether a Connect map is written as an Avro map (string keys) rather than an entry array.
pub fn is_avro_map(schema: &Schema) -> bool {
    schema
        .key_schema()
        .is_some_and(|k| k.schema_type() == SchemaType::String && !k.is_optional())
}

/// Splits `a.b.C` into (`Some("a.b")`, `C`).
pub fn split_name(full: &str) -> (Option<&str>, &str) {
    match full.rfind('.') {
        Some(dot) => (Some(&full[..dot]), &full[dot + 1..]),
        None => (None, full),
    }
}

#[derive(Debug, Default)]
struct Context<'s> {
    /// Full names of records already defined, with the struct they were defined for.
    defined: Vec<(String, &'s Schema)>,
    default_names_used: u32,
    names: NameMode,
}

impl<'s> Context<'s> {
    /// The schema, wrapped in a union with null when it is optional.
    fn convert(&mut self, schema: &'s Schema, enclosing_ns: Option<&str>) -> Json {
        let base = self.base(schema, enclosing_ns);
        if schema.is_optional() {
            if null_branch(schema) == 0 {
                json!(["null", base])
            } else {
                json!([base, "null"])
            }
        } else {
            base
        }
    }

    /// The schema without its optional union, with Connect metadata properties.
    fn base(&mut self, schema: &'s Schema, enclosing_ns: Option<&str>) -> Json {
        let mut object = Map::new();
        let mut connect_type = None;
        match schema.schema_type() {
            SchemaType::Int8 => {
                object.insert("type".into(), json!("int"));
                connect_type = Some("int8");
            }
            SchemaType::Int16 => {
                object.insert("type".into(), json!("int"));
                connect_type = Some("int16");
            }
            SchemaType::Int32 => _ = object.insert("type".into(), json!("int")),
            SchemaType::Int64 => _ = object.insert("type".into(), json!("long")),
            SchemaType::Float32 => _ = object.insert("type".into(), json!("float")),
            SchemaType::Float64 => _ = object.insert("type".into(), json!("double")),
            SchemaType::Boolean => _ = object.insert("type".into(), json!("boolean")),
            SchemaType::String => _ = object.insert("type".into(), json!("string")),
            SchemaType::Bytes => {
                object.insert("type".into(), json!("bytes"));
                if schema.name() == Some(logical::DECIMAL) {
                    let (precision, scale) = decimal_precision_scale(schema);
                    object.insert("scale".into(), json!(scale));
                    object.insert("precision".into(), json!(precision));
                }
            }
            SchemaType::Array => {
                object.insert("type".into(), json!("array"));
                let items = schema
                    .value_schema()
                    .expect("array schemas have an item schema");
                object.insert("items".into(), self.convert(items, enclosing_ns));
            }
            SchemaType::Map if is_avro_map(schema) => {
                object.insert("type".into(), json!("map"));
                let values = schema
                    .value_schema()
                    .expect("map schemas have a value schema");
                object.insert("values".into(), self.convert(values, enclosing_ns));
            }
            SchemaType::Map => {
                object.insert("type".into(), json!("array"));
                object.insert("items".into(), self.map_entry(schema, enclosing_ns));
            }
            SchemaType::Struct => return self.record(schema, enclosing_ns),
        }
        self.add_connect_properties(schema, &mut object, connect_type);
        if object.len() == 1 {
            // A primitive without properties is written as its bare type name.
            return object.remove("type").expect("type was inserted");
        }
        object.into()
    }

    fn add_connect_properties(
        &self,
        schema: &Schema,
        object: &mut Map<String, Json>,
        connect_type: Option<&str>,
    ) {
        if let Some(doc) = schema.doc() {
            object.insert("connect.doc".into(), json!(doc));
        }
        if let Some(version) = schema.version() {
            object.insert("connect.version".into(), json!(version));
        }
        if !schema.parameters().is_empty() {
            let parameters: Map<String, Json> = schema
                .parameters()
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect();
            object.insert("connect.parameters".into(), parameters.into());
        }
        if let Some(default) = schema.default_value() {
            object.insert("connect.default".into(), default_json(schema, default));
        }
        if let Some(name) = schema.name() {
            object.insert("connect.name".into(), json!(name));
        }
        if let Some(connect_type) = connect_type {
            object.insert("connect.type".into(), json!(connect_type));
        }
        let logical_type = match schema.name() {
            Some(logical::DECIMAL) => Some("decimal"),
            Some(logical::CONNECT_DATE) => Some("date"),
            Some(logical::CONNECT_TIME) => Some("time-millis"),
            Some(logical::CONNECT_TIMESTAMP) => Some("timestamp-millis"),
            _ => None,
        };
        if let Some(logical_type) = logical_type {
            object.insert("logicalType".into(), json!(logical_type));
        }
    }

    /// A reference to an already defined record, relative to the enclosing namespace.
    fn reference(full_name: &str, enclosing_ns: Option<&str>) -> Json {
        let (ns, name) = split_name(full_name);
        if ns.is_some() && ns == enclosing_ns {
            json!(name)
        } else {
            json!(full_name)
        }
    }

    fn already_defined(&self, full_name: &str, schema: &Schema) -> Option<String> {
        self.defined
            .iter()
            .find(|(name, defined)| {
                name == full_name || (schema.name().is_none() && same_struct(defined, schema))
            })
            .map(|(name, _)| name.clone())
    }

    fn record(&mut self, schema: &'s Schema, enclosing_ns: Option<&str>) -> Json {
        if schema.name().is_none()
            && let Some(existing) = self.already_defined("", schema)
        {
            return Self::reference(&existing, enclosing_ns);
        }
        let full_name = match schema.name() {
            Some(name) if self.names == NameMode::Scrub => scrub_full_name(name),
            Some(name) => name.to_owned(),
            None => {
                self.default_names_used += 1;
                match self.default_names_used {
                    1 => format!("{DEFAULT_NAMESPACE}.{DEFAULT_SCHEMA_NAME}"),
                    n => format!("{DEFAULT_NAMESPACE}.{DEFAULT_SCHEMA_NAME}{n}"),
                }
            }
        };
        if let Some(existing) = self.already_defined(&full_name, schema) {
            return Self::reference(&existing, enclosing_ns);
        }
        self.defined.push((full_name.clone(), schema));
        let (namespace, name) = split_name(&full_name);
        let mut object = Map::new();
        object.insert("type".into(), json!("record"));
        object.insert("name".into(), json!(name));
        if namespace != enclosing_ns {
            object.insert("namespace".into(), json!(namespace.unwrap_or("")));
        }
        let fields: Vec<Json> = schema
            .fields()
            .iter()
            .map(|field| self.field(field.name(), field.schema(), namespace))
            .collect();
        object.insert("fields".into(), fields.into());
        self.add_connect_properties(schema, &mut object, None);
        object.into()
    }

    fn field(&mut self, name: &str, schema: &'s Schema, enclosing_ns: Option<&str>) -> Json {
        let mut field = Map::new();
        match self.names {
            NameMode::AsIs => field.insert("name".into(), json!(name)),
            NameMode::Scrub => field.insert("name".into(), json!(scrub_name(name))),
        };
        field.insert("type".into(), self.convert(schema, enclosing_ns));
        let entry_array = schema.schema_type() == SchemaType::Map && !is_avro_map(schema);
        if let Some(default) = schema.default_value() {
            // Confluent writes map-entry defaults as [key, value] pairs, which Avro rejects as a
            // field default (the Java converter then drops it); they stay in `connect.default`.
            if !entry_array {
                field.insert("default".into(), default_json(schema, default));
            }
        } else if schema.is_optional() {
            field.insert("default".into(), Json::Null);
        }
        field.into()
    }

    fn map_entry(&mut self, schema: &'s Schema, enclosing_ns: Option<&str>) -> Json {
        let full_name = match schema.name() {
            Some(name) if self.names == NameMode::Scrub => scrub_full_name(name),
            Some(name) => name.to_owned(),
            None => format!("{DEFAULT_NAMESPACE}.{MAP_ENTRY_NAME}"),
        };
        if let Some(existing) = self.defined.iter().find(|(n, _)| *n == full_name) {
            return Self::reference(&existing.0.clone(), enclosing_ns);
        }
        self.defined.push((full_name.clone(), schema));
        let (namespace, name) = split_name(&full_name);
        let key = schema.key_schema().expect("map schemas have a key schema");
        let value = schema
            .value_schema()
            .expect("map schemas have a value schema");
        let mut object = Map::new();
        object.insert("type".into(), json!("record"));
        object.insert("name".into(), json!(name));
        if namespace != enclosing_ns {
            object.insert("namespace".into(), json!(namespace.unwrap_or("")));
        }
        let fields = vec![
            self.field("key", key, namespace),
            self.field("value", value, namespace),
        ];
        object.insert("fields".into(), fields.into());
        if schema.name().is_some() {
            object.insert("connect.internal.type".into(), json!(MAP_ENTRY_NAME));
        }
        object.into()
    }
}

fn same_struct(a: &Schema, b: &Schema) -> bool {
    a.schema_type() == b.schema_type()
        && a.fields() == b.fields()
        && a.name() == b.name()
        && a.version() == b.version()
}

/// (precision, scale) of a Connect Decimal schema.
pub fn decimal_precision_scale(schema: &Schema) -> (u32, i32) {
    let precision = schema
        .parameter(logical::DECIMAL_PRECISION)
        .and_then(|p| p.parse().ok())
        .unwrap_or(DEFAULT_DECIMAL_PRECISION);
    let scale = schema
        .parameter(logical::DECIMAL_SCALE)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (precision, scale)
}

/// A Connect value as an Avro default (JSON), as Confluent writes it: bytes as a string of code
/// points 0–255 (what Avro requires); maps with string keys as objects, other maps as arrays of
/// `[key, value]` pairs; structs as objects.
pub fn default_json(schema: &Schema, value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Int8(v) => json!(v),
        Value::Int16(v) => json!(v),
        Value::Int32(v) => json!(v),
        Value::Int64(v) => json!(v),
        Value::Float32(v) => json!(v),
        Value::Float64(v) => json!(v),
        Value::Boolean(v) => json!(v),
        Value::String(v) => json!(v.as_str()),
        Value::Bytes(bytes) => json!(bytes.iter().map(|b| char::from(*b)).collect::<String>()),
        Value::Array(items) => {
            let item_schema = schema.value_schema();
            items
                .iter()
                .map(|item| item_schema.map_or(Json::Null, |s| default_json(s, item)))
                .collect::<Vec<_>>()
                .into()
        }
        Value::Map(entries) => {
            let (Some(key_schema), Some(value_schema)) =
                (schema.key_schema(), schema.value_schema())
            else {
                return Json::Null;
            };
            if is_avro_map(schema) {
                entries
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.as_str().unwrap_or_default().to_owned(),
                            default_json(value_schema, v),
                        )
                    })
                    .collect::<Map<String, Json>>()
                    .into()
            } else {
                entries
                    .iter()
                    .map(|(k, v)| {
                        json!([default_json(key_schema, k), default_json(value_schema, v)])
                    })
                    .collect::<Vec<_>>()
                    .into()
            }
        }
        Value::Struct(s) => s
            .schema()
            .fields()
            .iter()
            .zip(s.values())
            .map(|(field, v)| (field.name().to_owned(), default_json(field.schema(), v)))
            .collect::<Map<String, Json>>()
            .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{INT32_SCHEMA, OPTIONAL_STRING_SCHEMA, STRING_SCHEMA, SchemaBuilder};

    #[test]
    fn decimal_is_bytes_with_scale_precision_and_connect_properties() {
        let schema = logical::decimal_with_precision(10, 2).build();
        assert_eq!(
            avro_schema(&schema).to_string(),
            r#"{"type":"bytes","scale":2,"precision":10,"connect.version":1,"connect.parameters":{"scale":"2","connect.decimal.precision":"10"},"connect.name":"org.apache.kafka.connect.data.Decimal","logicalType":"decimal"}"#
        );
        let default_precision = avro_schema(&logical::decimal(3).build());
        assert_eq!(default_precision["precision"], 64);
    }

    #[test]
    fn debezium_snapshot_enum_with_default_puts_null_second() {
        // The `snapshot` field of Debezium's source block, as Debezium documents it in Avro.
        let snapshot = logical::enumeration(&["true", "last", "false", "incremental"])
            .optional()
            .default_value(Value::String("false".into()))
            .build();
        let source = SchemaBuilder::struct_()
            .name("io.debezium.connector.postgresql.Source")
            .field("snapshot", snapshot)
            .build();
        let avro = avro_schema(&source);
        assert_eq!(
            avro["fields"][0].to_string(),
            r#"{"name":"snapshot","type":[{"type":"string","connect.version":1,"connect.parameters":{"allowed":"true,last,false,incremental"},"connect.default":"false","connect.name":"io.debezium.data.Enum"},"null"],"default":"false"}"#
        );
    }

    #[test]
    fn records_are_named_from_connect_names_and_reused_by_reference() {
        let value = SchemaBuilder::struct_()
            .name("dbserver1.inventory.customers.Value")
            .field("id", INT32_SCHEMA.clone())
            .field("email", OPTIONAL_STRING_SCHEMA.clone())
            .optional()
            .build();
        let source = SchemaBuilder::struct_()
            .name("io.debezium.connector.postgresql.Source")
            .field("db", STRING_SCHEMA.clone())
            .build();
        let envelope = SchemaBuilder::struct_()
            .name("dbserver1.inventory.customers.Envelope")
            .version(1)
            .field("before", value.clone())
            .field("after", value)
            .field("source", source)
            .field("op", STRING_SCHEMA.clone())
            .build();
        let avro = avro_schema(&envelope);
        assert_eq!(avro["type"], "record");
        assert_eq!(avro["name"], "Envelope");
        assert_eq!(avro["namespace"], "dbserver1.inventory.customers");
        assert_eq!(avro["connect.version"], 1);
        assert_eq!(
            avro["connect.name"],
            "dbserver1.inventory.customers.Envelope"
        );
        let before = &avro["fields"][0];
        assert_eq!(before["default"], Json::Null);
        assert_eq!(before["type"][0], "null");
        assert_eq!(before["type"][1]["name"], "Value");
        assert!(
            before["type"][1].get("namespace").is_none(),
            "same namespace is not repeated"
        );
        assert_eq!(
            before["type"][1]["fields"][1],
            json!({"name":"email","type":["null","string"],"default":null})
        );
        assert_eq!(avro["fields"][1]["type"], json!(["null", "Value"]));
        assert_eq!(
            avro["fields"][2]["type"]["namespace"],
            "io.debezium.connector.postgresql"
        );
        apache_avro::Schema::parse_str(&avro.to_string()).expect("apache-avro accepts the schema");
    }

    #[test]
    fn unnamed_structs_get_connect_default_names_and_small_ints_keep_their_type() {
        let inner = SchemaBuilder::struct_()
            .field("a", SchemaBuilder::int8().build())
            .build();
        let other = SchemaBuilder::struct_()
            .field("b", SchemaBuilder::int16().build())
            .build();
        let outer = SchemaBuilder::struct_()
            .field("x", inner)
            .field("y", other)
            .build();
        let avro = avro_schema(&outer);
        assert_eq!(avro["name"], "ConnectDefault");
        assert_eq!(avro["namespace"], DEFAULT_NAMESPACE);
        assert_eq!(avro["fields"][0]["type"]["name"], "ConnectDefault2");
        assert_eq!(avro["fields"][1]["type"]["name"], "ConnectDefault3");
        assert_eq!(
            avro["fields"][0]["type"]["fields"][0]["type"],
            json!({"type":"int","connect.type":"int8"})
        );
        assert_eq!(
            avro["fields"][1]["type"]["fields"][0]["type"],
            json!({"type":"int","connect.type":"int16"})
        );
        assert!(avro.get("connect.name").is_none());
    }

    #[test]
    fn maps_with_string_keys_are_maps_others_are_entry_arrays() {
        let by_name = SchemaBuilder::map(STRING_SCHEMA.clone(), INT32_SCHEMA.clone()).build();
        assert_eq!(avro_schema(&by_name), json!({"type":"map","values":"int"}));
        let by_number = SchemaBuilder::map(INT32_SCHEMA.clone(), STRING_SCHEMA.clone()).build();
        assert_eq!(
            avro_schema(&by_number),
            json!({"type":"array","items":{"type":"record","name":"MapEntry","namespace":DEFAULT_NAMESPACE,
                "fields":[{"name":"key","type":"int"},{"name":"value","type":"string"}]}})
        );
    }

    #[test]
    fn temporal_logical_types_and_documentation() {
        assert_eq!(
            avro_schema(&logical::connect_date().build()).to_string(),
            r#"{"type":"int","connect.version":1,"connect.name":"org.apache.kafka.connect.data.Date","logicalType":"date"}"#
        );
        assert_eq!(
            avro_schema(&logical::connect_time().build())["logicalType"],
            "time-millis"
        );
        assert_eq!(
            avro_schema(&logical::connect_timestamp().build())["logicalType"],
            "timestamp-millis"
        );
        let micro = avro_schema(&logical::micro_timestamp().build());
        assert!(
            micro.get("logicalType").is_none(),
            "Debezium types have no Avro logical type"
        );
        let documented = SchemaBuilder::string().doc("the name").build();
        assert_eq!(
            avro_schema(&documented),
            json!({"type":"string","connect.doc":"the name"})
        );
    }

    #[test]
    fn defaults_follow_confluent() {
        let by_number = SchemaBuilder::map(INT32_SCHEMA.clone(), STRING_SCHEMA.clone())
            .default_value(Value::Map(vec![(
                Value::Int32(1),
                Value::String("one".into()),
            )]))
            .build();
        let blob = SchemaBuilder::bytes()
            .default_value(Value::Bytes(vec![0, 0xE9]))
            .build();
        let record = SchemaBuilder::struct_()
            .name("d.R")
            .field("m", by_number)
            .field("b", blob)
            .field(
                "n",
                SchemaBuilder::int64()
                    .default_value(Value::Int64(-1))
                    .build(),
            )
            .build();
        let avro = avro_schema(&record);
        let m = &avro["fields"][0];
        assert!(
            m.get("default").is_none(),
            "entry-array defaults are not valid Avro"
        );
        assert_eq!(m["type"]["connect.default"], json!([[1, "one"]]));
        assert_eq!(avro["fields"][1]["default"], json!("\u{0}\u{e9}"));
        assert_eq!(avro["fields"][2]["default"], json!(-1));
        assert_eq!(
            avro["fields"][2]["type"],
            json!({"type": "long", "connect.default": -1})
        );
        apache_avro::Schema::parse_str(&avro.to_string())
            .expect("apache-avro accepts the defaults");
    }
}
