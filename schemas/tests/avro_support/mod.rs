//! Schemas and values shared by the Avro tests: a struct with every Connect type (and the
//! logical/semantic types) and a Debezium-style change event of a 12-column table.

#![allow(dead_code)]

use sluice_schemas::logical;
use sluice_schemas::schema::{
    BOOLEAN_SCHEMA, BYTES_SCHEMA, FLOAT32_SCHEMA, FLOAT64_SCHEMA, INT8_SCHEMA, INT16_SCHEMA,
    INT32_SCHEMA, INT64_SCHEMA, OPTIONAL_INT64_SCHEMA, OPTIONAL_STRING_SCHEMA, STRING_SCHEMA,
};
use sluice_schemas::{SchemaBuilder, SchemaRef, Struct, Value};

/// A struct with one field per Connect type, optional variants, defaults, nested structs,
/// arrays and both kinds of maps.
pub fn all_types_schema() -> SchemaRef {
    let nested = SchemaBuilder::struct_()
        .name("test.Nested")
        .doc("a nested record")
        .field("label", STRING_SCHEMA.clone())
        .field("weight", SchemaBuilder::float64().optional().build())
        .optional()
        .build();
    SchemaBuilder::struct_()
        .name("test.db.all_types.Value")
        .version(3)
        .field("i8", INT8_SCHEMA.clone())
        .field("i16", INT16_SCHEMA.clone())
        .field("i32", INT32_SCHEMA.clone())
        .field("i64", INT64_SCHEMA.clone())
        .field("f32", FLOAT32_SCHEMA.clone())
        .field("f64", FLOAT64_SCHEMA.clone())
        .field("flag", BOOLEAN_SCHEMA.clone())
        .field("text", STRING_SCHEMA.clone())
        .field("blob", BYTES_SCHEMA.clone())
        .field("opt_text", OPTIONAL_STRING_SCHEMA.clone())
        .field("opt_long", OPTIONAL_INT64_SCHEMA.clone())
        .field(
            "with_default",
            SchemaBuilder::int32()
                .default_value(Value::Int32(42))
                .build(),
        )
        .field(
            "opt_with_default",
            SchemaBuilder::string()
                .optional()
                .default_value(Value::String("n/a".into()))
                .build(),
        )
        .field("price", logical::decimal_with_precision(10, 2).build())
        .field("amount", logical::decimal(4).optional().build())
        .field("day", logical::connect_date().build())
        .field("clock", logical::connect_time().build())
        .field("moment", logical::connect_timestamp().build())
        .field("dbz_date", logical::date().build())
        .field("dbz_micro_ts", logical::micro_timestamp().build())
        .field("dbz_zoned", logical::zoned_timestamp().optional().build())
        .field(
            "status",
            logical::enumeration(&["new", "paid", "shipped"]).build(),
        )
        .field("doc", logical::json().optional().build())
        .field("uuid", logical::uuid().build())
        .field("bits", logical::bits(12).build())
        .field(
            "scaled",
            logical::variable_scale_decimal().optional().build(),
        )
        .field("tags", SchemaBuilder::array(STRING_SCHEMA.clone()).build())
        .field(
            "opt_numbers",
            SchemaBuilder::array(SchemaBuilder::int32().optional().build())
                .optional()
                .build(),
        )
        .field(
            "attributes",
            SchemaBuilder::map(STRING_SCHEMA.clone(), INT64_SCHEMA.clone()).build(),
        )
        .field(
            "by_number",
            SchemaBuilder::map(INT32_SCHEMA.clone(), STRING_SCHEMA.clone()).build(),
        )
        .field("nested", nested)
        .build()
}

