//! Benchmark: where the time of a binlog drain goes. Writes N rows into a harness MariaDB,
//! then times each stage of the MySQL source alone, in one process:
//!
//! - (a0) the raw replication stream (mysql_async, no decoding), as a floor;
//! - (a) [`BinlogClient`]: stream + our event decoding, keeping the decoded events;
//! - (b) [`ChangeBuilder`]: those events into change records (rows → structs, `source`
//!   block, offsets, envelopes);
//! - (c) the runtime's JSON converter over those records, with and without schemas.
//!
//! `cargo run --release -p sluice-mysql --example binlog_stages_bench [rows]` (default 500000).
//! - (c1) the runtime's conversion of polled batches (`SourcePipeline::prepare_batch`, offsets);
//! - (c2) the runtime's appender (dedup, durable broker append, offset commit).
//!
//! Each stage runs alone over the previous stage's output, so the sum is what one core
//! would spend; the real drain overlaps reader, task and appender on two cores.

#[path = "common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use mysql_async::BinlogStreamRequest;
use mysql_async::prelude::Queryable;
use sluice_broker::{Broker, BrokerConfig};
use sluice_connect::api::ConnectorTaskId;
use sluice_connect::api::SourceRecord;
use sluice_connect::config::Props;
use sluice_connect::converter::RecordConverters;
use sluice_connect::stores::OffsetStore;
use sluice_connect::worker::dedup::PositionFilter;
use sluice_connect::worker::metrics::TaskMetrics;
use sluice_connect::worker::pipeline::SourcePipeline;
use sluice_connect::worker::source_append::{Appender, Batch, PendingOffsets};
use sluice_mysql::config::SourceConfig;
use sluice_mysql::filters::TableFilter;
use sluice_mysql::flavour::ConnectorVariant;
use sluice_mysql::offset::{BinlogPosition, SourceOffset};
use sluice_mysql::source_info::SourceBuilder;
use sluice_mysql::stream::changes::ChangeBuilder;
use sluice_mysql::stream::client::{BinlogClient, LiveBody, LiveEvent};
use sluice_mysql::tables::TableFactory;
use sluice_schemas::registry::SchemaRegistry;

