//! Benchmark: the runtime's source path (poll → transforms → JSON converter with schemas →
//! durable broker append → offset commit), against appending the very same records to the
//! broker directly, in the same run.
//!
//! `cargo run --release -p sluice-connect --example source_path_bench [records] [batch]`
//! (defaults 1,000,000 and 2,000). The `sequence` source makes records as cheaply as a
//! source can, so the time it takes is what the runtime costs. The reference then reads the
//! records the worker stored (identical keys, values and headers) and appends them again to a
//! new topic in batches of the same size — the broker's own durable-append cost. The ratio of
//! the two is what the runtime adds on top of the broker.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sluice_broker::{
    Broker, BrokerConfig, FetchLimits, Offset, PartitionChoice, PartitionId, Record,
};
use sluice_connect::config::Props;
use sluice_connect::registry::ConnectorRegistry;
use sluice_connect::stores::TargetState;
use sluice_connect::stores::schemas::open_schema_registry;
use sluice_connect::worker::Worker;
use sluice_connect::worker_config::RuntimeSettings;

const TOPIC: &str = "bench.sequence";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let records: u64 = args
        .next()
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let batch: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(2_000);
    let dir = tempfile::tempdir()?;
    let broker = Broker::open(dir.path(), BrokerConfig::default()).await?;

    let runtime_secs = run_worker(&broker, records, batch).await?;
    let stored = read_back(&broker, records).await?;
    let reference_secs = append_directly(&broker, stored, batch).await?;

    let rate = |secs: f64| records as f64 / secs;
    println!("records: {records}, batch: {batch}, JSON converter with schemas, one partition");
    println!(
        "reference: broker append of the same records: {reference_secs:.3} s ({:.0} records/s)",
        rate(reference_secs)
    );
    println!(
        "runtime source path (sequence source):       {runtime_secs:.3} s ({:.0} records/s)",
        rate(runtime_secs)
    );
    println!(
        "ratio runtime / reference: {:.2}×",
        runtime_secs / reference_secs
    );
    Ok(())
}

/// Runs the sequence source until the topic holds `records`; returns the seconds it took.
async fn run_worker(
    broker: &Broker,
    records: u64,
    batch: usize,
) -> Result<f64, Box<dyn std::error::Error>> {
    let mut registry = ConnectorRegistry::new();
    sluice_connect::builtin::register(&mut registry)?;
    let schema_registry = open_schema_registry(broker).await?;
    let worker = Worker::open(
        broker.clone(),
        Arc::new(registry),
        "bench".into(),
        RuntimeSettings::default(),
        schema_registry,
    )
    .await?;
    let mut props = Props::new();
    for (key, value) in [
        (
            "connector.class",
            "io.sluice.connect.SequenceSourceConnector",
        ),
        ("topic", TOPIC),
        ("sequence.count", &records.to_string()),
        ("sequence.batch.size", &batch.to_string()),
        ("sequence.payload.bytes", "64"),
    ] {
        props.insert(key.into(), value.into());
    }
    let started = Instant::now();
    worker.create("bench", props, TargetState::Started).await?;
    wait_for_end(broker, TOPIC, records).await?;
    let secs = started.elapsed().as_secs_f64();
    worker.shutdown().await;
    Ok(secs)
}

async fn wait_for_end(
    broker: &Broker,
    topic: &str,
    records: u64,
) -> Result<(), Box<dyn std::error::Error>> {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        if let Ok(log) = broker.partition_log(topic, PartitionId(0))
            && log.high_watermark().0 >= records as i64
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("{topic} did not reach {records} records in 600 s").into());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// The records the worker stored, in order.
async fn read_back(
    broker: &Broker,
    records: u64,
) -> Result<Vec<Record>, Box<dyn std::error::Error>> {
    let mut stored = Vec::with_capacity(records as usize);
    let mut offset = Offset(0);
    let limits = FetchLimits {
        max_bytes: 8 << 20,
        max_records: 100_000,
        max_wait: Duration::ZERO,
    };
    while (stored.len() as u64) < records {
        let fetched = broker.fetch(TOPIC, PartitionId(0), offset, limits).await?;
        offset = fetched.next_offset;
        stored.extend(fetched.records.into_iter().map(|r| r.record));
    }
    Ok(stored)
}

/// Appends `stored` to a fresh topic in batches of `batch`; returns the seconds it took.
async fn append_directly(
    broker: &Broker,
    stored: Vec<Record>,
    batch: usize,
) -> Result<f64, Box<dyn std::error::Error>> {
    let mut batches = Vec::with_capacity(stored.len() / batch + 1);
    let mut rest = stored.into_iter();
    loop {
        let next: Vec<Record> = rest.by_ref().take(batch).collect();
        if next.is_empty() {
            break;
        }
        batches.push(next);
    }
    let started = Instant::now();
    for records in batches {
        broker
            .produce(
                "bench.reference",
                PartitionChoice::Explicit(PartitionId(0)),
                records,
            )
            .await?;
    }
    Ok(started.elapsed().as_secs_f64())
}
