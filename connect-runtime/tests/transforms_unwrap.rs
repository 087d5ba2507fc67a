//! ExtractNewRecordState against Debezium-shaped change events.

mod transforms_support;

use std::sync::Arc;

use sluice_connect::api::{HeaderValue, SourceRecord};
use sluice_connect::transforms::TransformChain;
use sluice_schemas::envelope::{Op, TransactionBlock};
use sluice_schemas::{SchemaType, Value};
use transforms_support::{Customers, EVENT_TIME_MICROS, LSN, props, value_struct};

fn unwrap_chain(extra: &[(&str, &str)]) -> TransformChain<SourceRecord> {
    let mut pairs = vec![
        ("transforms", "unwrap"),
        (
            "transforms.unwrap.type",
            "io.debezium.transforms.ExtractNewRecordState",
        ),
    ];
    let owned: Vec<(String, String)> = extra
        .iter()
        .map(|(k, v)| (format!("transforms.unwrap.{k}"), v.to_string()))
        .collect();
    pairs.extend(owned.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    TransformChain::from_props(&props(&pairs)).unwrap()
}

#[test]
fn inserts_and_updates_become_their_after_row() {
    let customers = Customers::default();
    let chain = unwrap_chain(&[]);
    let out = chain
        .apply(customers.insert(1001, "Sally"))
        .unwrap()
        .unwrap();
    assert!(Arc::ptr_eq(
        out.value.schema.as_ref().unwrap(),
        customers.table.row_schema()
    ));
    assert_eq!(
        value_struct(&out).get("first_name"),
        Some(&Value::from("Sally"))
    );
    // Key, topic and offsets are untouched.
    assert_eq!(&*out.topic, transforms_support::TOPIC);
    assert_eq!(
        out.key.value.as_struct().unwrap().get("id"),
        Some(&Value::Int32(1001))
    );

    let update = customers.event(
        Op::Update,
        Some(customers.row(1001, "Sally", None)),
        Some(customers.row(1001, "Sal", Some("s@x"))),
        None,
    );
    let out = chain.apply(update).unwrap().unwrap();
    assert_eq!(value_struct(&out).get("email"), Some(&Value::from("s@x")));
}

#[test]
fn default_mode_turns_deletes_into_null_values_and_drops_tombstones() {
    let customers = Customers::default();
    let chain = unwrap_chain(&[]);
    let out = chain
        .apply(customers.delete(1001, "Sally"))
        .unwrap()
        .unwrap();
    assert!(out.value.value.is_null());
    assert!(Arc::ptr_eq(
        out.value.schema.as_ref().unwrap(),
        customers.table.row_schema()
    ));
    assert!(chain.apply(customers.tombstone(1001)).unwrap().is_none());
}

#[test]
fn every_delete_tombstone_handling_mode() {
    let customers = Customers::default();
    let run = |mode: &str| {
        let chain = unwrap_chain(&[("delete.tombstone.handling.mode", mode)]);
        (
            chain.apply(customers.delete(7, "Gone")).unwrap(),
            chain.apply(customers.tombstone(7)).unwrap(),
            chain.apply(customers.insert(8, "New")).unwrap(),
        )
    };

    let (delete, tombstone, insert) = run("drop");
    assert!(delete.is_none() && tombstone.is_none());
    assert!(value_struct(&insert.unwrap()).get("__deleted").is_none());

    let (delete, tombstone, insert) = run("rewrite");
    let delete = delete.unwrap();
    assert_eq!(
        value_struct(&delete).get("__deleted"),
        Some(&Value::from("true"))
    );
    assert_eq!(
        value_struct(&delete).get("first_name"),
        Some(&Value::from("Gone"))
    );
    assert!(tombstone.is_none());
    let insert = insert.unwrap();
    assert_eq!(
        value_struct(&insert).get("__deleted"),
        Some(&Value::from("false"))
    );
    let schema = insert.value.schema.clone().unwrap();
    assert_eq!(schema.name(), Some("dbserver1.inventory.customers.Value"));
    let deleted = schema.field("__deleted").unwrap().schema();
    assert!(deleted.is_optional() && deleted.schema_type() == SchemaType::String);
    // One output schema per envelope schema, shared by every event.
    assert!(Arc::ptr_eq(&schema, delete.value.schema.as_ref().unwrap()));

    let (delete, tombstone, _) = run("rewrite-with-tombstone");
    assert_eq!(
        value_struct(&delete.unwrap()).get("__deleted"),
        Some(&Value::from("true"))
    );
    assert!(tombstone.unwrap().value.is_null());

    let (delete, tombstone, _) = run("delete-to-tombstone");
    let delete = delete.unwrap();
    assert!(delete.value.is_null() && delete.value.schema.is_none());
    assert!(tombstone.is_none());

    let err = TransformChain::<SourceRecord>::from_props(&props(&[
        ("transforms", "unwrap"),
        (
            "transforms.unwrap.type",
            "io.debezium.transforms.ExtractNewRecordState",
        ),
        ("transforms.unwrap.delete.tombstone.handling.mode", "keep"),
    ]))
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("transforms.unwrap.delete.tombstone.handling.mode")
            && err.contains("rewrite-with-tombstone"),
        "{err}"
    );
}

