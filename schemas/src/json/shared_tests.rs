//! Tests of the shared-struct cache: cached bytes equal freshly written ones, whatever is shared,
//! freed or reallocated, and entries are never shared across schemas or decimal formats.

use std::cell::Cell;

use proptest::prelude::*;

use super::*;
use crate::json::write::write_value;
use crate::json::{JsonConverter, JsonConverterConfig, SchemaEnvelope};
use crate::logical;
use crate::schema::{
    INT64_SCHEMA, OPTIONAL_STRING_SCHEMA, STRING_SCHEMA, SchemaBuilder, SchemaRef,
};
use crate::value::Value;

/// A `source`-like block: strings, an int64, an optional string, a decimal and a nested struct.
fn source_schema() -> SchemaRef {
    let position = SchemaBuilder::struct_()
        .name("position")
        .field("file", STRING_SCHEMA.clone())
        .field("pos", INT64_SCHEMA.clone())
        .build();
    SchemaBuilder::struct_()
        .name("source")
        .field("connector", STRING_SCHEMA.clone())
        .field("ts_ms", INT64_SCHEMA.clone())
        .field("table", OPTIONAL_STRING_SCHEMA.clone())
        .field("amount", logical::decimal(2).optional().build())
        .field("position", position)
        .build()
}

/// An envelope-like struct: a per-event row and the source block.
fn event_schema(source: &SchemaRef) -> SchemaRef {
    SchemaBuilder::struct_()
        .name("event")
        .field(
            "after",
            SchemaBuilder::struct_()
                .name("row")
                .field("id", INT64_SCHEMA.clone())
                .build(),
        )
        .field("source", source.clone())
        .field("ts_ms", INT64_SCHEMA.clone())
        .build()
}

fn source(schema: &SchemaRef, n: i64, table: Option<&str>, amount: Option<Vec<u8>>) -> Struct {
    let position_schema = schema.field("position").unwrap().schema().clone();
    let position = Struct::from_values(
        position_schema,
        vec![
            format!("binlog.{n:06}").into(),
            Value::Int64(n.wrapping_mul(7)),
        ],
    )
    .unwrap();
    Struct::from_values(
        schema.clone(),
        vec![
            "postgresql".into(),
            Value::Int64(n.wrapping_add(1_700_000_000_000)),
            table.into(),
            amount.into(),
            position.into(),
        ],
    )
    .unwrap()
}

fn event(schema: &SchemaRef, id: i64, source: Struct) -> Value {
    let row_schema = schema.field("after").unwrap().schema().clone();
    let after = Struct::from_values(row_schema, vec![Value::Int64(id)]).unwrap();
    Struct::from_values(
        schema.clone(),
        vec![after.into(), source.into(), Value::Int64(id)],
    )
    .unwrap()
    .into()
}

fn converter(schemas: SchemaEnvelope, decimal_format: DecimalFormat) -> JsonConverter {
    JsonConverter::new(JsonConverterConfig {
        schemas,
        decimal_format,
        ..Default::default()
    })
}

/// The payload written without any cache.
fn uncached(schema: &SchemaRef, value: &Value, decimals: DecimalFormat) -> Vec<u8> {
    let mut out = Vec::new();
    write_value(&mut out, schema, value, decimals, "payload").unwrap();
    out
}

fn payload(converter: &JsonConverter, schema: &SchemaRef, value: &Value) -> Vec<u8> {
    converter.to_bytes(Some(schema), value).unwrap().unwrap()
}

