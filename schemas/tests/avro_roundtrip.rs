//! Every Connect type through the Avro converter and back (embedded and remote registry), the
//! Confluent wire format, and an independent check of our datums with the `apache-avro` reader.

mod avro_support;

use std::sync::Arc;

use avro_support::{all_types_schema, all_types_values, change_event, change_event_schemas};
use sluice_schemas::avro::{AvroConverter, AvroConverterConfig, Registration, split_wire};
use sluice_schemas::registry::{
    self, EmbeddedRegistryClient, RecordPart, SchemaId, SchemaRegistry,
};
use sluice_schemas::{Error, SchemaBuilder, Struct, Value};

fn embedded_converter() -> (Arc<SchemaRegistry>, AvroConverter) {
    let registry = Arc::new(SchemaRegistry::in_memory());
    let client = Arc::new(EmbeddedRegistryClient::new(registry.clone()));
    (
        registry,
        AvroConverter::new(client, RecordPart::Value, Registration::AutoRegister),
    )
}

#[tokio::test]
async fn every_type_round_trips_through_the_converter() {
    let (registry, converter) = embedded_converter();
    let schema = all_types_schema();
    for value in all_types_values(&schema) {
        let bytes = converter
            .from_connect("all_types", &schema, &value)
            .await
            .unwrap()
            .unwrap();
        let (id, datum) = split_wire(&bytes).unwrap();
        assert_eq!(bytes[0], 0, "magic byte");
        assert_eq!(id, SchemaId(1));

        // An independent Avro implementation reads the datum with the registered schema.
        let text = registry.schema_by_id(id).unwrap();
        let parsed = apache_avro::Schema::parse_str(&text).unwrap();
        let mut rest = datum;
        apache_avro::reader::datum::GenericDatumReader::builder(&parsed)
            .build()
            .unwrap()
            .read_value(&mut rest)
            .unwrap();
        assert!(rest.is_empty(), "apache-avro consumed the whole datum");

        let (read_schema, read_value) = converter.to_connect(&bytes).await.unwrap();
        assert_eq!(
            *read_schema, *schema,
            "the Connect schema survives the Avro round trip"
        );
        assert_eq!(read_value, value);
    }
    assert_eq!(registry.subjects(), vec!["all_types-value".to_owned()]);
}

#[tokio::test]
async fn change_events_round_trip_and_share_one_schema_version() {
    let (registry, converter) = embedded_converter();
    let schemas = change_event_schemas();
    for id in 0..3 {
        let event = change_event(&schemas, id);
        let bytes = converter
            .from_connect("dbserver1.inventory.orders", &schemas.envelope, &event)
            .await
            .unwrap()
            .unwrap();
        let (schema, value) = converter.to_connect(&bytes).await.unwrap();
        assert_eq!(*schema, *schemas.envelope);
        assert_eq!(value, event);
    }
    assert_eq!(
        registry
            .versions("dbserver1.inventory.orders-value")
            .unwrap()
            .len(),
        1
    );
    let text = converter.avro_schema_text(&schemas.envelope).unwrap();
    assert!(
        Arc::ptr_eq(
            &text,
            &converter.avro_schema_text(&schemas.envelope).unwrap()
        ),
        "built once per schema"
    );
}

#[tokio::test]
async fn null_values_defaults_and_bad_input() {
    let (_, converter) = embedded_converter();
    let schema = SchemaBuilder::struct_()
        .name("t.Value")
        .field("id", SchemaBuilder::int32().build())
        .field(
            "status",
            SchemaBuilder::string()
                .default_value(Value::String("new".into()))
                .build(),
        )
        .build();
    // A null value is a tombstone: no bytes.
    assert_eq!(
        converter
            .from_connect("t", &schema, &Value::Null)
            .await
            .unwrap(),
        None
    );

    // A null field with a default is written as its default, as Kafka Connect does.
    let mut row = Struct::new(schema.clone());
    row.put("id", 1).unwrap();
    let bytes = converter
        .from_connect("t", &schema, &Value::Struct(row))
        .await
        .unwrap()
        .unwrap();
    let (_, read) = converter.to_connect(&bytes).await.unwrap();
    assert_eq!(
        read.as_struct().unwrap().get("status"),
        Some(&Value::String("new".into()))
    );

    // A required field left null is named in the error.
    let empty = Value::Struct(Struct::new(schema.clone()));
    let mut buffer = b"earlier".to_vec();
    let error = converter
        .from_connect_into("t", &schema, &empty, &mut buffer)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::MissingRequired { path } if path == "id"),
        "{error}"
    );
    assert_eq!(
        buffer, b"earlier",
        "a failed write leaves the buffer as it was"
    );

    // Bytes that are not Confluent-framed are refused with the reason.
    let error = converter.to_connect(b"{\"id\":1}").await.unwrap_err();
    assert!(error.to_string().contains("magic byte"), "{error}");
    let error = converter.to_connect(&[0, 0, 0]).await.unwrap_err();
    assert!(error.to_string().contains("5-byte header"), "{error}");
    let error = converter
        .to_connect(&[0, 0, 0, 0, 99, 2])
        .await
        .unwrap_err();
    assert!(matches!(error, Error::SchemaNotFound { .. }), "{error}");
    let truncated = &bytes[..bytes.len() - 2];
    let error = converter.to_connect(truncated).await.unwrap_err();
    assert!(matches!(error, Error::MalformedAvro { .. }), "{error}");
}

