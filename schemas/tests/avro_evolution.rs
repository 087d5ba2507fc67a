//! Schema evolution through the Avro converter and the embedded registry: adding an optional
//! column is a new BACKWARD-compatible version, changing a column's type is refused with an
//! error naming the column and both types, and data of every version stays readable.

use std::sync::Arc;

use sluice_schemas::avro::{AvroConverter, Registration};
use sluice_schemas::registry::{
    CompatibilityLevel, EmbeddedRegistryClient, RecordPart, SchemaId, SchemaRegistry,
    SubjectVersion,
};
use sluice_schemas::schema::{INT32_SCHEMA, OPTIONAL_STRING_SCHEMA, STRING_SCHEMA};
use sluice_schemas::{Error, SchemaBuilder, SchemaRef, Struct, Value};

const TOPIC: &str = "dbserver1.inventory.customers";
const SUBJECT: &str = "dbserver1.inventory.customers-value";

fn customers(extra: &[(&str, SchemaRef)], id_type: SchemaRef) -> SchemaRef {
    let mut builder = SchemaBuilder::struct_()
        .name("dbserver1.inventory.customers.Value")
        .field("id", id_type)
        .field("first_name", STRING_SCHEMA.clone());
    for (name, schema) in extra {
        builder = builder.field(*name, schema.clone());
    }
    builder.build()
}

fn converter() -> (Arc<SchemaRegistry>, AvroConverter) {
    let registry = Arc::new(SchemaRegistry::in_memory());
    let client = Arc::new(EmbeddedRegistryClient::new(registry.clone()));
    (
        registry,
        AvroConverter::new(client, RecordPart::Value, Registration::AutoRegister),
    )
}

fn row(schema: &SchemaRef, id: Value, email: Option<&str>) -> Value {
    let mut row = Struct::new(schema.clone());
    row.put("id", id).unwrap();
    row.put("first_name", "Sally").unwrap();
    if let Some(email) = email {
        row.put("email", email).unwrap();
    }
    Value::Struct(row)
}

#[tokio::test]
async fn adding_an_optional_column_is_a_new_backward_compatible_version() {
    let (registry, converter) = converter();
    let v1 = customers(&[], INT32_SCHEMA.clone());
    let v2 = customers(
        &[("email", OPTIONAL_STRING_SCHEMA.clone())],
        INT32_SCHEMA.clone(),
    );

    let old = converter
        .from_connect(TOPIC, &v1, &row(&v1, Value::Int32(1001), None))
        .await
        .unwrap()
        .unwrap();
    let new = converter
        .from_connect(
            TOPIC,
            &v2,
            &row(&v2, Value::Int32(1002), Some("sally@example.com")),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        registry.effective_level(Some(SUBJECT)),
        CompatibilityLevel::Backward
    );
    assert_eq!(
        registry.versions(SUBJECT).unwrap(),
        vec![SubjectVersion(1), SubjectVersion(2)]
    );
    assert_eq!(
        (&old[1..5], &new[1..5]),
        (&1u32.to_be_bytes()[..], &2u32.to_be_bytes()[..])
    );

    // Each message is read with the schema it was written with.
    let (old_schema, old_value) = converter.to_connect(&old).await.unwrap();
    assert_eq!((*old_schema).clone(), (*v1).clone());
    assert_eq!(old_value.as_struct().unwrap().get("email"), None);
    let (_, new_value) = converter.to_connect(&new).await.unwrap();
    assert_eq!(
        new_value.as_struct().unwrap().get("email"),
        Some(&Value::String("sally@example.com".into()))
    );

    // Writing v1 again reuses its id: no third version.
    converter
        .from_connect(TOPIC, &v1, &row(&v1, Value::Int32(1003), None))
        .await
        .unwrap();
    assert_eq!(registry.versions(SUBJECT).unwrap().len(), 2);
}

#[tokio::test]
async fn a_column_type_change_is_rejected_naming_the_column_and_both_types() {
    let (registry, converter) = converter();
    let v1 = customers(&[], INT32_SCHEMA.clone());
    converter
        .from_connect(TOPIC, &v1, &row(&v1, Value::Int32(1001), None))
        .await
        .unwrap();

    let changed = customers(&[], STRING_SCHEMA.clone());
    let error = converter
        .from_connect(
            TOPIC,
            &changed,
            &row(&changed, Value::String("A-1001".into()), None),
        )
        .await
        .unwrap_err();
    let message = error.to_string();
    match &error {
        Error::IncompatibleSchema {
            subject,
            level,
            problems,
        } => {
            assert_eq!(subject, SUBJECT);
            assert_eq!(level, "BACKWARD");
            assert_eq!(problems.len(), 1, "{problems:?}");
        }
        other => panic!("expected an incompatibility, got {other}"),
    }
    assert!(message.contains("field `id`"), "{message}");
    assert!(
        message.contains("`string`") && message.contains("`int`"),
        "{message}"
    );
    assert_eq!(
        registry.versions(SUBJECT).unwrap().len(),
        1,
        "nothing was registered"
    );

    // Widening int → long is allowed by Avro's promotion rules.
    let widened = customers(&[], SchemaBuilder::int64().build());
    let bytes = converter
        .from_connect(TOPIC, &widened, &row(&widened, Value::Int64(1 << 40), None))
        .await
        .unwrap();
    assert_eq!(&bytes.unwrap()[1..5], &2u32.to_be_bytes());

    // With compatibility NONE the type change goes through as a new version.
    registry
        .set_level(Some(SUBJECT), CompatibilityLevel::None)
        .unwrap();
    converter
        .from_connect(
            TOPIC,
            &changed,
            &row(&changed, Value::String("A-1".into()), None),
        )
        .await
        .unwrap();
    assert_eq!(
        registry
            .version(SUBJECT, sluice_schemas::registry::VersionSelector::Latest)
            .unwrap()
            .id,
        SchemaId(3)
    );
}

#[tokio::test]
async fn adding_a_required_column_without_default_is_rejected() {
    let (_, converter) = converter();
    let v1 = customers(&[], INT32_SCHEMA.clone());
    converter
        .from_connect(TOPIC, &v1, &row(&v1, Value::Int32(1), None))
        .await
        .unwrap();
    let v2 = customers(&[("email", STRING_SCHEMA.clone())], INT32_SCHEMA.clone());
    let error = converter
        .from_connect(
            TOPIC,
            &v2,
            &row(&v2, Value::Int32(2), Some("x@example.com")),
        )
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("field `email`") && message.contains("without a default"),
        "{message}"
    );
}