/// A full row and a row where every optional field is null.
pub fn all_types_values(schema: &SchemaRef) -> Vec<Value> {
    let field_schema = |name: &str| schema.field(name).unwrap().schema().clone();
    let nested = Struct::new(field_schema("nested"))
        .with("label", "crate")
        .unwrap()
        .with("weight", 12.5f64)
        .unwrap();
    let scaled = Struct::new(field_schema("scaled"))
        .with("scale", 3)
        .unwrap()
        .with("value", Value::Bytes(vec![0x30, 0x39]))
        .unwrap();
    let full = Struct::new(schema.clone())
        .with("i8", Value::Int8(-8))
        .unwrap()
        .with("i16", Value::Int16(-1600))
        .unwrap()
        .with("i32", Value::Int32(i32::MIN))
        .unwrap()
        .with("i64", Value::Int64(i64::MAX))
        .unwrap()
        .with("f32", Value::Float32(1.25))
        .unwrap()
        .with("f64", Value::Float64(-2.5e300))
        .unwrap()
        .with("flag", true)
        .unwrap()
        .with("text", "héllo, wörld ✓")
        .unwrap()
        .with("blob", Value::Bytes(vec![0, 1, 2, 255]))
        .unwrap()
        .with("opt_text", "present")
        .unwrap()
        .with("opt_long", Value::Int64(-7))
        .unwrap()
        .with("with_default", Value::Int32(7))
        .unwrap()
        .with("opt_with_default", "given")
        .unwrap()
        // 12345.67 as unscaled 1234567 = 0x12D687
        .with("price", Value::Bytes(vec![0x12, 0xD6, 0x87]))
        .unwrap()
        .with("amount", Value::Bytes(vec![0xFF, 0x85]))
        .unwrap()
        .with("day", Value::Int32(19_000))
        .unwrap()
        .with("clock", Value::Int32(45_296_789))
        .unwrap()
        .with("moment", Value::Int64(1_700_000_000_123))
        .unwrap()
        .with("dbz_date", Value::Int32(-365))
        .unwrap()
        .with("dbz_micro_ts", Value::Int64(1_700_000_000_123_456))
        .unwrap()
        .with("dbz_zoned", "2023-11-14T22:13:20.123456Z")
        .unwrap()
        .with("status", "paid")
        .unwrap()
        .with("doc", r#"{"a":[1,2]}"#)
        .unwrap()
        .with("uuid", "4b5c1f6e-0c3a-4a63-9d5e-2f1f3b0a9c11")
        .unwrap()
        .with("bits", Value::Bytes(vec![0x0F, 0x01]))
        .unwrap()
        .with("scaled", Value::Struct(scaled))
        .unwrap()
        .with("tags", Value::Array(vec!["a".into(), "b".into()]))
        .unwrap()
        .with("opt_numbers", Value::Array(vec![Value::Int32(1), Value::Null, Value::Int32(3)]))
        .unwrap()
        .with(
            "attributes",
            Value::Map(vec![("x".into(), Value::Int64(1)), ("y".into(), Value::Int64(-2))]),
        )
        .unwrap()
        .with("by_number", Value::Map(vec![(Value::Int32(7), "seven".into())]))
        .unwrap()
        .with("nested", Value::Struct(nested))
        .unwrap();
    let mut sparse = full.clone();
    for name in [
        "opt_text",
        "opt_long",
        "amount",
        "dbz_zoned",
        "doc",
        "scaled",
        "opt_numbers",
        "nested",
    ] {
        sparse.put(name, Value::Null).unwrap();
    }
    sparse.put("tags", Value::Array(vec![])).unwrap();
    sparse.put("attributes", Value::Map(vec![])).unwrap();
    vec![Value::Struct(full), Value::Struct(sparse)]
}

/// The key, value and envelope schemas of a Debezium-style event for a 12-column table.
pub struct ChangeEventSchemas {
    pub row: SchemaRef,
    pub source: SchemaRef,
    pub envelope: SchemaRef,
}

pub fn change_event_schemas() -> ChangeEventSchemas {
    let row = SchemaBuilder::struct_()
        .name("dbserver1.inventory.orders.Value")
        .field("id", INT64_SCHEMA.clone())
        .field("customer_id", INT32_SCHEMA.clone())
        .field("status", STRING_SCHEMA.clone())
        .field("note", OPTIONAL_STRING_SCHEMA.clone())
        .field("quantity", SchemaBuilder::int16().build())
        .field("price", logical::decimal_with_precision(10, 2).build())
        .field("discount", SchemaBuilder::float64().optional().build())
        .field("paid", BOOLEAN_SCHEMA.clone())
        .field("order_date", logical::date().build())
        .field("created_at", logical::micro_timestamp().build())
        .field("updated_at", logical::zoned_timestamp().optional().build())
        .field("payload", logical::json().optional().build())
        .optional()
        .build();
    let source = SchemaBuilder::struct_()
        .name("io.debezium.connector.postgresql.Source")
        .field("version", STRING_SCHEMA.clone())
        .field("connector", STRING_SCHEMA.clone())
        .field("name", STRING_SCHEMA.clone())
        .field("ts_ms", INT64_SCHEMA.clone())
        .field(
            "snapshot",
            logical::enumeration(&[
                "true",
                "first",
                "first_in_data_collection",
                "last_in_data_collection",
                "last",
                "false",
                "incremental",
            ])
            .optional()
            .default_value(Value::String("false".into()))
            .build(),
        )
        .field("db", STRING_SCHEMA.clone())
        .field("sequence", OPTIONAL_STRING_SCHEMA.clone())
        .field("ts_us", OPTIONAL_INT64_SCHEMA.clone())
        .field("ts_ns", OPTIONAL_INT64_SCHEMA.clone())
        .field("schema", STRING_SCHEMA.clone())
        .field("table", STRING_SCHEMA.clone())
        .field("txId", OPTIONAL_INT64_SCHEMA.clone())
        .field("lsn", OPTIONAL_INT64_SCHEMA.clone())
        .field("xmin", OPTIONAL_INT64_SCHEMA.clone())
        .build();
    let envelope = SchemaBuilder::struct_()
        .name("dbserver1.inventory.orders.Envelope")
        .version(2)
        .field("before", row.clone())
        .field("after", row.clone())
        .field("source", source.clone())
        .field("op", STRING_SCHEMA.clone())
        .field("ts_ms", OPTIONAL_INT64_SCHEMA.clone())
        .field("ts_us", OPTIONAL_INT64_SCHEMA.clone())
        .field("ts_ns", OPTIONAL_INT64_SCHEMA.clone())
        .build();
    ChangeEventSchemas {
        row,
        source,
        envelope,
    }
}

/// An update event (before and after set).
pub fn change_event(schemas: &ChangeEventSchemas, id: i64) -> Value {
    let row = |status: &str, note: Option<&str>| {
        Struct::new(schemas.row.clone())
            .with("id", Value::Int64(id))
            .unwrap()
            .with("customer_id", Value::Int32(1001))
            .unwrap()
            .with("status", status)
            .unwrap()
            .with("note", note.map(str::to_owned))
            .unwrap()
            .with("quantity", Value::Int16(3))
            .unwrap()
            .with("price", Value::Bytes(vec![0x01, 0x86, 0x9F]))
            .unwrap()
            .with("discount", Value::Float64(0.15))
            .unwrap()
            .with("paid", true)
            .unwrap()
            .with("order_date", Value::Int32(19_675))
            .unwrap()
            .with("created_at", Value::Int64(1_700_000_000_123_456))
            .unwrap()
            .with("updated_at", "2023-11-14T22:13:20.123456Z")
            .unwrap()
            .with("payload", r#"{"gift":false}"#)
            .unwrap()
    };
    let source = Struct::new(schemas.source.clone())
        .with("version", "3.0.0.Final")
        .unwrap()
        .with("connector", "postgresql")
        .unwrap()
        .with("name", "dbserver1")
        .unwrap()
        .with("ts_ms", Value::Int64(1_700_000_000_000))
        .unwrap()
        .with("snapshot", "false")
        .unwrap()
        .with("db", "inventory")
        .unwrap()
        .with("sequence", r#"["24023128","24023128"]"#)
        .unwrap()
        .with("ts_us", Value::Int64(1_700_000_000_000_000))
        .unwrap()
        .with("ts_ns", Value::Int64(1_700_000_000_000_000_000))
        .unwrap()
        .with("schema", "inventory")
        .unwrap()
        .with("table", "orders")
        .unwrap()
        .with("txId", Value::Int64(555))
        .unwrap()
        .with("lsn", Value::Int64(24_023_128))
        .unwrap();
    Value::Struct(
        Struct::new(schemas.envelope.clone())
            .with("before", Value::Struct(row("pending", None)))
            .unwrap()
            .with(
                "after",
                Value::Struct(row("shipped", Some("left the warehouse"))),
            )
            .unwrap()
            .with("source", Value::Struct(source))
            .unwrap()
            .with("op", "u")
            .unwrap()
            .with("ts_ms", Value::Int64(1_700_000_000_456))
            .unwrap()
            .with("ts_us", Value::Int64(1_700_000_000_456_789))
            .unwrap()
            .with("ts_ns", Value::Int64(1_700_000_000_456_789_012))
            .unwrap(),
    )
}
