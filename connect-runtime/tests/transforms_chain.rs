//! Transform chains: configuration, predicates, RegexRouter, Filter, FilterByOp, MaskField.

mod transforms_support;

use sluice_broker::{Offset, PartitionId};
use sluice_connect::api::{SchemaAndValue, SharedOffsetMap, SinkRecord, SourceRecord};
use sluice_connect::transforms::TransformChain;
use sluice_schemas::envelope::Op;
use sluice_schemas::schema::{INT32_SCHEMA, STRING_SCHEMA};
use sluice_schemas::{SchemaBuilder, Struct, Value, logical};
use transforms_support::{Customers, TOPIC, props, value_struct};

fn chain(pairs: &[(&str, &str)]) -> TransformChain<SourceRecord> {
    TransformChain::from_props(&props(pairs)).unwrap()
}

fn chain_error(pairs: &[(&str, &str)]) -> String {
    TransformChain::<SourceRecord>::from_props(&props(pairs))
        .unwrap_err()
        .to_string()
}

#[test]
fn no_transforms_is_an_empty_chain() {
    let chain = chain(&[("transforms", " ")]);
    assert!(chain.is_empty());
    let record = Customers::default().insert(1, "a");
    assert_eq!(chain.apply(record.clone()).unwrap(), Some(record));
}

#[test]
fn unwrap_then_route_in_order() {
    let customers = Customers::default();
    let chain = chain(&[
        ("transforms", "unwrap, route"),
        (
            "transforms.unwrap.type",
            "io.debezium.transforms.ExtractNewRecordState",
        ),
        (
            "transforms.route.type",
            "org.apache.kafka.connect.transforms.RegexRouter",
        ),
        ("transforms.route.regex", r"dbserver1\.inventory\.(.*)"),
        ("transforms.route.replacement", "warehouse.$1"),
    ]);
    assert_eq!(chain.aliases().collect::<Vec<_>>(), ["unwrap", "route"]);
    let out = chain.apply(customers.insert(1, "a")).unwrap().unwrap();
    assert_eq!(&*out.topic, "warehouse.customers");
    assert_eq!(
        value_struct(&out).get("first_name"),
        Some(&Value::from("a"))
    );
    let mut other = customers.insert(2, "b");
    other.topic = "elsewhere".into();
    assert_eq!(&*chain.apply(other).unwrap().unwrap().topic, "elsewhere");
}

#[test]
fn predicates_gate_transforms() {
    let customers = Customers::default();
    let base = [
        ("transforms", "dropTombstones"),
        (
            "transforms.dropTombstones.type",
            "org.apache.kafka.connect.transforms.Filter",
        ),
        ("transforms.dropTombstones.predicate", "isTombstone"),
        ("predicates", "isTombstone"),
        (
            "predicates.isTombstone.type",
            "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
        ),
    ];
    let drop_tombstones = chain(&base);
    assert!(
        drop_tombstones
            .apply(customers.tombstone(1))
            .unwrap()
            .is_none()
    );
    assert!(
        drop_tombstones
            .apply(customers.insert(1, "a"))
            .unwrap()
            .is_some()
    );

    let mut negated = base.to_vec();
    negated.push(("transforms.dropTombstones.negate", "true"));
    let keep_only_tombstones = chain(&negated);
    assert!(
        keep_only_tombstones
            .apply(customers.tombstone(1))
            .unwrap()
            .is_some()
    );
    assert!(
        keep_only_tombstones
            .apply(customers.insert(1, "a"))
            .unwrap()
            .is_none()
    );

    let by_topic = chain(&[
        ("transforms", "f"),
        (
            "transforms.f.type",
            "org.apache.kafka.connect.transforms.Filter",
        ),
        ("transforms.f.predicate", "inventory"),
        ("predicates", "inventory"),
        (
            "predicates.inventory.type",
            "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
        ),
        ("predicates.inventory.pattern", r"dbserver1\.inventory\..*"),
    ]);
    assert!(by_topic.apply(customers.insert(1, "a")).unwrap().is_none());
    let mut other = customers.insert(1, "a");
    other.topic = format!("x.{TOPIC}").into();
    assert!(by_topic.apply(other).unwrap().is_some());

    let by_header = chain(&[
        ("transforms", "f"),
        (
            "transforms.f.type",
            "org.apache.kafka.connect.transforms.Filter",
        ),
        ("transforms.f.predicate", "marked"),
        ("predicates", "marked"),
        (
            "predicates.marked.type",
            "org.apache.kafka.connect.transforms.predicates.HasHeaderKey",
        ),
        ("predicates.marked.name", "skip-me"),
    ]);
    let mut marked = customers.insert(1, "a");
    marked.headers.add_string("skip-me", "yes");
    assert!(by_header.apply(marked).unwrap().is_none());
    assert!(by_header.apply(customers.insert(1, "a")).unwrap().is_some());
}

