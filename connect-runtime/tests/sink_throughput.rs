//! End-to-end sink throughput over a real broker: records produced to a 4-partition topic,
//! consumed by one sink task (fetch, JSON conversion, `put`, flush and group commits), with
//! every record checked to arrive once and in order per partition. Prints records per second;
//! `SINK_THROUGHPUT_RECORDS` sets the count (default 40,000; use `--release` for figures).

mod sink_support;
mod support;

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use serde_json::json;
use sink_support::{Shared, create_sink, create_topic, offsets_of, produce_records, registry};
use sluice_broker::Record;
use support::TestWorker;

const PARTITIONS: i32 = 4;
const PRODUCE_BATCH: usize = 1000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sink_task_consumes_every_record_once_in_order() {
    let total: usize = std::env::var("SINK_THROUGHPUT_RECORDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(40_000);
    let per_partition = total / PARTITIONS as usize;
    let shared = Shared::default();
    let worker =
        TestWorker::start_with(Arc::new(tempfile::tempdir().unwrap()), registry(&shared)).await;
    create_topic(&worker, "bulk", PARTITIONS as u32).await;
    for partition in 0..PARTITIONS {
        for start in (0..per_partition).step_by(PRODUCE_BATCH) {
            let records = (start..(start + PRODUCE_BATCH).min(per_partition))
                .map(|i| {
                    let value = json!(format!("{partition}-{i}")).to_string();
                    Record::new(None, Some(Bytes::from(value)))
                })
                .collect();
            produce_records(&worker, "bulk", partition, records).await;
        }
    }

    let started = Instant::now();
    create_sink(&worker, "bulk-sink", json!({"topics": "bulk"})).await;
    let expected = per_partition * PARTITIONS as usize;
    let deadline = started + std::time::Duration::from_secs(120);
    while shared.lock().received.len() < expected {
        assert!(Instant::now() < deadline, "records missing after 120 s");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    let rate = expected as f64 / elapsed.as_secs_f64();
    println!(
        "sink throughput: {expected} records in {:.3} s = {rate:.0} records/s",
        elapsed.as_secs_f64()
    );

    let received = shared.lock().received.clone();
    assert_eq!(received.len(), expected, "no record twice");
    for partition in 0..PARTITIONS {
        let offsets: Vec<i64> = received
            .iter()
            .filter(|r| r.partition == partition)
            .map(|r| r.offset)
            .collect();
        assert_eq!(offsets, (0..per_partition as i64).collect::<Vec<_>>());
    }
    worker
        .wait_for(
            "/connectors/bulk-sink/offsets",
            sink_support::WAIT,
            |body| offsets_of(body).iter().map(|o| o.2).sum::<i64>() == expected as i64,
        )
        .await;
    worker.shutdown().await;
}