#[test]
fn deprecated_delete_keys_still_work() {
    let customers = Customers::default();
    let chain = unwrap_chain(&[
        ("drop.tombstones", "false"),
        ("delete.handling.mode", "rewrite"),
    ]);
    let delete = chain.apply(customers.delete(3, "Old")).unwrap().unwrap();
    assert_eq!(
        value_struct(&delete).get("__deleted"),
        Some(&Value::from("true"))
    );
    assert!(chain.apply(customers.tombstone(3)).unwrap().is_some());
    let chain = unwrap_chain(&[("delete.handling.mode", "none")]);
    assert!(
        chain
            .apply(customers.delete(3, "Old"))
            .unwrap()
            .unwrap()
            .value
            .is_null()
    );
    assert!(chain.apply(customers.tombstone(3)).unwrap().is_none());
    let chain = unwrap_chain(&[("drop.tombstones", "true")]);
    assert!(chain.apply(customers.delete(3, "Old")).unwrap().is_none());
}

#[test]
fn add_fields_and_headers_follow_debezium_naming() {
    let customers = Customers::default();
    let chain = unwrap_chain(&[
        (
            "add.fields",
            "op,table,lsn,source.ts_ms,id,db:database,gtid",
        ),
        ("add.headers", "op,source.ts_ms"),
        ("delete.tombstone.handling.mode", "rewrite-with-tombstone"),
    ]);
    let transaction = TransactionBlock {
        id: "555:24023128".into(),
        total_order: 1,
        data_collection_order: 1,
    };
    let event = customers.event(
        Op::Create,
        None,
        Some(customers.row(1, "A", None)),
        Some(&transaction),
    );
    let out = chain.apply(event).unwrap().unwrap();
    let value = value_struct(&out);
    assert_eq!(value.get("__op"), Some(&Value::from("c")));
    assert_eq!(value.get("__table"), Some(&Value::from("customers")));
    assert_eq!(value.get("__lsn"), Some(&Value::Int64(LSN)));
    assert_eq!(
        value.get("__source_ts_ms"),
        Some(&Value::Int64(EVENT_TIME_MICROS / 1000))
    );
    assert_eq!(value.get("__id"), Some(&Value::from("555:24023128")));
    assert_eq!(value.get("__database"), Some(&Value::from("postgres")));
    let schema = out.value.schema.as_ref().unwrap();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name()).collect();
    assert_eq!(
        names,
        [
            "id",
            "first_name",
            "email",
            "__op",
            "__table",
            "__lsn",
            "__source_ts_ms",
            "__id",
            "__database",
            "__deleted"
        ]
    );
    assert!(schema.field("__op").unwrap().schema().is_optional());
    // MySQL's gtid is not in a Postgres event: skipped, not an error.
    assert!(schema.field("__gtid").is_none());
    assert_eq!(out.headers.last("__op").and_then(|h| h.as_str()), Some("c"));
    match &out.headers.last("__source_ts_ms").unwrap().value {
        HeaderValue::Typed { schema, value } => {
            assert_eq!(value, &Value::Int64(EVENT_TIME_MICROS / 1000));
            assert_eq!(schema.as_ref().unwrap().schema_type(), SchemaType::Int64);
        }
        other => panic!("expected a typed header, got {other:?}"),
    }

    // Without a transaction block the transaction fields are null; deletes carry the fields
    // too, and tombstones get only the op header.
    let out = chain.apply(customers.delete(1, "A")).unwrap().unwrap();
    assert_eq!(value_struct(&out).get("__id"), Some(&Value::Null));
    assert_eq!(value_struct(&out).get("__op"), Some(&Value::from("d")));
    let tombstone = chain.apply(customers.tombstone(1)).unwrap().unwrap();
    assert_eq!(tombstone.headers.len(), 1);
    assert_eq!(
        tombstone.headers.last("__op").and_then(|h| h.as_str()),
        Some("d")
    );
}

#[test]
fn prefixes_routing_truncates_and_foreign_records() {
    let customers = Customers::default();
    let chain = unwrap_chain(&[
        ("add.fields", "op"),
        ("add.fields.prefix", "meta_"),
        ("add.headers", "op"),
        ("add.headers.prefix", "h_"),
        ("route.by.field", "first_name"),
    ]);
    let out = chain.apply(customers.insert(5, "routed")).unwrap().unwrap();
    assert_eq!(value_struct(&out).get("meta_op"), Some(&Value::from("c")));
    assert!(out.headers.contains("h_op"));
    assert_eq!(&*out.topic, "routed");

    let truncate = customers.event(Op::Truncate, None, None, None);
    assert!(chain.apply(truncate).unwrap().is_none());

    // Not an envelope: passes unchanged.
    let mut plain = customers.insert(6, "x");
    plain.value = sluice_connect::api::SchemaAndValue::with_schema(
        sluice_schemas::schema::STRING_SCHEMA.clone(),
        "hello",
    );
    let out = chain.apply(plain.clone()).unwrap().unwrap();
    assert_eq!(out, plain);

    let err = TransformChain::<SourceRecord>::from_props(&props(&[
        ("transforms", "unwrap"),
        (
            "transforms.unwrap.type",
            "io.debezium.transforms.ExtractNewRecordState",
        ),
        ("transforms.unwrap.add.fields", "a:b:c"),
    ]))
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("transforms.unwrap.add.fields") && err.contains("field:newName"),
        "{err}"
    );
}
