//! Failures against a real receiver: 503 with Retry-After is retried after the asked delay;
//! a 400 batch goes to the dead-letter topic with the status and reason (or fails the task
//! with errors.tolerance=none); the receiver down for a while and back loses nothing; a
//! batch failing past retry.max.attempts fails the task.

mod support;

use std::time::Duration;

use serde_json::json;
use support::{Receiver, TestWorker, delivered_offsets, header};

#[tokio::test]
async fn retries_503_after_the_retry_after_delay() -> anyhow::Result<()> {
    let receiver = Receiver::start()?;
    receiver
        .plan(json!([{"status": 503, "retry_after": "1", "times": 2, "body": "busy"}]))
        .await?;
    let worker = TestWorker::start().await;
    worker.create_topic("flaky", 1).await;
    worker.produce("flaky", 0, (0..10).map(|i| json!(i))).await;
    let url = receiver.url();
    let settings = [("batch.max.size", "10"), ("retry.backoff.ms", "10")];
    worker.create_sink("flaky", "flaky", &url, &settings).await;
    let requests = receiver
        .wait_for("a 2xx after two 503", |r| r.iter().any(|r| r.status == 200))
        .await;
    let statuses: Vec<_> = requests.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [503, 503, 200]);
    assert!(requests.iter().all(|r| r.key() == "flaky-0-0-9"));
    for pair in requests.windows(2) {
        let waited = pair[1].time - pair[0].time;
        assert!(
            waited >= 0.9,
            "retried after {waited:.3}s, not Retry-After: 1"
        );
    }
    assert_eq!(
        delivered_offsets(&requests, "flaky", 0),
        (0..10).collect::<Vec<_>>()
    );
    worker.wait_committed("flaky", "flaky", 0, 10).await;
    worker.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_rejected_batch_goes_to_the_dead_letter_topic_with_its_reason() -> anyhow::Result<()> {
    let receiver = Receiver::start()?;
    receiver
        .plan(
            json!([{"status": 400, "times": 1, "match": "\"id\":\"bad-0-12\"",
                      "body": "field n is invalid"}]),
        )
        .await?;
    let worker = TestWorker::start().await;
    worker.create_topic("bad", 1).await;
    worker
        .produce("bad", 0, (0..30).map(|i| json!({"n": i})))
        .await;
    let url = receiver.url();
    let settings = [
        ("batch.max.size", "10"),
        ("errors.tolerance", "all"),
        ("errors.deadletterqueue.topic.name", "dlq"),
        ("errors.deadletterqueue.context.headers.enable", "true"),
    ];
    worker.create_sink("bad", "bad", &url, &settings).await;
    let dead = worker.read("dlq", 10).await;
    assert_eq!(dead.len(), 10, "exactly the rejected batch");
    for (i, record) in dead.iter().enumerate() {
        let offset = 10 + i as i64;
        assert_eq!(
            header(record, "__connect.errors.offset"),
            offset.to_string()
        );
        assert_eq!(header(record, "__connect.errors.topic"), "bad");
        assert_eq!(header(record, "__connect.errors.stage"), "TASK_PUT");
        let message = header(record, "__connect.errors.exception.message");
        assert!(
            message.contains("HTTP 400 Bad Request: field n is invalid")
                && message.contains("bad-0-10-19"),
            "{message}"
        );
        let value = record.record.value.as_deref().unwrap_or_default();
        assert_eq!(value, json!({"n": offset}).to_string().as_bytes());
    }
    let requests = receiver
        .wait_for("the batches around the rejected one", |r| {
            delivered_offsets(r, "bad", 0).len() == 20
        })
        .await;
    let mut expected: Vec<i64> = (0..10).collect();
    expected.extend(20..30);
    assert_eq!(delivered_offsets(&requests, "bad", 0), expected);
    worker.wait_committed("bad", "bad", 0, 30).await;
    assert_eq!(worker.task_state("bad").await.0, "Running");
    worker.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_rejected_batch_fails_the_task_without_tolerance() -> anyhow::Result<()> {
    let receiver = Receiver::start()?;
    receiver
        .plan(json!([{"status": 422, "body": "schema mismatch"}]))
        .await?;
    let worker = TestWorker::start().await;
    worker.create_topic("strict", 1).await;
    worker.produce("strict", 0, (0..5).map(|i| json!(i))).await;
    let url = receiver.url();
    worker.create_sink("strict", "strict", &url, &[]).await;
    let trace = worker.wait_task_state("strict", "Failed").await;
    assert!(
        trace.contains("422") && trace.contains("schema mismatch"),
        "{trace}"
    );
    let committed = worker.committed("strict", "strict", 0);
    assert!(
        committed.unwrap_or(0) == 0,
        "nothing may be committed: {committed:?}"
    );
    worker.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn receiver_down_then_back_loses_nothing() -> anyhow::Result<()> {
    let mut receiver = Receiver::start()?;
    let worker = TestWorker::start().await;
    worker.create_topic("outage", 1).await;
    worker
        .produce("outage", 0, (0..100).map(|i| json!(i)))
        .await;
    let url = receiver.url();
    let settings = [
        ("batch.max.size", "50"),
        ("batch.linger.ms", "20"),
        ("retry.backoff.ms", "50"),
        ("retry.backoff.max.ms", "300"),
        ("retry.max.attempts", "-1"),
    ];
    worker
        .create_sink("outage", "outage", &url, &settings)
        .await;
    receiver
        .wait_for("the first 100 events", |r| {
            delivered_offsets(r, "outage", 0).len() == 100
        })
        .await;
    worker.wait_committed("outage", "outage", 0, 100).await;
    receiver.stop();
    worker
        .produce("outage", 0, (100..300).map(|i| json!(i)))
        .await;
    // The outage lasts a while: several failed attempts, with backoff.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(worker.committed("outage", "outage", 0), Some(100));
    assert_eq!(worker.task_state("outage").await.0, "Running");
    receiver.restart()?;
    let requests = receiver
        .wait_for("all 300 events", |r| {
            delivered_offsets(r, "outage", 0).len() >= 300
        })
        .await;
    assert_eq!(
        delivered_offsets(&requests, "outage", 0),
        (0..300).collect::<Vec<_>>()
    );
    worker.wait_committed("outage", "outage", 0, 300).await;
    worker.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn giving_up_after_retry_max_attempts_fails_the_task() -> anyhow::Result<()> {
    let receiver = Receiver::start()?;
    receiver
        .plan(json!([{"status": 500, "body": "boom"}]))
        .await?;
    let worker = TestWorker::start().await;
    worker.create_topic("doomed", 1).await;
    worker.produce("doomed", 0, (0..3).map(|i| json!(i))).await;
    let url = receiver.url();
    let settings = [("retry.max.attempts", "3"), ("retry.backoff.ms", "10")];
    worker
        .create_sink("doomed", "doomed", &url, &settings)
        .await;
    let trace = worker.wait_task_state("doomed", "Failed").await;
    assert!(
        trace.contains("failed 3 times") && trace.contains("HTTP 500"),
        "{trace}"
    );
    assert_eq!(receiver.requests().len(), 3);
    let committed = worker.committed("doomed", "doomed", 0);
    assert!(
        committed.unwrap_or(0) == 0,
        "nothing may be committed: {committed:?}"
    );
    worker.shutdown().await;
    Ok(())
}
