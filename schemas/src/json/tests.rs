//! Converter tests: config parsing, envelope layout, caching, and round trips of every type.

use std::sync::Arc;

use proptest::prelude::*;

use super::*;
use crate::logical;
use crate::schema::{
    BOOLEAN_SCHEMA, BYTES_SCHEMA, FLOAT32_SCHEMA, FLOAT64_SCHEMA, INT8_SCHEMA, INT16_SCHEMA,
    INT32_SCHEMA, INT64_SCHEMA, OPTIONAL_INT64_SCHEMA, STRING_SCHEMA, SchemaBuilder,
};
use crate::value::Struct;

fn converter(schemas: SchemaEnvelope, decimal_format: DecimalFormat) -> JsonConverter {
    JsonConverter::new(JsonConverterConfig {
        schemas,
        decimal_format,
        ..Default::default()
    })
}

fn round_trip(schema: &SchemaRef, value: &Value, decimal_format: DecimalFormat) -> Value {
    let with = converter(SchemaEnvelope::WithSchema, decimal_format);
    let bytes = with.to_bytes(Some(schema), value).unwrap().unwrap();
    let (read_schema, read_value) = with.from_bytes(Some(&bytes)).unwrap();
    assert_eq!(
        read_schema.as_deref(),
        Some(&**schema),
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    // Writing what was read gives the same bytes.
    let again = with
        .to_bytes(read_schema.as_ref(), &read_value)
        .unwrap()
        .unwrap();
    assert_eq!(again, bytes);
    read_value
}

#[test]
fn config_reads_kafka_keys_and_rejects_bad_values() {
    let config = JsonConverterConfig::from_properties([
        ("schemas.enable", "false"),
        ("decimal.format", "numeric"),
        ("other", "x"),
    ])
    .unwrap();
    assert_eq!(config.schemas, SchemaEnvelope::PayloadOnly);
    assert_eq!(config.decimal_format, DecimalFormat::Numeric);
    let err = JsonConverterConfig::from_properties([("decimal.format", "HEX")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "converter setting `decimal.format` = `HEX` is invalid: use BASE64 or NUMERIC"
    );
    assert!(is_json_converter_class(
        "org.apache.kafka.connect.json.JsonConverter"
    ));
    assert!(!is_json_converter_class(
        "io.confluent.connect.avro.AvroConverter"
    ));
}

#[test]
fn envelope_and_payload_only_layouts() {
    let schema = SchemaBuilder::struct_()
        .name("dbserver1.inventory.customers.Key")
        .field("id", INT32_SCHEMA.clone())
        .build();
    let key = Value::Struct(Struct::new(schema.clone()).with("id", 1001).unwrap());
    let with = converter(SchemaEnvelope::WithSchema, DecimalFormat::Base64);
    let bytes = with.to_bytes(Some(&schema), &key).unwrap().unwrap();
    assert_eq!(
        String::from_utf8(bytes).unwrap(),
        r#"{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],"optional":false,"name":"dbserver1.inventory.customers.Key"},"payload":{"id":1001}}"#
    );
    let without = converter(SchemaEnvelope::PayloadOnly, DecimalFormat::Base64);
    assert_eq!(
        without.to_bytes(Some(&schema), &key).unwrap().unwrap(),
        br#"{"id":1001}"#
    );
    assert_eq!(without.to_bytes(None, &Value::Null).unwrap(), None);
    assert_eq!(with.from_bytes(None).unwrap(), (None, Value::Null));
}

#[test]
fn schema_json_is_cached_per_schema_instance() {
    let with = converter(SchemaEnvelope::WithSchema, DecimalFormat::Base64);
    let schema = SchemaBuilder::int64().build();
    let first = with.schema_json(&schema).unwrap();
    let second = with.schema_json(&schema).unwrap();
    assert!(Arc::ptr_eq(&first, &second));
    let equal_but_distinct = SchemaBuilder::int64().build();
    assert!(!Arc::ptr_eq(
        &first,
        &with.schema_json(&equal_but_distinct).unwrap()
    ));
}

#[test]
fn reading_rejects_wrong_shapes_with_the_path() {
    let with = converter(SchemaEnvelope::WithSchema, DecimalFormat::Base64);
    let err = with.from_bytes(Some(br#"{"id":1}"#)).unwrap_err();
    assert!(err.to_string().contains("schemas.enable=false"), "{err}");
    let bad = br#"{"schema":{"type":"struct","fields":[{"type":"int8","optional":false,"field":"n"}],"optional":false},"payload":{"n":300}}"#;
    let err = with.from_bytes(Some(bad)).unwrap_err();
    assert!(
        err.to_string().contains("`payload.n`") && err.to_string().contains("out of range"),
        "{err}"
    );
    let missing = br#"{"schema":{"type":"struct","fields":[{"type":"string","optional":false,"field":"s"}],"optional":false},"payload":{}}"#;
    let err = with.from_bytes(Some(missing)).unwrap_err();
    assert!(err.to_string().contains("`payload.s`"), "{err}");
}

#[test]
fn schemaless_reading_infers_types_like_kafka() {
    let without = converter(SchemaEnvelope::PayloadOnly, DecimalFormat::Base64);
    let (schema, value) = without
        .from_bytes(Some(br#"{"a":1,"b":1.5,"c":[true,null]}"#))
        .unwrap();
    assert!(schema.is_none());
    assert_eq!(
        value,
        Value::Map(vec![
            ("a".into(), Value::Int64(1)),
            ("b".into(), Value::Float64(1.5)),
            (
                "c".into(),
                Value::Array(vec![Value::Boolean(true), Value::Null])
            ),
        ])
    );
}

#[test]
fn every_logical_and_structured_type_round_trips() {
    let decimal = logical::decimal_with_precision(10, 2).optional().build();
    let schema = SchemaBuilder::struct_()
        .name("all.types.Value")
        .doc("every type")
        .field("i8", INT8_SCHEMA.clone())
        .field("i16", INT16_SCHEMA.clone())
        .field("f32", FLOAT32_SCHEMA.clone())
        .field("f64", FLOAT64_SCHEMA.clone())
        .field("bool", BOOLEAN_SCHEMA.clone())
        .field("bytes", BYTES_SCHEMA.clone())
        .field("price", decimal.clone())
        .field("date", logical::date().build())
        .field("ts", logical::micro_timestamp().build())
        .field("zoned", logical::zoned_timestamp().build())
        .field("bits", logical::bits(12).build())
        .field("vsd", logical::variable_scale_decimal().optional().build())
        .field("point", logical::point().optional().build())
        .field("tags", SchemaBuilder::array(STRING_SCHEMA.clone()).build())
        .field(
            "attrs",
            SchemaBuilder::map(STRING_SCHEMA.clone(), OPTIONAL_INT64_SCHEMA.clone()).build(),
        )
        .field(
            "by_id",
            SchemaBuilder::map(INT32_SCHEMA.clone(), STRING_SCHEMA.clone()).build(),
        )
        .field(
            "with_default",
            SchemaBuilder::int32()
                .default_value(Value::Int32(5))
                .build(),
        )
        .build();
    let vsd_schema = schema.field("vsd").unwrap().schema().clone();
    let point_schema = schema.field("point").unwrap().schema().clone();
    let value = Struct::from_values(
        schema.clone(),
        vec![
            Value::Int8(-8),
            Value::Int16(1600),
            Value::Float32(1.1),
            Value::Float64(f64::NAN),
            Value::Boolean(true),
            Value::Bytes(vec![0, 1, 254, 255]),
            Value::Bytes(crate::decimal::encode_decimal("-1234.56", 2).unwrap()),
            Value::Int32(17_550),
            Value::Int64(1_529_501_823_000_001),
            "2018-06-20T13:37:03Z".into(),
            Value::Bytes(vec![0xff, 0x0f]),
            Value::Struct(
                Struct::new(vsd_schema)
                    .with("scale", 3)
                    .unwrap()
                    .with("value", vec![0x30u8, 0x39])
                    .unwrap(),
            ),
            Value::Struct(
                Struct::new(point_schema)
                    .with("x", 1.5)
                    .unwrap()
                    .with("y", -2.0)
                    .unwrap()
                    .with("srid", 4326)
                    .unwrap(),
            ),
            Value::Array(vec!["a".into(), "b\"c".into()]),
            Value::Map(vec![
                ("k".into(), Value::Int64(1)),
                ("n".into(), Value::Null),
            ]),
            Value::Map(vec![(Value::Int32(7), "seven".into())]),
            Value::Null,
        ],
    )
    .unwrap();
    for format in [DecimalFormat::Base64, DecimalFormat::Numeric] {
        let back = round_trip(&schema, &Value::Struct(value.clone()), format);
        let back = back.as_struct().unwrap();
        for (field, original) in schema.fields().iter().zip(value.values()) {
            let read = back.get(field.name()).unwrap();
            match (original, read) {
                (Value::Float64(a), Value::Float64(b)) if a.is_nan() => assert!(b.is_nan()),
                (Value::Null, read) if field.name() == "with_default" => {
                    assert_eq!(read, &Value::Int32(5))
                }
                _ => assert_eq!(read, original, "{}", field.name()),
            }
        }
    }
    let numeric = converter(SchemaEnvelope::PayloadOnly, DecimalFormat::Numeric);
    let text = String::from_utf8(
        numeric
            .to_bytes(Some(&schema), &Value::Struct(value))
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    assert!(text.contains(r#""price":-1234.56"#), "{text}");
    assert!(text.contains(r#""by_id":[[7,"seven"]]"#), "{text}");
    assert!(text.contains(r#""f64":"NaN""#), "{text}");
}

fn primitive_case() -> impl Strategy<Value = (SchemaRef, Value)> {
    prop_oneof![
        any::<i8>().prop_map(|v| (INT8_SCHEMA.clone(), Value::Int8(v))),
        any::<i16>().prop_map(|v| (INT16_SCHEMA.clone(), Value::Int16(v))),
        any::<i32>().prop_map(|v| (INT32_SCHEMA.clone(), Value::Int32(v))),
        any::<i64>().prop_map(|v| (INT64_SCHEMA.clone(), Value::Int64(v))),
        any::<f32>()
            .prop_filter("NaN != NaN", |v| !v.is_nan())
            .prop_map(|v| (FLOAT32_SCHEMA.clone(), Value::Float32(v))),
        any::<f64>()
            .prop_filter("NaN != NaN", |v| !v.is_nan())
            .prop_map(|v| (FLOAT64_SCHEMA.clone(), Value::Float64(v))),
        any::<bool>().prop_map(|v| (BOOLEAN_SCHEMA.clone(), Value::Boolean(v))),
        any::<String>().prop_map(|v| (STRING_SCHEMA.clone(), Value::String(v.into()))),
        proptest::collection::vec(any::<u8>(), 0..40)
            .prop_map(|v| (BYTES_SCHEMA.clone(), Value::Bytes(v))),
    ]
}

proptest! {
    #[test]
    fn primitives_round_trip((schema, value) in primitive_case()) {
        prop_assert_eq!(round_trip(&schema, &value, DecimalFormat::Base64), value);
    }

    #[test]
    fn decimals_round_trip_in_both_formats(unscaled in any::<i128>(), scale in -5i32..30) {
        let schema = logical::decimal(scale).build();
        let value = Value::Bytes(crate::decimal::encode_unscaled(unscaled));
        prop_assert_eq!(round_trip(&schema, &value, DecimalFormat::Base64), value.clone());
        prop_assert_eq!(round_trip(&schema, &value, DecimalFormat::Numeric), value);
    }
}

/// The shape of a random schema tree for the round-trip property.
#[derive(Debug, Clone)]
enum Shape {
    Primitive { kind: u8, optional: bool },
    Array(Box<Shape>),
    Map { int_keys: bool, values: Box<Shape> },
    Struct(Vec<Shape>),
}

fn shape() -> impl Strategy<Value = Shape> {
    let leaf =
        (0u8..9, any::<bool>()).prop_map(|(kind, optional)| Shape::Primitive { kind, optional });
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|s| Shape::Array(Box::new(s))),
            (any::<bool>(), inner.clone()).prop_map(|(int_keys, values)| Shape::Map {
                int_keys,
                values: Box::new(values)
            }),
            proptest::collection::vec(inner, 1..4).prop_map(Shape::Struct),
        ]
    })
}

fn schema_of(shape: &Shape) -> SchemaRef {
    match shape {
        Shape::Primitive { kind, optional } => {
            let schema = match kind {
                0 => SchemaBuilder::int8(),
                1 => SchemaBuilder::int16(),
                2 => SchemaBuilder::int32(),
                3 => SchemaBuilder::int64(),
                4 => SchemaBuilder::float32(),
                5 => SchemaBuilder::float64(),
                6 => SchemaBuilder::boolean(),
                7 => SchemaBuilder::string(),
                _ => logical::decimal(3),
            };
            if *optional {
                schema.optional().build()
            } else {
                schema.build()
            }
        }
        Shape::Array(items) => SchemaBuilder::array(schema_of(items)).build(),
        Shape::Map { int_keys, values } => {
            let keys = if *int_keys {
                INT32_SCHEMA.clone()
            } else {
                STRING_SCHEMA.clone()
            };
            SchemaBuilder::map(keys, schema_of(values)).build()
        }
        Shape::Struct(fields) => {
            let builder = SchemaBuilder::struct_().name("random.Record");
            fields
                .iter()
                .enumerate()
                .fold(builder, |b, (i, f)| b.field(format!("f{i}"), schema_of(f)))
                .build()
        }
    }
}

fn value_of(shape: &Shape, schema: &SchemaRef) -> BoxedStrategy<Value> {
    match shape {
        Shape::Primitive { kind, optional } => {
            let value = match kind {
                0 => any::<i8>().prop_map(Value::Int8).boxed(),
                1 => any::<i16>().prop_map(Value::Int16).boxed(),
                2 => any::<i32>().prop_map(Value::Int32).boxed(),
                3 => any::<i64>().prop_map(Value::Int64).boxed(),
                4 => proptest::num::f32::NORMAL.prop_map(Value::Float32).boxed(),
                5 => proptest::num::f64::NORMAL.prop_map(Value::Float64).boxed(),
                6 => any::<bool>().prop_map(Value::Boolean).boxed(),
                7 => any::<String>().prop_map(Value::from).boxed(),
                _ => any::<i64>()
                    .prop_map(|v| Value::Bytes(crate::decimal::encode_unscaled(v.into())))
                    .boxed(),
            };
            if *optional {
                prop_oneof![Just(Value::Null), value].boxed()
            } else {
                value
            }
        }
        Shape::Array(items) => {
            let item_schema = schema.value_schema().unwrap().clone();
            proptest::collection::vec(value_of(items, &item_schema), 0..3)
                .prop_map(Value::Array)
                .boxed()
        }
        Shape::Map { int_keys, values } => {
            let value_schema = schema.value_schema().unwrap().clone();
            let key = if *int_keys {
                any::<i32>().prop_map(Value::Int32).boxed()
            } else {
                "[a-z]{0,4}".prop_map(Value::from).boxed()
            };
            proptest::collection::vec((key, value_of(values, &value_schema)), 0..3)
                .prop_map(Value::Map)
                .boxed()
        }
        Shape::Struct(fields) => {
            let strategies: Vec<BoxedStrategy<Value>> = fields
                .iter()
                .zip(schema.fields())
                .map(|(s, f)| value_of(s, f.schema()))
                .collect();
            let schema = schema.clone();
            strategies
                .prop_map(move |values| {
                    Value::Struct(Struct::from_values(schema.clone(), values).unwrap())
                })
                .boxed()
        }
    }
}

fn schema_and_value() -> impl Strategy<Value = (SchemaRef, Value)> {
    shape().prop_flat_map(|shape| {
        let schema = schema_of(&shape);
        let values = value_of(&shape, &schema);
        (Just(schema), values)
    })
}

proptest! {
    #[test]
    fn random_schema_trees_round_trip((schema, value) in schema_and_value()) {
        for format in [DecimalFormat::Base64, DecimalFormat::Numeric] {
            prop_assert_eq!(round_trip(&schema, &value, format), value.clone());
        }
        let without = converter(SchemaEnvelope::PayloadOnly, DecimalFormat::Base64);
        let bytes = without.to_bytes(Some(&schema), &value).unwrap().unwrap();
        prop_assert!(without.from_bytes(Some(&bytes)).is_ok());
    }
}
