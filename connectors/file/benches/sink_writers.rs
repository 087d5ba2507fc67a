//! File sink throughput: 1,000,000 Debezium change events (a 10-column `orders` row with a
//! decimal, a date, timestamps and JSON; Postgres source block) written through the sink's
//! changelog writer (`ChangelogPartition`: event reading, column mapping, the format writer,
//! then finish + fsync + rename) into one file per format with its default compression.
//! Run: `cargo bench -p sluice-file --bench sink_writers`.
//!
//! Times are the benchmark thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), so other work on
//! a shared machine does not inflate them (waiting for the disk is not counted either); the
//! bench also prints each file's size and the wall time of one run, for MB/s.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sluice_broker::{Offset, PartitionId};
use sluice_connect::api::{Headers, SchemaAndValue, SinkRecord};
use sluice_file::changelog::ChangelogPartition;
use sluice_file::config::{Compression, FileSinkConfig, Format, Mode, PartitionBy};
use sluice_file::event::Change;
use sluice_file::naming::UtcOffset;
use sluice_schemas::decimal::encode_decimal;
use sluice_schemas::envelope::{EpochNanos, Op, TableEnvelope};
use sluice_schemas::logical;
use sluice_schemas::schema::{
    BOOLEAN_SCHEMA, INT32_SCHEMA, INT64_SCHEMA, OPTIONAL_STRING_SCHEMA, STRING_SCHEMA, SchemaRef,
};
use sluice_schemas::source::{SnapshotMarker, SourceCommon, SourceSchemaBuilder};
use sluice_schemas::{Value, logical::json};

const EVENTS: usize = 1_000_000;
/// Distinct events cycled through (building a million envelopes would measure the builder).
const POOL: usize = 1024;

fn table() -> TableEnvelope {
    let columns: Vec<(String, SchemaRef)> = vec![
        ("id".into(), INT64_SCHEMA.clone()),
        ("customer".into(), STRING_SCHEMA.clone()),
        ("email".into(), OPTIONAL_STRING_SCHEMA.clone()),
        (
            "price".into(),
            logical::decimal_with_precision(10, 2).build(),
        ),
        ("quantity".into(), INT32_SCHEMA.clone()),
        ("ordered_on".into(), logical::date().build()),
        ("created_at".into(), logical::micro_timestamp().build()),
        (
            "updated_at".into(),
            logical::zoned_timestamp().optional().build(),
        ),
        ("paid".into(), BOOLEAN_SCHEMA.clone()),
        ("attributes".into(), json().optional().build()),
    ];
    TableEnvelope::new(
        "dbserver1.public.orders",
        &columns[..1],
        &columns,
        SourceSchemaBuilder::postgres(),
    )
}

fn records() -> Vec<SinkRecord> {
    let t = table();
    (0..POOL)
        .map(|i| {
            let row = t
                .row(vec![
                    Value::Int64(10_000 + i as i64),
                    format!("customer {i}").into(),
                    format!("c{i}@example.com").into(),
                    Value::Bytes(encode_decimal(&format!("{}.{:02}", i * 3, i % 100), 2).unwrap()),
                    Value::Int32((i % 17) as i32),
                    Value::Int32(19_000 + (i % 365) as i32),
                    Value::Int64(1_700_000_000_123_456 + i as i64 * 1_000_003),
                    "2023-11-14T22:13:20.123456Z".into(),
                    Value::Boolean(i % 3 == 0),
                    r#"{"gift":true,"note":"leave at door"}"#.into(),
                ])
                .unwrap();
            let common = SourceCommon {
                version: "0.1.0".into(),
                connector: "postgresql".into(),
                name: "dbserver1".into(),
                event_time_micros: 1_700_000_000_000_000 + i as i64,
                snapshot: SnapshotMarker::False,
                db: "shop".into(),
                sequence: None,
            };
            let source = common
                .to_struct(
                    t.source_schema(),
                    [
                        ("schema", Value::from("public")),
                        ("table", Value::from("orders")),
                        ("lsn", Value::Int64(0x1_0000_0000 + i as i64)),
                    ],
                )
                .unwrap();
            let value = t
                .value(
                    Op::Update,
                    None,
                    Some(row),
                    source,
                    EpochNanos(1_700_000_000_000_000_000),
                    None,
                )
                .unwrap();
            let key = t.key(vec![Value::Int64(10_000 + i as i64)]).unwrap();
            SinkRecord {
                topic: "dbserver1.public.orders".into(),
                partition: PartitionId(0),
                offset: Offset(i as i64),
                key: SchemaAndValue::with_schema(t.key_schema().unwrap().clone(), key),
                value: SchemaAndValue::with_schema(t.envelope_schema().clone(), value),
                headers: Headers::new(),
                timestamp_ms: 1_700_000_000_000,
            }
        })
        .collect()
}

fn config(dir: &std::path::Path, format: Format) -> FileSinkConfig {
    FileSinkConfig {
        path: dir.to_path_buf(),
        format,
        mode: Mode::Changelog,
        flush_size: u64::MAX,
        rotate_interval: Duration::from_secs(86_400),
        file_size_max_bytes: u64::MAX,
        partition_by: PartitionBy::None,
        timezone: UtcOffset::default(),
        compression: match format {
            Format::Parquet => Compression::Snappy,
            Format::Avro | Format::JsonLines => Compression::None,
        },
    }
}

fn thread_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// Writes EVENTS changes into one committed file; returns its size in bytes.
fn write_file(records: &[SinkRecord], dir: &std::path::Path, format: Format) -> u64 {
    let config = config(dir, format);
    let mut partition = ChangelogPartition::new("dbserver1.public.orders", 0);
    for i in 0..EVENTS {
        let record = &records[i % POOL];
        let change = Change::of(black_box(record)).unwrap();
        partition.append(&config, &change).unwrap();
    }
    let done = FileSinkConfig {
        rotate_interval: Duration::ZERO,
        ..config
    };
    partition.rotate_if_due(&done).unwrap();
    let files = partition.take_committed();
    let size = std::fs::metadata(&files[0]).unwrap().len();
    std::fs::remove_file(&files[0]).unwrap();
    size
}

fn bench(c: &mut Criterion) {
    let records = records();
    let dir = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("file_sink_1M_events");
    group.sample_size(10);
    group.throughput(Throughput::Elements(EVENTS as u64));
    for format in [Format::Parquet, Format::JsonLines, Format::Avro] {
        let wall = Instant::now();
        let cpu = thread_cpu();
        let size = write_file(&records, dir.path(), format);
        let (wall, cpu) = (wall.elapsed(), thread_cpu() - cpu);
        eprintln!(
            "{}: {:.1} MB file; one run: {:.2} s wall ({:.0} events/s, {:.1} MB/s), {:.2} s cpu ({:.0} events/s, {:.1} MB/s)",
            format.extension(),
            size as f64 / 1e6,
            wall.as_secs_f64(),
            EVENTS as f64 / wall.as_secs_f64(),
            size as f64 / 1e6 / wall.as_secs_f64(),
            cpu.as_secs_f64(),
            EVENTS as f64 / cpu.as_secs_f64(),
            size as f64 / 1e6 / cpu.as_secs_f64(),
        );
        group.bench_function(format.extension(), |b| {
            b.iter_custom(|iterations| {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    let started = thread_cpu();
                    black_box(write_file(&records, dir.path(), format));
                    total += thread_cpu() - started;
                }
                total
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
