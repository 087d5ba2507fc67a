//! Converter selection from connector properties and round trips through each converter.

use std::sync::Arc;

use sluice_connect::api::SchemaAndValue;
use sluice_connect::config::Props;
use sluice_connect::converter::{ConverterChoice, RecordConverters};
use sluice_schemas::registry::{RecordPart, SchemaRegistry};
use sluice_schemas::schema::{BYTES_SCHEMA, FLOAT64_SCHEMA, INT32_SCHEMA, OPTIONAL_STRING_SCHEMA};
use sluice_schemas::{SchemaBuilder, SchemaRef, Struct, Value};

fn props(pairs: &[(&str, &str)]) -> Props {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn customer_schema() -> SchemaRef {
    SchemaBuilder::struct_()
        .name("dbserver1.inventory.customers.Value")
        .field("id", INT32_SCHEMA.clone())
        .field("email", OPTIONAL_STRING_SCHEMA.clone())
        .build()
}

fn customer() -> SchemaAndValue {
    let schema = customer_schema();
    let row = Struct::new(schema.clone())
        .with("id", 1001)
        .unwrap()
        .with("email", "sally@example.com")
        .unwrap();
    SchemaAndValue::with_schema(schema, row)
}

#[tokio::test]
async fn json_with_schemas_is_the_default() {
    let converters = RecordConverters::from_props(&props(&[]), None).unwrap();
    let bytes = converters
        .value
        .encode("t", &customer())
        .await
        .unwrap()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        json["payload"],
        serde_json::json!({"id": 1001, "email": "sally@example.com"})
    );
    assert_eq!(
        json["schema"]["name"],
        "dbserver1.inventory.customers.Value"
    );
    let back = converters.value.decode("t", Some(&bytes)).await.unwrap();
    assert_eq!(
        back.value.as_struct().unwrap().get("id"),
        Some(&Value::Int32(1001))
    );
    // A tombstone stays a tombstone.
    assert_eq!(
        converters
            .value
            .encode("t", &SchemaAndValue::null())
            .await
            .unwrap(),
        None
    );
    assert!(converters.value.decode("t", None).await.unwrap().is_null());
}

#[tokio::test]
async fn json_schemas_enable_false_writes_the_payload_alone() {
    let converters = RecordConverters::from_props(
        &props(&[
            (
                "value.converter",
                "org.apache.kafka.connect.json.JsonConverter",
            ),
            ("value.converter.schemas.enable", "false"),
        ]),
        None,
    )
    .unwrap();
    let bytes = converters
        .value
        .encode("t", &customer())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bytes, br#"{"id":1001,"email":"sally@example.com"}"#);
    // The key side keeps its own default.
    let key = SchemaAndValue::with_schema(INT32_SCHEMA.clone(), 7);
    let key_bytes = converters.key.encode("t", &key).await.unwrap().unwrap();
    assert!(key_bytes.starts_with(br#"{"schema":"#));
}

#[tokio::test]
async fn string_and_byte_array_converters() {
    let converters = RecordConverters::from_props(
        &props(&[
            (
                "key.converter",
                "org.apache.kafka.connect.storage.StringConverter",
            ),
            (
                "value.converter",
                "org.apache.kafka.connect.converters.ByteArrayConverter",
            ),
        ]),
        None,
    )
    .unwrap();
    let key = SchemaAndValue::with_schema(OPTIONAL_STRING_SCHEMA.clone(), "order-1");
    let bytes = converters.key.encode("t", &key).await.unwrap().unwrap();
    assert_eq!(bytes, b"order-1");
    assert_eq!(converters.key.decode("t", Some(&bytes)).await.unwrap(), key);
    let float = SchemaAndValue::with_schema(FLOAT64_SCHEMA.clone(), 1.0f64);
    assert_eq!(
        converters.key.encode("t", &float).await.unwrap().unwrap(),
        b"1.0"
    );
    let err = converters
        .key
        .decode("t", Some(&[0xff, 0xfe]))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("UTF-8") && err.contains("key"), "{err}");

    let raw = SchemaAndValue::with_schema(BYTES_SCHEMA.clone(), vec![0u8, 1, 2]);
    let bytes = converters.value.encode("t", &raw).await.unwrap().unwrap();
    assert_eq!(bytes, [0, 1, 2]);
    let back = converters.value.decode("t", Some(&bytes)).await.unwrap();
    assert_eq!(back.value, Value::Bytes(vec![0, 1, 2]));
    let err = converters
        .value
        .encode("orders", &customer())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("\"orders\"") && err.contains("bytes"), "{err}");
}