#[test]
fn a_shared_struct_written_again_gives_the_bytes_of_an_unshared_one() {
    let source_schema = source_schema();
    let schema = event_schema(&source_schema);
    let shared = source(&source_schema, 1, Some("orders"), Some(vec![0x04, 0xe2]));
    for decimals in [DecimalFormat::Base64, DecimalFormat::Numeric] {
        let payload_only = converter(SchemaEnvelope::PayloadOnly, decimals);
        let with_schema = converter(SchemaEnvelope::WithSchema, decimals);
        for id in 0..3 {
            // A fresh source nobody else holds, with the same values: never cached.
            let alone = event(
                &schema,
                id,
                source(&source_schema, 1, Some("orders"), Some(vec![0x04, 0xe2])),
            );
            let expected = uncached(&schema, &alone, decimals);
            let value = event(&schema, id, shared.clone());
            assert_eq!(payload(&payload_only, &schema, &value), expected);
            assert_eq!(payload(&payload_only, &schema, &alone), expected);
            let enveloped = payload(&with_schema, &schema, &value);
            assert!(
                enveloped.ends_with(&[b",\"payload\":", &expected[..], b"}"].concat()),
                "{}",
                String::from_utf8_lossy(&enveloped)
            );
            assert_eq!(enveloped, payload(&with_schema, &schema, &alone));
        }
        // Only the shared source was kept: not the per-event rows, not the fresh sources.
        assert_eq!(payload_only.shared.len(), 1);
        assert_eq!(with_schema.shared.len(), 1);
    }
}

#[test]
fn a_freed_struct_never_lends_its_bytes_to_a_new_one() {
    let source_schema = source_schema();
    let schema = event_schema(&source_schema);
    let converter = converter(SchemaEnvelope::PayloadOnly, DecimalFormat::Base64);
    // Many shared sources, each freed after its events: once evicted, their addresses are
    // free for the allocator to give to the next sources.
    for n in 0..200 {
        let table = format!("t{n}");
        let shared = source(&source_schema, n, Some(&table), Some(vec![n as u8]));
        for id in 0..2 {
            let value = event(&schema, id, shared.clone());
            assert_eq!(
                payload(&converter, &schema, &value),
                uncached(&schema, &value, DecimalFormat::Base64),
                "source {n}"
            );
        }
    }
    assert_eq!(converter.shared.len(), ENTRIES);
}

#[test]
fn a_changed_copy_of_a_cached_struct_is_written_with_its_own_values() {
    let source_schema = source_schema();
    let schema = event_schema(&source_schema);
    let converter = converter(SchemaEnvelope::PayloadOnly, DecimalFormat::Base64);
    let mut shared = source(&source_schema, 1, Some("orders"), None);
    let kept = shared.clone();
    payload(&converter, &schema, &event(&schema, 1, shared.clone()));
    // The cache holds a clone too, so this copies the values to a new address.
    shared.put("table", "last").unwrap();
    let value = event(&schema, 2, shared.clone());
    let written = payload(&converter, &schema, &value);
    assert_eq!(written, uncached(&schema, &value, DecimalFormat::Base64));
    assert!(String::from_utf8(written).unwrap().contains("\"last\""));
    drop(kept);
}

#[test]
fn entries_are_kept_apart_by_schema_and_decimal_format() {
    let source_schema = source_schema();
    let equal_schema = SchemaRef::new((*source_schema).clone());
    let value = source(&source_schema, 1, None, Some(vec![1]));
    let _other_holder = value.clone();
    let cache = SharedStructCache::default();
    let written = Cell::new(0);
    let write = |schema: &SchemaRef, decimals, marker: &[u8]| {
        let mut out = Vec::new();
        cache
            .write(&mut out, &value, schema, decimals, |out| {
                written.set(written.get() + 1);
                out.extend_from_slice(marker);
                Ok(())
            })
            .unwrap();
        out
    };
    assert_eq!(write(&source_schema, DecimalFormat::Base64, b"a"), b"a");
    assert_eq!(write(&equal_schema, DecimalFormat::Base64, b"b"), b"b");
    assert_eq!(write(&source_schema, DecimalFormat::Numeric, b"c"), b"c");
    assert_eq!(written.get(), 3);
    // Each again: from the cache, the writer not called.
    assert_eq!(write(&source_schema, DecimalFormat::Base64, b"x"), b"a");
    assert_eq!(write(&equal_schema, DecimalFormat::Base64, b"x"), b"b");
    assert_eq!(write(&source_schema, DecimalFormat::Numeric, b"x"), b"c");
    assert_eq!(written.get(), 3);
}

/// Writes `value` through `cache`, the writer appending `marker` (or panicking when `None`).
fn write_marked(cache: &SharedStructCache, out: &mut Vec<u8>, value: &Struct, marker: Option<u8>) {
    let schema = value.schema().clone();
    cache
        .write(out, value, &schema, DecimalFormat::Base64, |out| {
            out.push(marker.expect("the cached bytes, not the writer"));
            Ok(())
        })
        .unwrap();
}