#[test]
fn configuration_errors_name_the_key() {
    let err = chain_error(&[("transforms", "x")]);
    assert!(err.contains("transforms.x.type"), "{err}");
    let err = chain_error(&[
        ("transforms", "x"),
        ("transforms.x.type", "com.example.Nope"),
    ]);
    assert!(
        err.contains("transforms.x.type") && err.contains("RegexRouter"),
        "{err}"
    );
    let err = chain_error(&[
        ("transforms", "x"),
        (
            "transforms.x.type",
            "org.apache.kafka.connect.transforms.Filter",
        ),
        ("transforms.x.predicate", "missing"),
    ]);
    assert!(
        err.contains("transforms.x.predicate") && err.contains("no such predicate"),
        "{err}"
    );
    let err = chain_error(&[
        ("transforms", "x"),
        (
            "transforms.x.type",
            "org.apache.kafka.connect.transforms.Filter",
        ),
        ("transforms.x.predicate", "p"),
        ("transforms.x.negate", "maybe"),
        ("predicates", "p"),
        (
            "predicates.p.type",
            "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
        ),
    ]);
    assert!(err.contains("transforms.x.negate"), "{err}");
    let err = chain_error(&[("predicates", "p"), ("predicates.p.type", "Nope")]);
    assert!(
        err.contains("predicates.p.type") && err.contains("HasHeaderKey"),
        "{err}"
    );
    let err = chain_error(&[
        ("predicates", "p"),
        (
            "predicates.p.type",
            "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
        ),
    ]);
    assert!(err.contains("predicates.p.pattern"), "{err}");
    let err = chain_error(&[
        ("transforms", "a,a"),
        (
            "transforms.a.type",
            "org.apache.kafka.connect.transforms.Filter",
        ),
    ]);
    assert!(err.contains("listed twice"), "{err}");
}

#[test]
fn filter_by_op_keeps_or_drops_listed_ops() {
    let customers = Customers::default();
    let keep = chain(&[
        ("transforms", "ops"),
        ("transforms.ops.type", "io.sluice.transforms.FilterByOp"),
        ("transforms.ops.ops", "c,u"),
    ]);
    assert!(keep.apply(customers.insert(1, "a")).unwrap().is_some());
    assert!(keep.apply(customers.delete(1, "a")).unwrap().is_none());
    assert!(keep.apply(customers.tombstone(1)).unwrap().is_none());
    let read = customers.event(Op::Read, None, Some(customers.row(2, "r", None)), None);
    assert!(keep.apply(read).unwrap().is_none());

    let drop_deletes = chain(&[
        ("transforms", "unwrap,ops"),
        (
            "transforms.unwrap.type",
            "io.debezium.transforms.ExtractNewRecordState",
        ),
        ("transforms.unwrap.add.headers", "op"),
        (
            "transforms.unwrap.delete.tombstone.handling.mode",
            "rewrite",
        ),
        ("transforms.ops.type", "io.sluice.transforms.FilterByOp"),
        ("transforms.ops.ops", "d"),
        ("transforms.ops.action", "drop"),
    ]);
    // After unwrapping, the op comes from the __op header.
    assert!(
        drop_deletes
            .apply(customers.delete(1, "a"))
            .unwrap()
            .is_none()
    );
    assert!(
        drop_deletes
            .apply(customers.insert(1, "a"))
            .unwrap()
            .is_some()
    );

    let err = chain_error(&[
        ("transforms", "ops"),
        ("transforms.ops.type", "io.sluice.transforms.FilterByOp"),
        ("transforms.ops.ops", "c,x"),
    ]);
    assert!(
        err.contains("transforms.ops.ops") && err.contains("\"x\""),
        "{err}"
    );
    let err = chain_error(&[
        ("transforms", "ops"),
        ("transforms.ops.type", "io.sluice.transforms.FilterByOp"),
        ("transforms.ops.ops", "c"),
        ("transforms.ops.action", "maybe"),
    ]);
    assert!(err.contains("transforms.ops.action"), "{err}");
}

fn mask_chain(part: &str, extra: &[(&str, &str)]) -> TransformChain<SourceRecord> {
    let type_name = format!("org.apache.kafka.connect.transforms.MaskField${part}");
    let mut pairs = vec![
        ("transforms", "mask"),
        ("transforms.mask.type", type_name.as_str()),
    ];
    pairs.extend_from_slice(extra);
    chain(&pairs)
}