#[tokio::test]
async fn avro_uses_the_embedded_registry_and_confluent_framing() {
    let registry = Arc::new(SchemaRegistry::in_memory());
    let config = props(&[("value.converter", "io.confluent.connect.avro.AvroConverter")]);
    let converters = RecordConverters::from_props(&config, Some(&registry)).unwrap();
    let bytes = converters
        .value
        .encode("customers", &customer())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bytes[0], 0, "Confluent magic byte");
    assert_eq!(registry.subjects(), ["customers-value"]);
    let back = converters
        .value
        .decode("customers", Some(&bytes))
        .await
        .unwrap();
    assert_eq!(
        back.value.as_struct().unwrap().get("email"),
        Some(&Value::from("sally@example.com"))
    );
    assert_eq!(
        converters
            .value
            .encode("customers", &SchemaAndValue::null())
            .await
            .unwrap(),
        None
    );

    let err = RecordConverters::from_props(&config, None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("value.converter.schema.registry.url"), "{err}");

    // A remote registry needs no embedded one; a bad URL names the settings prefix.
    let remote = props(&[
        ("key.converter", "io.confluent.connect.avro.AvroConverter"),
        ("key.converter.schema.registry.url", "http://127.0.0.1:8081"),
    ]);
    assert!(RecordConverters::from_props(&remote, None).is_ok());
    let bad = props(&[
        ("key.converter", "io.confluent.connect.avro.AvroConverter"),
        ("key.converter.schema.registry.url", "not a url"),
    ]);
    let err = RecordConverters::from_props(&bad, None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("key.converter."), "{err}");
}

#[test]
fn selection_errors_name_the_key() {
    let err = ConverterChoice::from_props(
        &props(&[("value.converter", "com.example.Nope")]),
        RecordPart::Value,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("value.converter") && err.contains("StringConverter"),
        "{err}"
    );
    let err = ConverterChoice::from_props(
        &props(&[("key.converter.schemas.enable", "yes")]),
        RecordPart::Key,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("key.converter.") && err.contains("schemas.enable"),
        "{err}"
    );
    let err = ConverterChoice::from_props(
        &props(&[
            (
                "value.converter",
                "org.apache.kafka.connect.storage.StringConverter",
            ),
            ("value.converter.encoding", "latin1"),
        ]),
        RecordPart::Value,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("value.converter.encoding") && err.contains("UTF-8"),
        "{err}"
    );
    assert!(matches!(
        ConverterChoice::from_props(&props(&[("key.converter", "json")]), RecordPart::Key).unwrap(),
        ConverterChoice::Json(_)
    ));
}

#[tokio::test]
async fn fetched_records_become_sink_records() {
    use bytes::Bytes;
    use sluice_broker::{FetchedRecord, Header, Offset, PartitionId, Record};
    use sluice_connect::api::HeaderValue;

    let converters = RecordConverters::from_props(
        &props(&[(
            "key.converter",
            "org.apache.kafka.connect.storage.StringConverter",
        )]),
        None,
    )
    .unwrap();
    let value = converters.value.encode("t", &customer()).await.unwrap();
    let mut stored = Record::new(Some(Bytes::from_static(b"1001")), value.map(Bytes::from));
    stored.timestamp_ms = 42;
    stored.headers = vec![
        Header {
            key: "__op".into(),
            value: Some(Bytes::from_static(b"c")),
        },
        Header {
            key: "empty".into(),
            value: None,
        },
    ];
    let fetched = FetchedRecord {
        offset: Offset(9),
        record: stored,
    };
    let sink = converters
        .sink_record("customers", PartitionId(2), &fetched)
        .await
        .unwrap();
    assert_eq!(
        (sink.partition, sink.offset, sink.timestamp_ms),
        (PartitionId(2), Offset(9), 42)
    );
    assert_eq!(sink.key.value, Value::from("1001"));
    assert_eq!(
        sink.value.value.as_struct().unwrap().get("id"),
        Some(&Value::Int32(1001))
    );
    assert_eq!(
        sink.headers.last("__op").and_then(|h| h.as_str()),
        Some("c")
    );
    assert!(matches!(
        &sink.headers.last("empty").unwrap().value,
        HeaderValue::Typed {
            value: Value::Null,
            ..
        }
    ));

    // A tombstone decodes to a null value.
    let tombstone = FetchedRecord {
        offset: Offset(10),
        record: Record::new(Some(Bytes::from_static(b"1001")), None),
    };
    let sink = converters
        .sink_record("customers", PartitionId(2), &tombstone)
        .await
        .unwrap();
    assert!(sink.value.is_null());
}