#[test]
fn the_newest_shared_struct_stays_while_others_come_and_go() {
    let source_schema = source_schema();
    let value = source(&source_schema, 1, None, None);
    let _other_holder = value.clone();
    let cache = SharedStructCache::default();
    let mut out = Vec::new();
    write_marked(&cache, &mut out, &value, Some(b'1'));
    for n in 0..10 {
        // A struct seen once (a `before` row another clone holds), then the source again,
        // which structs seen once must not have evicted.
        let passing = source(&source_schema, n, None, None);
        write_marked(&cache, &mut out, &passing, Some(b'p'));
        write_marked(&cache, &mut out, &value, None);
    }
    assert_eq!(out, [&b"1"[..], &b"p1".repeat(10)].concat());
}

#[test]
fn a_struct_larger_than_an_entry_is_written_each_time() {
    let source_schema = source_schema();
    let table = "x".repeat(MAX_ENTRY_BYTES);
    let big = source(&source_schema, 1, Some(&table), None);
    let schema = event_schema(&source_schema);
    let converter = converter(SchemaEnvelope::PayloadOnly, DecimalFormat::Base64);
    let value = event(&schema, 1, big.clone());
    assert_eq!(
        payload(&converter, &schema, &value),
        uncached(&schema, &value, DecimalFormat::Base64)
    );
    assert_eq!(converter.shared.len(), 0);
}

#[test]
fn threads_sharing_one_converter_all_get_the_right_bytes() {
    let source_schema = source_schema();
    let schema = event_schema(&source_schema);
    let converter = converter(SchemaEnvelope::PayloadOnly, DecimalFormat::Numeric);
    let shared: Vec<Struct> = (0..2)
        .map(|n| source(&source_schema, n, Some("orders"), Some(vec![n as u8, 7])))
        .collect();
    std::thread::scope(|scope| {
        for thread in 0..4i64 {
            let (converter, schema, shared) = (&converter, &schema, &shared);
            let source_schema = &source_schema;
            scope.spawn(move || {
                for id in 0..300i64 {
                    // Mostly the shared sources (the cache is busy and often taken by another
                    // thread), now and then a fresh one.
                    let source = match id % 5 {
                        4 => source(source_schema, thread * 1000 + id, None, None),
                        pick => shared[(pick % 2) as usize].clone(),
                    };
                    let value = event(schema, id, source);
                    assert_eq!(
                        payload(converter, schema, &value),
                        uncached(schema, &value, DecimalFormat::Numeric),
                        "thread {thread}, event {id}"
                    );
                }
            });
        }
    });
}

proptest! {
    #[test]
    fn cached_output_equals_uncached_output(
        picks in prop::collection::vec((0usize..6, any::<i64>(), any::<bool>()), 1..40),
        numeric in any::<bool>(),
    ) {
        let decimals = if numeric { DecimalFormat::Numeric } else { DecimalFormat::Base64 };
        let source_schema = source_schema();
        let schema = event_schema(&source_schema);
        // Three shared sources; picks 3..6 build a fresh one per event.
        let shared: Vec<Struct> = (0..3)
            .map(|n| source(&source_schema, n, Some("t\"\n"), Some(vec![n as u8, 0xff])))
            .collect();
        let payload_only = converter(SchemaEnvelope::PayloadOnly, decimals);
        let with_schema = converter(SchemaEnvelope::WithSchema, decimals);
        for (pick, n, has_table) in picks {
            let table = has_table.then_some("orders");
            let source = match shared.get(pick) {
                Some(s) => s.clone(),
                None => source(&source_schema, n, table, (!has_table).then(|| n.to_be_bytes().to_vec())),
            };
            let value = event(&schema, n, source);
            let expected = uncached(&schema, &value, decimals);
            prop_assert_eq!(payload(&payload_only, &schema, &value), expected.clone());
            let enveloped = payload(&with_schema, &schema, &value);
            let tail = [b",\"payload\":", &expected[..], b"}"].concat();
            prop_assert!(enveloped.ends_with(&tail), "{}", String::from_utf8_lossy(&enveloped));
        }
    }
}