#[tokio::test]
async fn lookup_only_converter_requires_a_registered_schema() {
    let registry = Arc::new(SchemaRegistry::in_memory());
    let client = Arc::new(EmbeddedRegistryClient::new(registry.clone()));
    let converter = AvroConverter::new(client, RecordPart::Key, Registration::LookupOnly);
    let schema = SchemaBuilder::struct_()
        .name("t.Key")
        .field("id", SchemaBuilder::int64().build())
        .build();
    let key = Value::Struct(Struct::new(schema.clone()).with("id", 5i64).unwrap());
    let error = converter
        .from_connect("t", &schema, &key)
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::SubjectNotFound { ref subject } if subject == "t-key"),
        "{error}"
    );
    registry
        .register(
            "t-key",
            &converter.avro_schema_text(&schema).unwrap(),
            registry::SchemaFormat::Avro,
        )
        .unwrap();
    let bytes = converter
        .from_connect("t", &schema, &key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&bytes[..5], &[0, 0, 0, 0, 1]);
}

#[tokio::test]
async fn converter_config_picks_the_remote_registry_when_a_url_is_given() {
    // A real registry server on a free loopback port.
    let served = Arc::new(SchemaRegistry::in_memory());
    let app = axum::Router::new().nest("/schema-registry", registry::router(served.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let url = format!("http://{address}/schema-registry");

    let config = AvroConverterConfig::from_properties([
        ("schema.registry.url", url.as_str()),
        ("auto.register.schemas", "true"),
    ])
    .unwrap();
    assert_eq!(config.registry_url.as_deref(), Some(url.as_str()));
    let local = Arc::new(SchemaRegistry::in_memory());
    let converter = AvroConverter::from_config(&config, RecordPart::Value, &local).unwrap();
    let schemas = change_event_schemas();
    let event = change_event(&schemas, 9);
    let bytes = converter
        .from_connect("orders", &schemas.envelope, &event)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        served.subjects(),
        vec!["orders-value".to_owned()],
        "registered remotely"
    );
    assert!(local.subjects().is_empty(), "not in the embedded registry");

    // A fresh converter (empty caches) reads it back through the registry's REST API.
    let reader = AvroConverter::from_config(&config, RecordPart::Value, &local).unwrap();
    let (_, value) = reader.to_connect(&bytes).await.unwrap();
    assert_eq!(value, event);

    let embedded =
        AvroConverter::from_config(&AvroConverterConfig::default(), RecordPart::Value, &local)
            .unwrap();
    embedded
        .from_connect("orders", &schemas.envelope, &event)
        .await
        .unwrap();
    assert_eq!(local.subjects(), vec!["orders-value".to_owned()]);
}

#[test]
fn converter_class_names_are_recognized() {
    use sluice_schemas::avro::is_avro_converter_class;
    assert!(is_avro_converter_class(
        "io.confluent.connect.avro.AvroConverter"
    ));
    assert!(is_avro_converter_class(" avro "));
    assert!(!is_avro_converter_class(
        "org.apache.kafka.connect.json.JsonConverter"
    ));
    let error =
        AvroConverterConfig::from_properties([("auto.register.schemas", "maybe")]).unwrap_err();
    assert!(
        error.to_string().contains("auto.register.schemas"),
        "{error}"
    );
}

#[tokio::test]
async fn subject_name_strategy_comes_from_the_config() {
    let registry = Arc::new(SchemaRegistry::in_memory());
    let config = AvroConverterConfig::from_properties([(
        "value.subject.name.strategy",
        "io.confluent.kafka.serializers.subject.RecordNameStrategy",
    )])
    .unwrap();
    let converter = AvroConverter::from_config(&config, RecordPart::Value, &registry).unwrap();
    let schemas = change_event_schemas();
    let event = change_event(&schemas, 1);
    for topic in ["a", "b"] {
        converter
            .from_connect(topic, &schemas.envelope, &event)
            .await
            .unwrap();
    }
    assert_eq!(
        registry.subjects(),
        vec!["dbserver1.inventory.orders.Envelope".to_owned()]
    );
    // The key side keeps the default strategy.
    let keys = AvroConverter::from_config(&config, RecordPart::Key, &registry).unwrap();
    assert_eq!(keys.subject("a", &schemas.row).unwrap(), "a-key");
}

#[tokio::test]
async fn invalid_avro_names_are_refused_or_scrubbed() {
    let schema = SchemaBuilder::struct_()
        .name("db.inv.my-table.Value")
        .field("order-date", SchemaBuilder::int32().build())
        .build();
    let row = Value::Struct(Struct::new(schema.clone()).with("order-date", 5).unwrap());
    let (registry, converter) = embedded_converter();
    let error = converter
        .from_connect("t", &schema, &row)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("my-table") && error.contains("scrub.invalid.names=true"),
        "{error}"
    );
    assert!(registry.subjects().is_empty());

    let config = AvroConverterConfig::from_properties([("scrub.invalid.names", "true")]).unwrap();
    let converter = AvroConverter::from_config(&config, RecordPart::Value, &registry).unwrap();
    let bytes = converter
        .from_connect("t", &schema, &row)
        .await
        .unwrap()
        .unwrap();
    let text = converter.avro_schema_text(&schema).unwrap();
    let avro: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (avro["name"].as_str(), avro["namespace"].as_str()),
        (Some("Value"), Some("db.inv.my_table"))
    );
    assert_eq!(avro["fields"][0]["name"], "order_date");
    assert_eq!(
        avro["connect.name"], "db.inv.my-table.Value",
        "the Connect name is kept"
    );
    let (read_schema, value) = converter.to_connect(&bytes).await.unwrap();
    assert_eq!(read_schema.name(), Some("db.inv.my-table.Value"));
    assert_eq!(
        value.as_struct().unwrap().get("order_date"),
        Some(&Value::Int32(5))
    );
}