/// The real binary's allocator (root src/main.rs): allocation-heavy stages measured with
/// glibc malloc would mislead.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn report(stage: &str, took: Duration, rows: i64) {
    println!(
        "{stage:<58} {:>8.3} s {:>10.0} rows/s",
        took.as_secs_f64(),
        rows as f64 / took.as_secs_f64()
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rows = sluice_tests::bench_args::rows_arg(500_000)?;
    let (maria, mut conn) = common::start_shop().await?;
    common::insert_orders(&mut conn, rows).await?;
    let files = common::binlog_files(&mut conn).await?;
    anyhow::ensure!(files.len() == 1, "expected one binlog file, got {files:?}");
    let (file, size) = files[0].clone();
    println!(
        "binlog {file}: {:.1} MiB; load average {}",
        size as f64 / 1_048_576.0,
        common::load_average()
    );

    // (a0) The raw stream: events as mysql_async hands them over, nothing decoded.
    let started = Instant::now();
    let mut raw = mysql_async::Conn::new(maria.opts()).await?;
    raw.query_drop("SET @mariadb_slave_capability=4").await?;
    let mut stream = raw
        .get_binlog_stream(
            BinlogStreamRequest::new(7001)
                .with_filename(file.as_bytes())
                .with_pos(4u64),
        )
        .await?;
    let mut raw_bytes = 0u64;
    while let Some(event) = stream.next().await {
        let event = event?;
        raw_bytes += u64::from(event.header().event_size());
        if u64::from(event.header().log_pos()) >= size {
            break;
        }
    }
    drop(stream);
    report(
        "(a0) raw mysql_async binlog stream",
        started.elapsed(),
        rows,
    );
    println!("     {raw_bytes} bytes of events");

    let mut props = Props::new();
    for (key, value) in [
        ("connector.class", "mariadb".to_string()),
        ("database.hostname", maria.host().to_string()),
        ("database.port", maria.port().to_string()),
        ("database.user", maria.user().to_string()),
        ("database.password", maria.password().to_string()),
        ("database.server.id", "7002".to_string()),
        ("topic.prefix", "bench".to_string()),
        ("database.include.list", "shop".to_string()),
    ] {
        props.insert(key.to_string(), value);
    }
    let config = SourceConfig::parse(&props)?;

    // (a) Our client: the stream plus decoding into live events.
    let started = Instant::now();
    let from = BinlogPosition::new(file.clone(), 4);
    let mut client = BinlogClient::new(
        config.clone(),
        sluice_mysql::flavour::Flavour::MariaDb,
        "CRC32",
        from.clone(),
    );
    let mut events: Vec<LiveEvent> = Vec::new();
    let mut seen = 0i64;
    while seen < rows {
        let event = client.next_event().await?;
        if let LiveBody::Rows(rows_event) = &event.body {
            seen += rows_event.rows.len() as i64;
        }
        events.push(event);
    }
    drop(client);
    report("(a) BinlogClient: stream + decode", started.elapsed(), rows);

    // (b) Change records from the decoded events.
    let variant = ConnectorVariant::MariaDb;
    let source = SourceBuilder::new(variant, &config.topic_prefix);
    let tables = TableFactory::new(&config.topic_prefix, &props, source.schema().clone())?;
    let mut builder = ChangeBuilder::new(
        SourceOffset::partition(&config.topic_prefix),
        tables,
        TableFilter::from_props(&props)?,
        source,
        config.tombstones,
        config.include_query,
        &SourceOffset::at(from, None),
    );
    let started = Instant::now();
    let mut records: Vec<SourceRecord> = Vec::with_capacity(rows as usize);
    for event in events {
        builder.handle(event, &mut records)?;
    }
    report(
        "(b) ChangeBuilder: events → change records",
        started.elapsed(),
        rows,
    );
    anyhow::ensure!(records.len() as i64 == rows, "{} records", records.len());

    // (c) The runtime's JSON converter, key and value, into one reused buffer.
    for (label, schemas) in [("with schemas", "true"), ("schemas.enable=false", "false")] {
        let mut converter_props = Props::new();
        for part in ["key", "value"] {
            converter_props.insert(format!("{part}.converter.schemas.enable"), schemas.into());
        }
        let converters = RecordConverters::from_props(&converter_props, None)?;
        let started = Instant::now();
        let mut out = Vec::new();
        let mut bytes = 0usize;
        for record in &records {
            out.clear();
            converters
                .key
                .encode_into(&record.topic, &record.key, &mut out)
                .await?;
            converters
                .value
                .encode_into(&record.topic, &record.value, &mut out)
                .await?;
            bytes += out.len();
        }
        report(
            &format!("(c) JSON converter, {label}"),
            started.elapsed(),
            rows,
        );
        println!("     {:.0} bytes per record", bytes as f64 / rows as f64);
    }

    // (c1) The runtime's source half, as `SourceTaskRun::convert` does it per polled batch
    // (max.batch.size 2048): note each record's offset, run the (empty) transform chain
    // and the converters (JSON with schemas, the default), add the position headers.
    let pipeline =
        SourcePipeline::from_props(&Props::new(), &Arc::new(SchemaRegistry::in_memory()))?;
    let task_header = PositionFilter::new("bench-0@1").task_header().clone();
    let started = Instant::now();
    let mut batches = Vec::new();
    let mut records = records.into_iter().peekable();
    while records.peek().is_some() {
        let mut offsets = PendingOffsets::default();
        let polled: Vec<SourceRecord> = records.by_ref().take(2048).collect();
        for record in &polled {
            offsets.note_maps(&record.source_partition, &record.source_offset);
        }
        let prepared = pipeline
            .prepare_batch(polled, &task_header, |error| {
                panic!("a record failed its conversion: {error}")
            })
            .await?;
        batches.push(Batch {
            records: prepared,
            offsets: offsets.take(),
            newest_event_ms: None,
            permit: None,
            bytes: 0,
        });
    }
    report(
        "(c1) runtime convert: offsets noted + SourcePipeline::prepare_batch",
        started.elapsed(),
        rows,
    );

    // (c2) The runtime's appender: dedup by position, durable append, offset commits.
    let data = tempfile::tempdir()?;
    let broker = Broker::open(data.path(), BrokerConfig::default()).await?;
    let offset_store = Arc::new(OffsetStore::open(&broker).await?);
    let appender = Appender {
        id: ConnectorTaskId::new("bench", 0),
        broker: broker.clone(),
        offsets: offset_store,
        filter: PositionFilter::new("bench-0@1"),
        metrics: TaskMetrics::default(),
        offset_flush_interval: Duration::from_secs(60),
    };
    let (queue, queued) = tokio::sync::mpsc::channel(batches.len().max(1));
    let batch_count = batches.len();
    for batch in batches {
        queue.send(batch).await?;
    }
    drop(queue);
    let (acks, _acked) = tokio::sync::mpsc::unbounded_channel();
    let started = Instant::now();
    appender.run(queued, acks).await?;
    report(
        &format!("(c2) runtime appender: {batch_count} batches, durable"),
        started.elapsed(),
        rows,
    );
    conn.disconnect().await?;
    Ok(())
}
