//! Sink error handling over a real broker and real HTTP: `errors.tolerance=none` fails the
//! task with a trace naming the problem, `all` skips bad records (to the dead-letter topic
//! with Kafka Connect's context headers when configured), records the task reports as
//! errant, and retries of a failing `put`.

mod sink_support;
mod support;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::json;
use sink_support::{
    Shared, create_sink, create_topic, offsets_of, produce, produce_records, registry, string,
    task_state, wait_for_sink,
};
use sluice_broker::{FetchLimits, FetchedRecord, Header, Offset, PartitionId, Record};
use support::TestWorker;

async fn start(shared: &Shared) -> TestWorker {
    TestWorker::start_with(Arc::new(tempfile::tempdir().unwrap()), registry(shared)).await
}

/// A JSON-with-schema string value, as the JSON converter with schemas writes it.
fn with_schema(text: &str) -> Record {
    let value = json!({"schema": {"type": "string", "optional": false}, "payload": text});
    Record::new(None, Some(Bytes::from(value.to_string())))
}

/// `a`, then a record that is not JSON (key `k`, header `h: v`), then `c`.
async fn produce_good_bad_good(worker: &TestWorker) {
    let mut bad = Record::new(Some(Bytes::from("k")), Some(Bytes::from("not json")));
    bad.headers.push(Header {
        key: "h".into(),
        value: Some(Bytes::from("v")),
    });
    produce_records(
        worker,
        "t",
        0,
        vec![with_schema("a"), bad, with_schema("c")],
    )
    .await;
}