#[test]
fn mask_field_masks_values_and_keys() {
    let customers = Customers::default();
    let unwrap_and_mask = chain(&[
        ("transforms", "unwrap,mask"),
        (
            "transforms.unwrap.type",
            "io.debezium.transforms.ExtractNewRecordState",
        ),
        (
            "transforms.mask.type",
            "org.apache.kafka.connect.transforms.MaskField$Value",
        ),
        ("transforms.mask.fields", "first_name,email,id"),
    ]);
    let out = unwrap_and_mask
        .apply(customers.insert(5, "Secret"))
        .unwrap()
        .unwrap();
    let value = value_struct(&out);
    assert_eq!(value.get("first_name"), Some(&Value::from("")));
    assert_eq!(value.get("email"), Some(&Value::Null));
    assert_eq!(value.get("id"), Some(&Value::Int32(0)));

    let replaced = chain(&[
        ("transforms", "unwrap,mask"),
        (
            "transforms.unwrap.type",
            "io.debezium.transforms.ExtractNewRecordState",
        ),
        (
            "transforms.mask.type",
            "org.apache.kafka.connect.transforms.MaskField$Value",
        ),
        ("transforms.mask.fields", "first_name"),
        ("transforms.mask.replacement", "****"),
    ]);
    let out = replaced
        .apply(customers.insert(5, "Secret"))
        .unwrap()
        .unwrap();
    assert_eq!(
        value_struct(&out).get("first_name"),
        Some(&Value::from("****"))
    );

    let key = mask_chain(
        "Key",
        &[
            ("transforms.mask.fields", "id"),
            ("transforms.mask.replacement", "-1"),
        ],
    );
    let out = key.apply(customers.insert(5, "x")).unwrap().unwrap();
    assert_eq!(
        out.key.value.as_struct().unwrap().get("id"),
        Some(&Value::Int32(-1))
    );
    // Tombstones have no value to mask.
    let value_mask = mask_chain("Value", &[("transforms.mask.fields", "id")]);
    assert!(
        value_mask
            .apply(customers.tombstone(5))
            .unwrap()
            .unwrap()
            .value
            .is_null()
    );
}

#[test]
fn mask_field_types_and_errors() {
    let decimal = logical::decimal(2).build();
    let schema = SchemaBuilder::struct_()
        .name("t")
        .field("amount", decimal)
        .field("flag", sluice_schemas::schema::BOOLEAN_SCHEMA.clone())
        .field("n", INT32_SCHEMA.clone())
        .field("s", STRING_SCHEMA.clone())
        .build();
    let row = Struct::new(schema.clone())
        .with("amount", vec![0x30u8, 0x39])
        .unwrap()
        .with("flag", true)
        .unwrap()
        .with("n", 7)
        .unwrap()
        .with("s", "x")
        .unwrap();
    let record = SourceRecord::new(
        SharedOffsetMap::empty(),
        SharedOffsetMap::empty(),
        "t",
        SchemaAndValue::null(),
        SchemaAndValue::with_schema(schema, row),
    );
    let masked = mask_chain("Value", &[("transforms.mask.fields", "amount,flag")])
        .apply(record.clone())
        .unwrap()
        .unwrap();
    assert_eq!(
        value_struct(&masked).get("amount"),
        Some(&Value::Bytes(vec![0]))
    );
    assert_eq!(
        value_struct(&masked).get("flag"),
        Some(&Value::Boolean(false))
    );

    let err = mask_chain(
        "Value",
        &[
            ("transforms.mask.fields", "n"),
            ("transforms.mask.replacement", "abc"),
        ],
    )
    .apply(record.clone())
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("\"mask\"") && err.contains("\"abc\"") && err.contains("int32"),
        "{err}"
    );
    let err = mask_chain("Value", &[("transforms.mask.fields", "nope")])
        .apply(record.clone())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no field \"nope\"") && err.contains("amount, flag, n, s"),
        "{err}"
    );
    let err = chain_error(&[
        ("transforms", "mask"),
        (
            "transforms.mask.type",
            "org.apache.kafka.connect.transforms.MaskField$Value",
        ),
    ]);
    assert!(err.contains("transforms.mask.fields"), "{err}");

    // Schemaless maps are masked by value kind.
    let mut schemaless = record;
    schemaless.value = SchemaAndValue::new(
        None,
        Value::Map(vec![
            (Value::from("n"), Value::Int64(9)),
            (Value::from("s"), Value::from("x")),
        ]),
    );
    let out = mask_chain("Value", &[("transforms.mask.fields", "n")])
        .apply(schemaless)
        .unwrap()
        .unwrap();
    assert_eq!(
        out.value.value,
        Value::Map(vec![
            (Value::from("n"), Value::Int64(0)),
            (Value::from("s"), Value::from("x"))
        ])
    );
}

#[test]
fn chains_work_on_sink_records_too() {
    let chain: TransformChain<SinkRecord> = TransformChain::from_props(&props(&[
        ("transforms", "route"),
        (
            "transforms.route.type",
            "org.apache.kafka.connect.transforms.RegexRouter",
        ),
        ("transforms.route.regex", "(.*)"),
        ("transforms.route.replacement", "copy-of-$1"),
    ]))
    .unwrap();
    let record = SinkRecord {
        topic: "orders".into(),
        partition: PartitionId(0),
        offset: Offset(3),
        key: SchemaAndValue::null(),
        value: SchemaAndValue::with_schema(STRING_SCHEMA.clone(), "v"),
        headers: Default::default(),
        timestamp_ms: 0,
    };
    assert_eq!(
        chain.apply(record).unwrap().unwrap().topic,
        "copy-of-orders"
    );
}
