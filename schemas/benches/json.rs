//! JSON serialization of a realistic 12-column Debezium change event (an update with before and
//! after), with and without schemas, against serde_json writing the same payload from a prebuilt
//! `serde_json::Value` (the reference, measured in the same run).
//! Run: `cargo bench -p sluice-schemas --bench json`.
//!
//! Times are the benchmark thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), not wall time,
//! so that other work on a shared machine does not inflate them; events/s per core follow.

use std::hint::black_box;

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sluice_schemas::decimal::encode_decimal;
use sluice_schemas::envelope::{EpochNanos, Op, TableEnvelope};
use sluice_schemas::json::{DecimalFormat, JsonConverter, JsonConverterConfig, SchemaEnvelope};
use sluice_schemas::logical;
use sluice_schemas::schema::{
    BOOLEAN_SCHEMA, INT32_SCHEMA, INT64_SCHEMA, OPTIONAL_FLOAT64_SCHEMA, OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA, SchemaRef,
};
use sluice_schemas::source::{SnapshotMarker, SourceCommon, SourceSchemaBuilder};
use sluice_schemas::{Struct, Value};

fn table() -> TableEnvelope {
    let columns: Vec<(String, SchemaRef)> = vec![
        ("id".into(), INT32_SCHEMA.clone()),
        ("customer_id".into(), INT64_SCHEMA.clone()),
        ("name".into(), STRING_SCHEMA.clone()),
        ("email".into(), OPTIONAL_STRING_SCHEMA.clone()),
        (
            "price".into(),
            logical::decimal_with_precision(10, 2).build(),
        ),
        ("quantity".into(), INT32_SCHEMA.clone()),
        ("created_at".into(), logical::micro_timestamp().build()),
        (
            "updated_at".into(),
            logical::zoned_timestamp().optional().build(),
        ),
        ("active".into(), BOOLEAN_SCHEMA.clone()),
        ("attributes".into(), logical::json().optional().build()),
        (
            "status".into(),
            logical::enumeration(&["new", "paid", "shipped"]).build(),
        ),
        ("score".into(), OPTIONAL_FLOAT64_SCHEMA.clone()),
    ];
    TableEnvelope::new(
        "dbserver1.inventory.orders",
        &columns[..1],
        &columns,
        SourceSchemaBuilder::mysql(),
    )
}

fn row(t: &TableEnvelope, quantity: i32, status: &str) -> Struct {
    t.row(vec![
        Value::Int32(10_042),
        Value::Int64(1_000_000_123),
        "Sally Thomas".into(),
        "sally.thomas@acme.com".into(),
        Value::Bytes(encode_decimal("1234.50", 2).unwrap()),
        Value::Int32(quantity),
        Value::Int64(1_700_000_000_123_456),
        "2023-11-14T22:13:20.123456Z".into(),
        Value::Boolean(true),
        r#"{"gift":true,"note":"leave at door"}"#.into(),
        status.into(),
        Value::Float64(4.75),
    ])
    .unwrap()
}

fn source(t: &TableEnvelope) -> Struct {
    let common = SourceCommon {
        version: "0.1.0".into(),
        connector: "mysql".into(),
        name: "dbserver1".into(),
        event_time_micros: 1_700_000_000_000_000,
        snapshot: SnapshotMarker::False,
        db: "inventory".into(),
        sequence: None,
    };
    common
        .to_struct(
            t.source_schema(),
            [
                ("table", Value::from("orders")),
                ("server_id", Value::Int64(223_344)),
                ("file", Value::from("mysql-bin.000003")),
                ("pos", Value::Int64(484)),
                ("row", Value::Int32(0)),
                ("thread", Value::Int64(7)),
            ],
        )
        .unwrap()
}

fn event(t: &TableEnvelope) -> Struct {
    let source = source(t);
    let before = row(t, 1, "new");
    let after = row(t, 2, "paid");
    t.value(
        Op::Update,
        Some(before),
        Some(after),
        source,
        EpochNanos(1_700_000_000_500_000_000),
        None,
    )
    .unwrap()
}

/// CPU time of the calling thread in nanoseconds (`CLOCK_THREAD_CPUTIME_ID`).
fn thread_cpu_nanos() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    (t.tv_sec as u64) * 1_000_000_000 + t.tv_nsec as u64
}

/// Criterion measurement of thread CPU time, formatted like wall time.
struct ThreadCpuTime;

impl Measurement for ThreadCpuTime {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        thread_cpu_nanos()
    }
    fn end(&self, started: u64) -> u64 {
        thread_cpu_nanos().saturating_sub(started)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, value: &u64) -> f64 {
        *value as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        WallTime.formatter()
    }
}