async fn dead_letters(worker: &TestWorker, count: usize) -> Vec<FetchedRecord> {
    let broker = worker.worker.broker();
    let deadline = std::time::Instant::now() + sink_support::WAIT;
    loop {
        if broker.topic("dlq").is_ok() {
            let limits = FetchLimits {
                max_wait: Duration::from_millis(100),
                ..FetchLimits::default()
            };
            let fetched = broker
                .fetch("dlq", PartitionId(0), Offset(0), limits)
                .await
                .unwrap();
            if fetched.records.len() >= count {
                return fetched.records;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no dead-letter records"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn header<'a>(record: &'a FetchedRecord, key: &str) -> &'a str {
    let header = record.record.headers.iter().rev().find(|h| h.key == key);
    header
        .and_then(|h| h.value.as_deref())
        .and_then(|v| std::str::from_utf8(v).ok())
        .unwrap_or_else(|| panic!("no header {key} in {record:?}"))
}

fn schema_config(extra: serde_json::Value) -> serde_json::Value {
    let mut config = json!({"topics": "t", "value.converter.schemas.enable": "true"});
    for (key, value) in extra.as_object().unwrap() {
        config[key] = value.clone();
    }
    config
}

/// A worker running sink `s` (JSON with schemas, plus `extra`) over `a`, a bad record, `c`.
async fn sink_over_a_bad_record(extra: serde_json::Value) -> (Shared, TestWorker) {
    let shared = Shared::default();
    let worker = start(&shared).await;
    create_topic(&worker, "t", 1).await;
    produce_good_bad_good(&worker).await;
    create_sink(&worker, "s", schema_config(extra)).await;
    (shared, worker)
}

/// Waits for task 0 of `s` to fail and returns its trace.
async fn failed_trace(worker: &TestWorker) -> String {
    let status = worker
        .wait_for("/connectors/s/status", sink_support::WAIT, |s| {
            task_state(s) == "FAILED"
        })
        .await;
    status["tasks"][0]["trace"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_bad_record_goes_to_the_dead_letter_topic_with_context_headers() {
    let (shared, worker) = sink_over_a_bad_record(json!({
        "errors.tolerance": "all",
        "errors.deadletterqueue.topic.name": "dlq",
        "errors.deadletterqueue.context.headers.enable": "true",
    }))
    .await;
    wait_for_sink(&shared, "the two good records", |s| s.received.len() == 2).await;
    let values: Vec<_> = shared
        .lock()
        .received
        .iter()
        .map(|r| (r.offset, r.value.clone()))
        .collect();
    assert_eq!(values, [(0, string("a")), (2, string("c"))]);

    let dead = dead_letters(&worker, 1).await;
    assert_eq!(dead.len(), 1);
    let record = &dead[0];
    assert_eq!(
        record.record.key.as_deref(),
        Some(&b"k"[..]),
        "original key"
    );
    assert_eq!(
        record.record.value.as_deref(),
        Some(&b"not json"[..]),
        "original value"
    );
    assert_eq!(header(record, "h"), "v", "original headers are kept");
    assert_eq!(header(record, "__connect.errors.topic"), "t");
    assert_eq!(header(record, "__connect.errors.partition"), "0");
    assert_eq!(header(record, "__connect.errors.offset"), "1");
    assert_eq!(header(record, "__connect.errors.connector.name"), "s");
    assert_eq!(header(record, "__connect.errors.task.id"), "0");
    assert_eq!(header(record, "__connect.errors.stage"), "VALUE_CONVERTER");
    assert_eq!(
        header(record, "__connect.errors.exception.class.name"),
        "org.apache.kafka.connect.errors.DataException"
    );
    let message = header(record, "__connect.errors.exception.message");
    assert!(message.contains("cannot convert the value"), "{message}");

    worker
        .wait_for("/connectors/s/offsets", sink_support::WAIT, |body| {
            offsets_of(body) == [("t".to_string(), 0, 3)]
        })
        .await;
    let (_, status) = worker.get("/connectors/s/status").await;
    assert_eq!(task_state(&status), "RUNNING", "{status}");
    worker.shutdown().await;
}

#[tokio::test]
async fn without_context_headers_the_dead_letter_copy_is_the_original_record() {
    let (_shared, worker) = sink_over_a_bad_record(json!({
        "errors.tolerance": "all",
        "errors.deadletterqueue.topic.name": "dlq",
    }))
    .await;
    let dead = dead_letters(&worker, 1).await;
    let headers: Vec<_> = dead[0].record.headers.iter().map(|h| &*h.key).collect();
    assert_eq!(headers, ["h"]);
    worker.shutdown().await;
}

#[tokio::test]
async fn with_tolerance_none_a_bad_record_fails_the_task_naming_the_problem() {
    let (shared, worker) = sink_over_a_bad_record(json!({})).await;
    let trace = failed_trace(&worker).await;
    assert!(
        trace.contains("cannot convert the value of a record of topic \"t\""),
        "{trace}"
    );
    assert!(
        shared.lock().received.iter().all(|r| r.offset < 1),
        "nothing after the bad record reaches the sink"
    );
    let (_, offsets) = worker.get("/connectors/s/offsets").await;
    assert!(
        offsets_of(&offsets)
            .iter()
            .all(|(_, _, offset)| *offset <= 1),
        "nothing past the bad record is committed: {offsets}"
    );
    worker.shutdown().await;
}

#[tokio::test]
async fn with_tolerance_all_and_no_dead_letter_topic_bad_records_are_skipped() {
    let (shared, worker) = sink_over_a_bad_record(json!({"errors.tolerance": "all"})).await;
    wait_for_sink(&shared, "the two good records", |s| s.received.len() == 2).await;
    worker
        .wait_for("/connectors/s/offsets", sink_support::WAIT, |body| {
            offsets_of(body) == [("t".to_string(), 0, 3)]
        })
        .await;
    assert!(worker.worker.broker().topic("dlq").is_err());
    worker.shutdown().await;
}

#[tokio::test]
async fn records_the_task_reports_as_errant_go_to_the_dead_letter_topic() {
    let shared = Shared::default();
    shared.lock().errant_values = vec!["bad".into()];
    let worker = start(&shared).await;
    create_topic(&worker, "t", 1).await;
    produce(&worker, "t", 0, &["a", "bad", "c"]).await;
    let config = json!({
        "topics": "t",
        "errors.tolerance": "all",
        "errors.deadletterqueue.topic.name": "dlq",
        "errors.deadletterqueue.context.headers.enable": "true",
    });
    create_sink(&worker, "s", config).await;
    let dead = dead_letters(&worker, 1).await;
    assert_eq!(dead[0].record.value.as_deref(), Some(&b"\"bad\""[..]));
    assert_eq!(header(&dead[0], "__connect.errors.stage"), "TASK_PUT");
    assert_eq!(header(&dead[0], "__connect.errors.offset"), "1");
    let message = header(&dead[0], "__connect.errors.exception.message");
    assert!(message.contains("told to fail this record"), "{message}");
    wait_for_sink(&shared, "the good records", |s| s.received.len() == 2).await;
    worker.shutdown().await;
}

#[tokio::test]
async fn an_errant_record_without_tolerance_fails_the_task() {
    let shared = Shared::default();
    shared.lock().errant_values = vec!["bad".into()];
    let worker = start(&shared).await;
    create_topic(&worker, "t", 1).await;
    produce(&worker, "t", 0, &["a", "bad"]).await;
    create_sink(&worker, "s", json!({"topics": "t"})).await;
    let trace = failed_trace(&worker).await;
    assert!(
        trace.contains("rejected the record at t-0 offset 1"),
        "{trace}"
    );
    assert!(trace.contains("told to fail this record"), "{trace}");
    worker.shutdown().await;
}

#[tokio::test]
async fn a_failing_put_is_retried_within_the_retry_timeout() {
    let shared = Shared::default();
    shared.lock().failing_puts = 2;
    let worker = start(&shared).await;
    create_topic(&worker, "t", 1).await;
    produce(&worker, "t", 0, &["a", "b"]).await;
    let config =
        json!({"topics": "t", "errors.retry.timeout": "20000", "errors.retry.delay.max.ms": "400"});
    create_sink(&worker, "s", config).await;
    wait_for_sink(&shared, "the records after two failed puts", |s| {
        s.received.len() == 2
    })
    .await;
    assert_eq!(shared.lock().failing_puts, 0);
    let (_, status) = worker.get("/connectors/s/status").await;
    assert_eq!(task_state(&status), "RUNNING", "{status}");
    worker.shutdown().await;
}

#[tokio::test]
async fn a_failing_put_fails_the_task_without_retries() {
    let shared = Shared::default();
    shared.lock().failing_puts = 1;
    let worker = start(&shared).await;
    create_topic(&worker, "t", 1).await;
    produce(&worker, "t", 0, &["a"]).await;
    create_sink(&worker, "s", json!({"topics": "t"})).await;
    let trace = failed_trace(&worker).await;
    assert!(trace.contains("told to fail this put"), "{trace}");

    // A restart of the failed task delivers the record (nothing was committed).
    let restarted = worker
        .http
        .post(worker.url("/connectors/s/tasks/0/restart"))
        .send()
        .await
        .unwrap();
    assert!(restarted.status().is_success());
    wait_for_sink(&shared, "the record after the restart", |s| {
        s.received.len() == 1
    })
    .await;
    worker.shutdown().await;
}
