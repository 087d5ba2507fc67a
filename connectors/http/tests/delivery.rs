//! Delivery to a real HTTP receiver (receiver.py) from a worker over a real broker: events
//! arrive complete and in order per partition with matching idempotency keys, in every body
//! format, as CloudEvents, with auth headers; offsets are committed once acknowledged.

mod support;

use serde_json::json;
use support::{Receiver, TestWorker, delivered_offsets};

#[tokio::test]
async fn events_arrive_complete_and_in_order_per_partition() -> anyhow::Result<()> {
    let receiver = Receiver::start()?;
    let worker = TestWorker::start().await;
    worker.create_topic("orders", 2).await;
    for partition in 0..2 {
        let values = (0..1_000).map(|i| json!({"n": i, "p": partition}));
        worker.produce("orders", partition, values).await;
    }
    let url = receiver.url();
    worker
        .create_sink(
            "hook",
            "orders",
            &url,
            &[
                ("batch.max.size", "100"),
                ("max.in.flight", "2"),
                ("http.headers", "X-Team: cdc | X-Env: test"),
                ("http.auth.bearer.token", "t0ken"),
            ],
        )
        .await;
    let requests = receiver
        .wait_for("2000 delivered events", |r| {
            delivered_offsets(r, "orders", 0).len() + delivered_offsets(r, "orders", 1).len()
                >= 2_000
        })
        .await;
    for partition in 0..2 {
        let offsets = delivered_offsets(&requests, "orders", partition);
        assert_eq!(
            offsets,
            (0..1_000).collect::<Vec<_>>(),
            "partition {partition}"
        );
    }
    for request in &requests {
        let events = request.events();
        let first = &events[0];
        let last = &events[events.len() - 1];
        let key = format!(
            "orders-{}-{}-{}",
            first["partition"], first["offset"], last["offset"]
        );
        assert_eq!(request.key(), key);
        assert_eq!(events.len(), 100, "full offset slots only: {key}");
        for event in &events {
            let id = format!("orders-{}-{}", event["partition"], event["offset"]);
            assert_eq!(event["id"], id);
            assert_eq!(event["value"]["n"], event["offset"]);
            assert_eq!(event["value"]["p"], event["partition"]);
        }
        assert_eq!(request.method, "POST");
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert_eq!(request.header("authorization"), Some("Bearer t0ken"));
        assert_eq!(request.header("x-team"), Some("cdc"));
        assert_eq!(request.header("x-env"), Some("test"));
    }
    assert_eq!(requests.len(), 20, "no request was sent twice");
    worker.wait_committed("hook", "orders", 0, 1_000).await;
    worker.wait_committed("hook", "orders", 1, 1_000).await;
    worker.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn ndjson_single_put_and_basic_auth() -> anyhow::Result<()> {
    let receiver = Receiver::start()?;
    let worker = TestWorker::start().await;
    worker.create_topic("lines", 1).await;
    worker.create_topic("singles", 1).await;
    worker
        .produce("lines", 0, (0..25).map(|i| json!({"n": i})))
        .await;
    worker.produce("singles", 0, (0..3).map(|i| json!(i))).await;
    let url = receiver.url();
    worker
        .create_sink(
            "lines",
            "lines",
            &url,
            &[
                ("body.format", "ndjson"),
                ("batch.max.size", "10"),
                ("batch.linger.ms", "50"),
                ("http.auth.basic.username", "aladdin"),
                ("http.auth.basic.password", "opensesame"),
            ],
        )
        .await;
    worker
        .create_sink(
            "singles",
            "singles",
            &url,
            &[("body.format", "single"), ("http.method", "PUT")],
        )
        .await;
    let requests = receiver
        .wait_for("25 lines and 3 singles", |r| {
            delivered_offsets(r, "lines", 0).len() == 25
                && delivered_offsets(r, "singles", 0).len() == 3
        })
        .await;
    let lines: Vec<_> = requests
        .iter()
        .filter(|r| r.key().starts_with("lines-"))
        .collect();
    let keys: Vec<_> = lines.iter().map(|r| r.key()).collect();
    // Two full slots, then the tail sent after batch.linger.ms.
    assert_eq!(keys, ["lines-0-0-9", "lines-0-10-19", "lines-0-20-24"]);
    for request in &lines {
        assert_eq!(request.header("content-type"), Some("application/x-ndjson"));
        assert!(request.body.ends_with('\n'));
        assert_eq!(
            request.header("authorization"),
            Some("Basic YWxhZGRpbjpvcGVuc2VzYW1l")
        );
    }
    let singles: Vec<_> = requests
        .iter()
        .filter(|r| r.key().starts_with("singles-"))
        .collect();
    let keys: Vec<_> = singles.iter().map(|r| r.key()).collect();
    assert_eq!(keys, ["singles-0-0-0", "singles-0-1-1", "singles-0-2-2"]);
    for (n, request) in singles.iter().enumerate() {
        assert_eq!(request.method, "PUT");
        let event: serde_json::Value = serde_json::from_str(&request.body)?;
        assert_eq!(event["value"], n as i64, "one bare event per request");
    }
    worker.wait_committed("lines", "lines", 0, 25).await;
    worker.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn cloudevents_structured_mode() -> anyhow::Result<()> {
    let receiver = Receiver::start()?;
    let worker = TestWorker::start().await;
    worker.create_topic("users", 1).await;
    worker
        .produce(
            "users",
            0,
            (0..4).map(|i| json!({"id": i, "name": format!("u{i}")})),
        )
        .await;
    let url = receiver.url();
    worker
        .create_sink(
            "ce",
            "users",
            &url,
            &[
                ("cloudevents", "on"),
                ("cloudevents.type", "com.example.user.changed"),
                ("batch.max.size", "2"),
            ],
        )
        .await;
    let requests = receiver
        .wait_for("4 CloudEvents", |r| {
            r.iter().map(|r| r.events().len()).sum::<usize>() >= 4
        })
        .await;
    assert_eq!(requests.len(), 2);
    let mut offset = 0;
    for request in &requests {
        assert_eq!(
            request.header("content-type"),
            Some("application/cloudevents-batch+json")
        );
        for event in request.events() {
            assert_eq!(event["specversion"], "1.0");
            assert_eq!(event["id"], format!("users-0-{offset}"));
            assert_eq!(event["source"], "/sluice/ce");
            assert_eq!(event["type"], "com.example.user.changed");
            assert_eq!(event["datacontenttype"], "application/json");
            assert!(event["time"].as_str().unwrap_or_default().ends_with('Z'));
            assert_eq!(event["data"]["id"], offset);
            assert_eq!(event["sluiceoffset"], offset);
            offset += 1;
        }
    }
    worker.shutdown().await;
    Ok(())
}
