//! Interop with Confluent's own Python client (`confluent-kafka` with its schemaregistry/avro
//! extras): it deserializes Avro written by Sluice through Sluice's registry REST API, calls
//! the subject/version/compatibility/config endpoints, and serializes a record of its own that
//! Sluice's converter then reads back.

mod avro_support;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use serde_json::Value as Json;
use sluice_schemas::Value;
use sluice_schemas::avro::{AvroConverter, AvroConverterConfig};
use sluice_schemas::registry::{self, CompatibilityLevel, RecordPart, SchemaRegistry};

#[tokio::test]
async fn confluents_python_client_reads_and_writes_through_our_registry() {
    let registry = Arc::new(SchemaRegistry::in_memory());
    let app = axum::Router::new().nest("/schema-registry", registry::router(registry.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let url = format!("http://{address}/schema-registry");

    let config =
        AvroConverterConfig::from_properties([("schema.registry.url", url.as_str())]).unwrap();
    let converter = AvroConverter::from_config(&config, RecordPart::Value, &registry).unwrap();
    let schemas = avro_support::change_event_schemas();
    let event = avro_support::change_event(&schemas, 4242);
    let topic = "dbserver1.inventory.orders";
    let framed = converter
        .from_connect(topic, &schemas.envelope, &event)
        .await
        .unwrap()
        .unwrap();

    let directory = tempfile::tempdir().unwrap();
    let framed_file = directory.path().join("event.bin");
    let python_file = directory.path().join("python.bin");
    std::fs::write(&framed_file, &framed).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/confluent_client.py");
    let output = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(&script)
            .arg(&url)
            .arg(&framed_file)
            .arg(topic)
            .arg(&python_file)
            .output()
            .unwrap_or_else(|error| {
                panic!("cannot run python3 ({error}); install it with scripts/setup.sh")
            })
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "confluent_client.py failed ({}): {}\n(confluent-kafka[avro,schemaregistry] is installed by scripts/setup.sh)",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let seen: Json = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        seen["subjects"],
        serde_json::json!([format!("{topic}-value")])
    );
    assert_eq!(seen["versions"], serde_json::json!([1]));
    assert_eq!(
        (seen["latest_version"].as_i64(), seen["latest_id"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(seen["op"], "u");
    assert_eq!(seen["after_id"], 4242);
    assert_eq!(seen["after_status"], "shipped");
    assert_eq!(seen["price"], "999.99");
    assert_eq!(seen["compatible"], true);
    assert_eq!(seen["global_level"], "BACKWARD");
    assert_eq!(seen["subject_level"], "FULL");
    assert_eq!(
        registry.subject_level(&format!("{topic}-value")),
        Some(CompatibilityLevel::Full)
    );

    // The record Confluent's serializer wrote (and registered) reads back with our converter.
    let python_bytes = std::fs::read(directory.path().join("python.bin")).unwrap();
    let (schema, value) = converter.to_connect(&python_bytes).await.unwrap();
    assert_eq!(schema.name(), Some("py.sensors.Reading"));
    let reading = value.as_struct().unwrap();
    assert_eq!(reading.get("sensor"), Some(&Value::String("t-1".into())));
    assert_eq!(reading.get("celsius"), Some(&Value::Float64(21.5)));
    assert_eq!(
        reading.get("note"),
        Some(&Value::String("from python".into()))
    );
    assert_eq!(
        registry
            .versions(&format!("{topic}-py-value"))
            .unwrap()
            .len(),
        1
    );
}