fn bench(c: &mut Criterion<ThreadCpuTime>) {
    let t = table();
    let value = Value::Struct(event(&t));
    let schema = t.envelope_schema().clone();
    let mut group = c.benchmark_group("json_change_event");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(std::time::Duration::from_secs(4));
    group.warm_up_time(std::time::Duration::from_secs(1));
    for (label, schemas) in [
        ("payload_only", SchemaEnvelope::PayloadOnly),
        ("with_schema", SchemaEnvelope::WithSchema),
    ] {
        let converter = JsonConverter::new(JsonConverterConfig {
            schemas,
            decimal_format: DecimalFormat::Base64,
            ..Default::default()
        });
        let mut out = Vec::with_capacity(8192);
        converter.write(Some(&schema), &value, &mut out).unwrap();
        eprintln!("{label}: {} bytes per event", out.len());
        group.bench_function(label, |b| {
            b.iter(|| {
                out.clear();
                converter
                    .write(Some(black_box(&schema)), black_box(&value), &mut out)
                    .unwrap();
                black_box(out.len())
            })
        });
    }
    // Reference in the same run: serde_json writing the same payload from a prebuilt
    // `serde_json::Value` tree (no schema lookups, no Connect logic): the cost floor of a
    // general-purpose JSON writer for these bytes.
    let mut payload = Vec::new();
    JsonConverter::new(JsonConverterConfig {
        schemas: SchemaEnvelope::PayloadOnly,
        ..Default::default()
    })
    .write(Some(&schema), &value, &mut payload)
    .unwrap();
    let tree: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    let mut out = Vec::with_capacity(8192);
    group.bench_function("reference_serde_json_value", |b| {
        b.iter(|| {
            out.clear();
            serde_json::to_writer(&mut out, black_box(&tree)).unwrap();
            black_box(out.len())
        })
    });
    group.finish();
}

/// Writing events whose values are not in the CPU caches, as the converter thread finds the
/// events a source thread built: 65,536 distinct snapshot events (~80 MiB, more than the last-level
/// cache) written in a scattered order, so each event's structs, strings and bytes are fetched
/// from memory.
fn bench_cold(c: &mut Criterion<ThreadCpuTime>) {
    const EVENTS: usize = 65_536;
    // Visits the events in a scattered order (an odd stride is a permutation of 0..2^16), so
    // the hardware prefetcher cannot stream the next event's allocations in ahead of time.
    const SCATTER: usize = 40_503;
    let t = table();
    let events: Vec<Value> = (0..EVENTS)
        .map(|i| {
            let after = row(&t, i as i32, "paid");
            let event = t
                .value(
                    Op::Read,
                    None,
                    Some(after),
                    source(&t),
                    EpochNanos(1_700_000_000_500_000_000),
                    None,
                )
                .unwrap();
            Value::Struct(event)
        })
        .collect();
    let schema = t.envelope_schema().clone();
    let converter = JsonConverter::new(JsonConverterConfig {
        schemas: SchemaEnvelope::PayloadOnly,
        decimal_format: DecimalFormat::Base64,
        ..Default::default()
    });
    let mut group = c.benchmark_group("json_cold_events");
    group.throughput(Throughput::Elements(EVENTS as u64));
    group.sample_size(10);
    group.measurement_time(std::time::Duration::from_secs(6));
    group.warm_up_time(std::time::Duration::from_secs(1));
    let mut out = Vec::with_capacity(1024);
    group.bench_function("payload_only_read_events", |b| {
        b.iter(|| {
            let mut bytes = 0;
            for i in 0..EVENTS {
                let value = &events[i * SCATTER % EVENTS];
                out.clear();
                converter.write(Some(&schema), value, &mut out).unwrap();
                bytes += out.len();
            }
            black_box(bytes)
        })
    });
    group.finish();
}

/// What a snapshot does per row besides writing JSON: builds the row struct, clones the table's
/// `source` block, wraps both in an envelope, and drops the event after conversion.
fn bench_build(c: &mut Criterion<ThreadCpuTime>) {
    let t = table();
    let source = source(&t);
    let mut group = c.benchmark_group("change_event_values");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(std::time::Duration::from_secs(4));
    group.warm_up_time(std::time::Duration::from_secs(1));
    group.bench_function("build_and_drop_read_event", |b| {
        b.iter(|| {
            let after = row(black_box(&t), 2, "paid");
            let event = t
                .value(
                    Op::Read,
                    None,
                    Some(after),
                    black_box(&source).clone(),
                    EpochNanos(1_700_000_000_500_000_000),
                    None,
                )
                .unwrap();
            drop(black_box(event));
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = bench, bench_build, bench_cold
}
criterion_main!(benches);
