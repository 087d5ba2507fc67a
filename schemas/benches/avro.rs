//! Avro serialization of a realistic change event: a Debezium-style update (before/after rows of
//! a 12-column table, the Postgres source block, op and timestamps), Confluent-framed, through
//! the converter's cached path (schema id looked up per event) and the bare datum encoder.
//!
//! Run: `cargo bench -p sluice-schemas --bench avro`
//!
//! Criterion reports wall time; on a shared machine that undercounts what one core does, so the
//! bench also prints events per CPU-second of the benchmark thread (`/proc/thread-self/schedstat`).

#[path = "../tests/avro_support/mod.rs"]
mod avro_support;

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sluice_schemas::avro::{AvroConverter, Registration, write_framed};
use sluice_schemas::registry::{EmbeddedRegistryClient, RecordPart, SchemaId, SchemaRegistry};

const BATCH: u64 = 1_000;

/// CPU time the calling thread has run, in nanoseconds (the scheduler's `sum_exec_runtime`).
fn thread_cpu_nanos() -> u64 {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    text.split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Runs `work` for `events` events and prints events per CPU-second of this thread.
fn print_cpu_throughput(name: &str, events: u64, mut work: impl FnMut()) {
    let start = thread_cpu_nanos();
    for _ in 0..events {
        work();
    }
    let nanos = thread_cpu_nanos().saturating_sub(start).max(1);
    println!(
        "{name}: {:.0} events per CPU-second",
        events as f64 * 1e9 / nanos as f64
    );
}

fn bench_avro(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let registry = Arc::new(SchemaRegistry::in_memory());
    let converter = AvroConverter::new(
        Arc::new(EmbeddedRegistryClient::new(registry)),
        RecordPart::Value,
        Registration::AutoRegister,
    );
    let schemas = avro_support::change_event_schemas();
    let event = avro_support::change_event(&schemas, 1);
    let topic = "dbserver1.inventory.orders";
    let mut buffer = Vec::with_capacity(1024);
    runtime
        .block_on(converter.from_connect_into(topic, &schemas.envelope, &event, &mut buffer))
        .unwrap();
    let event_size = buffer.len();

    runtime.block_on(async {
        let start = thread_cpu_nanos();
        for _ in 0..500_000 {
            buffer.clear();
            converter
                .from_connect_into(topic, &schemas.envelope, &event, &mut buffer)
                .await
                .unwrap();
            black_box(&buffer);
        }
        let nanos = thread_cpu_nanos().saturating_sub(start).max(1);
        println!(
            "converter_from_connect_into: {:.0} events per CPU-second",
            5e5 * 1e9 / nanos as f64
        );
    });
    print_cpu_throughput("encode_framed_datum", 500_000, || {
        buffer.clear();
        write_framed(
            SchemaId(1),
            &schemas.envelope,
            black_box(&event),
            &mut buffer,
        )
        .unwrap();
        black_box(&buffer);
    });
    let framed = buffer.clone();
    runtime.block_on(async {
        let start = thread_cpu_nanos();
        for _ in 0..200_000 {
            black_box(converter.to_connect(black_box(&framed)).await.unwrap());
        }
        let nanos = thread_cpu_nanos().saturating_sub(start).max(1);
        println!(
            "converter_to_connect: {:.0} events per CPU-second",
            2e5 * 1e9 / nanos as f64
        );
    });

    let mut group = c.benchmark_group(format!("avro_change_event_{event_size}B"));
    group.throughput(Throughput::Elements(BATCH));
    group.bench_function("converter_from_connect_into", |b| {
        b.iter(|| {
            runtime.block_on(async {
                for _ in 0..BATCH {
                    buffer.clear();
                    converter
                        .from_connect_into(topic, &schemas.envelope, black_box(&event), &mut buffer)
                        .await
                        .unwrap();
                    black_box(&buffer);
                }
            })
        })
    });
    group.bench_function("encode_framed_datum", |b| {
        b.iter(|| {
            for _ in 0..BATCH {
                buffer.clear();
                write_framed(
                    SchemaId(1),
                    &schemas.envelope,
                    black_box(&event),
                    &mut buffer,
                )
                .unwrap();
                black_box(&buffer);
            }
        })
    });
    group.bench_function("converter_to_connect", |b| {
        b.iter(|| {
            runtime.block_on(async {
                for _ in 0..BATCH {
                    black_box(converter.to_connect(black_box(&framed)).await.unwrap());
                }
            })
        })
    });
    group.finish();
}

criterion_group!(benches, bench_avro);
criterion_main!(benches);
