//! Property tests: random Connect values of every primitive type (required and optional, in
//! arrays and maps with string and non-string keys) survive Avro encoding and decoding, and the
//! bytes are what the `apache-avro` reader expects.

use proptest::prelude::*;
use sluice_schemas::avro::{avro_schema, connect_schema, decode::Reader, encode_value};
use sluice_schemas::schema::{
    BOOLEAN_SCHEMA, BYTES_SCHEMA, FLOAT32_SCHEMA, FLOAT64_SCHEMA, INT8_SCHEMA, INT16_SCHEMA,
    INT32_SCHEMA, INT64_SCHEMA, STRING_SCHEMA,
};
use sluice_schemas::{SchemaBuilder, SchemaRef, Struct, Value};

fn schema() -> SchemaRef {
    SchemaBuilder::struct_()
        .name("prop.Row")
        .field("i8", INT8_SCHEMA.clone())
        .field("i16", INT16_SCHEMA.clone())
        .field("i32", INT32_SCHEMA.clone())
        .field("i64", INT64_SCHEMA.clone())
        .field("f32", FLOAT32_SCHEMA.clone())
        .field("f64", FLOAT64_SCHEMA.clone())
        .field("flag", BOOLEAN_SCHEMA.clone())
        .field("text", STRING_SCHEMA.clone())
        .field("blob", BYTES_SCHEMA.clone())
        .field("maybe", SchemaBuilder::int64().optional().build())
        .field(
            "list",
            SchemaBuilder::array(SchemaBuilder::string().optional().build()).build(),
        )
        .field(
            "by_name",
            SchemaBuilder::map(STRING_SCHEMA.clone(), INT32_SCHEMA.clone()).build(),
        )
        .field(
            "by_id",
            SchemaBuilder::map(INT64_SCHEMA.clone(), BOOLEAN_SCHEMA.clone()).build(),
        )
        .build()
}

prop_compose! {
    fn row()(
        i8v in any::<i8>(), i16v in any::<i16>(), i32v in any::<i32>(), i64v in any::<i64>(),
        f32v in any::<f32>().prop_filter("NaN never equals itself", |f| !f.is_nan()),
        f64v in any::<f64>().prop_filter("NaN never equals itself", |f| !f.is_nan()),
        flag in any::<bool>(), text in ".*", blob in proptest::collection::vec(any::<u8>(), 0..40),
        maybe in proptest::option::of(any::<i64>()),
        list in proptest::collection::vec(proptest::option::of("[a-z]{0,8}"), 0..6),
        by_name in proptest::collection::btree_map("[a-z]{1,6}", any::<i32>(), 0..5),
        by_id in proptest::collection::btree_map(any::<i64>(), any::<bool>(), 0..5),
    ) -> Vec<Value> {
        vec![
            Value::Int8(i8v), Value::Int16(i16v), Value::Int32(i32v), Value::Int64(i64v),
            Value::Float32(f32v), Value::Float64(f64v), Value::Boolean(flag), Value::String(text.into()),
            Value::Bytes(blob), maybe.map_or(Value::Null, Value::Int64),
            Value::Array(list.into_iter().map(|s| s.map_or(Value::Null, Value::from)).collect()),
            Value::Map(by_name.into_iter().map(|(k, v)| (Value::String(k.into()), Value::Int32(v))).collect()),
            Value::Map(by_id.into_iter().map(|(k, v)| (Value::Int64(k), Value::Boolean(v))).collect()),
        ]
    }
}

proptest! {
    #[test]
    fn random_rows_round_trip(values in row()) {
        let schema = schema();
        let value = Value::Struct(Struct::from_values(schema.clone(), values).unwrap());
        let mut bytes = Vec::new();
        encode_value(&schema, &value, &mut bytes).unwrap();

        let avro_text = avro_schema(&schema).to_string();
        let (read_schema, plan) = connect_schema(&avro_text).unwrap();
        prop_assert_eq!(&*read_schema, &*schema);
        let mut reader = Reader::new(&bytes);
        prop_assert_eq!(plan.decode(&mut reader).unwrap(), value);
        prop_assert_eq!(reader.remaining(), 0);

        let parsed = apache_avro::Schema::parse_str(&avro_text).unwrap();
        let mut rest = &bytes[..];
        apache_avro::reader::datum::GenericDatumReader::builder(&parsed)
            .build()
            .unwrap()
            .read_value(&mut rest)
            .unwrap();
        prop_assert!(rest.is_empty());
    }

    #[test]
    fn longs_use_zigzag_varints(n in any::<i64>()) {
        let mut bytes = Vec::new();
        sluice_schemas::avro::encode::write_long(n, &mut bytes);
        prop_assert!(bytes.len() <= 10);
        let mut reader = Reader::new(&bytes);
        prop_assert_eq!(reader.long().unwrap(), n);
    }
}
