//! The JSON converter alone on a PostgreSQL-like snapshot: 1M `op` `r` events (default; pass
//! another count as the first argument) of the `orders` table the snapshot benchmarks use, every
//! event carrying a clone of one `source` block, as a snapshot builds them.
//!
//! Each batch of events is written twice in the same run: by the converter (which keeps the
//! shared `source` block's bytes) and by the uncached payload writer (every field of every
//! event), and the thread's CPU time per event of each is printed. Only the writing is timed,
//! not the building of the events.
//!
//! Run: `cargo run --release -p sluice-schemas --example json_snapshot_rows [rows] [mode]`;
//! mode `compare` (default), or `payload` / `with-schema` to time that converter alone.

use std::hint::black_box;

use sluice_schemas::decimal::encode_decimal;
use sluice_schemas::envelope::{EpochNanos, Op, TableEnvelope};
use sluice_schemas::json::write::write_value;
use sluice_schemas::json::{DecimalFormat, JsonConverter, JsonConverterConfig, SchemaEnvelope};
use sluice_schemas::logical;
use sluice_schemas::schema::{INT64_SCHEMA, OPTIONAL_STRING_SCHEMA, SchemaRef};
use sluice_schemas::source::{SnapshotMarker, SourceCommon, SourceSchemaBuilder};
use sluice_schemas::{Struct, Value};

const BATCH: usize = 10_000;

fn table() -> TableEnvelope {
    let columns: Vec<(String, SchemaRef)> = vec![
        ("id".into(), INT64_SCHEMA.clone()),
        ("customer".into(), OPTIONAL_STRING_SCHEMA.clone()),
        (
            "amount".into(),
            logical::decimal_with_precision(10, 2).optional().build(),
        ),
        ("created".into(), logical::timestamp().optional().build()),
        ("note".into(), OPTIONAL_STRING_SCHEMA.clone()),
    ];
    TableEnvelope::new(
        "dbserver1.public.orders",
        &columns[..1],
        &columns,
        SourceSchemaBuilder::postgres(),
    )
}

fn source(t: &TableEnvelope) -> Struct {
    let common = SourceCommon {
        version: "0.1.0".into(),
        connector: "postgresql".into(),
        name: "dbserver1".into(),
        event_time_micros: 1_763_800_000_123_456,
        snapshot: SnapshotMarker::True,
        db: "postgres".into(),
        sequence: Some("[null,\"23456789\"]".into()),
    };
    common
        .to_struct(
            t.source_schema(),
            [
                ("schema", Value::from("public")),
                ("table", Value::from("orders")),
                ("txId", Value::Int64(771)),
                ("lsn", Value::Int64(23_456_789)),
            ],
        )
        .expect("source block")
}

fn event(t: &TableEnvelope, source: &Struct, id: i64) -> Value {
    let cents = (id % 10_000).to_string();
    let after = t
        .row(vec![
            Value::Int64(id),
            format!("customer-{}", id % 977).into(),
            Value::Bytes(encode_decimal(&format!("{cents}.00"), 2).expect("decimal")),
            Value::Int64(1_714_564_800_123 + id * 1000),
            "n".repeat(40).into(),
        ])
        .expect("row");
    let value = t
        .value(
            Op::Read,
            None,
            Some(after),
            source.clone(),
            EpochNanos(1_763_800_000_500_000_000 + id),
            None,
        )
        .expect("event");
    Value::Struct(value)
}

/// CPU time of the calling thread in nanoseconds.
fn thread_cpu_nanos() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    (t.tv_sec as u64) * 1_000_000_000 + t.tv_nsec as u64
}

/// What the run times (the second argument).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// `compare` (default): the converter (payload only) and the uncached writer, in turns.
    Compare,
    /// `payload` or `with-schema`: that converter alone (for a profiler).
    ConverterOnly(SchemaEnvelope),
}

fn main() {
    let rows: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("the row count, a number"))
        .unwrap_or(1_000_000);
    let mode = match std::env::args().nth(2).as_deref() {
        None | Some("compare") => Mode::Compare,
        Some("payload") => Mode::ConverterOnly(SchemaEnvelope::PayloadOnly),
        Some("with-schema") => Mode::ConverterOnly(SchemaEnvelope::WithSchema),
        Some(other) => panic!("unknown mode `{other}`: use compare, payload or with-schema"),
    };
    let t = table();
    let source = source(&t);
    let schema = t.envelope_schema().clone();
    let decimals = DecimalFormat::Base64;
    let converter = JsonConverter::new(JsonConverterConfig {
        schemas: match mode {
            Mode::Compare => SchemaEnvelope::PayloadOnly,
            Mode::ConverterOnly(schemas) => schemas,
        },
        decimal_format: decimals,
        ..Default::default()
    });
    let (mut cached_nanos, mut uncached_nanos, mut bytes) = (0u64, 0u64, 0usize);
    let mut out = Vec::with_capacity(1024);
    let mut done = 0;
    while done < rows {
        let count = BATCH.min(rows - done);
        let events: Vec<Value> = (done..done + count)
            .map(|id| event(&t, &source, id as i64))
            .collect();
        // Alternates which writer goes first, so neither always finds the batch warmer.
        let cached_first = (done / BATCH).is_multiple_of(2);
        for cached in [cached_first, !cached_first] {
            if mode != Mode::Compare && !cached {
                continue;
            }
            let started = thread_cpu_nanos();
            for value in &events {
                out.clear();
                if cached {
                    converter.write(Some(&schema), black_box(value), &mut out)
                } else {
                    write_value(&mut out, &schema, black_box(value), decimals, "payload")
                        .map(|()| true)
                }
                .expect("write");
                bytes = bytes.wrapping_add(black_box(out.len()) * usize::from(cached));
                bytes = bytes.wrapping_sub(out.len() * usize::from(!cached));
            }
            let spent = thread_cpu_nanos() - started;
            *if cached {
                &mut cached_nanos
            } else {
                &mut uncached_nanos
            } += spent;
        }
        done += count;
    }
    let per_row = |nanos: u64| nanos as f64 / rows as f64;
    match mode {
        Mode::Compare => {
            assert_eq!(bytes, 0, "cached and uncached writes differ in length");
            println!(
                "{rows} events: converter (shared source cached) {:.0} ns/event, uncached \
                 writer {:.0} ns/event, ratio {:.2}",
                per_row(cached_nanos),
                per_row(uncached_nanos),
                cached_nanos as f64 / uncached_nanos as f64
            );
        }
        Mode::ConverterOnly(schemas) => println!(
            "{rows} events: converter ({schemas:?}) {:.0} ns/event, {} bytes/event",
            per_row(cached_nanos),
            bytes / rows
        ),
    }
}
