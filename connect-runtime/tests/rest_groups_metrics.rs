//! `/groups` and `/metrics` over real HTTP.

mod support;

use std::time::Duration;

use serde_json::json;
use support::TestWorker;

#[tokio::test]
async fn group_offsets_and_lag() {
    let worker = TestWorker::start().await;
    let http = &worker.http;
    let produced = http
        .post(worker.url("/topics/events/records"))
        .json(&json!([{"value": "a"}, {"value": "b"}, {"value": "c"}]))
        .send()
        .await
        .unwrap();
    assert_eq!(produced.status(), 200);
    let committed = http
        .post(worker.url("/groups/readers/offsets"))
        .json(&json!({"offsets": [{"topic": "events", "partition": 0, "offset": 1}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(committed.status(), 200);

    let (status, group) = worker.get("/groups/readers").await;
    assert_eq!(status, 200, "{group}");
    assert_eq!(group["offsets"][0]["committed"], 1);
    assert_eq!(group["offsets"][0]["log_end"], 3);
    assert_eq!(group["offsets"][0]["lag"], 2);
    let (_, groups) = worker.get("/groups").await;
    assert!(
        groups
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["group_id"] == "readers"),
        "{groups}"
    );
    let (status, body) = worker.get("/groups/nobody").await;
    assert_eq!(status, 404, "{body}");
}

#[tokio::test]
async fn metrics_expose_connectors_groups_and_topics() {
    let worker = TestWorker::start().await;
    let connector = json!({"name": "seq", "config": {
        "connector.class": "sequence", "topic": "numbers", "sequence.count": "100",
    }});
    let created = worker
        .http
        .post(worker.url("/connectors"))
        .json(&connector)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    worker
        .wait_for("/topics/numbers", Duration::from_secs(20), |t| {
            t["partitions"][0]["end_offset"] == 100
        })
        .await;
    let response = worker
        .http
        .get(worker.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = response.text().await.unwrap();
    for expected in [
        "sluice_connector_up{connector=\"seq\",type=\"source\"} 1",
        "sluice_connector_events_total{connector=\"seq\",task=\"0\"} 100",
        "sluice_topic_end_offset{topic=\"numbers\",partition=\"0\"} 100",
        "# TYPE sluice_consumer_group_lag gauge",
        "sluice_connector_queue_bytes{connector=\"seq\",task=\"0\"} 0",
        "# TYPE sluice_broker_bytes_in_total counter",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    let bytes_in: f64 = text
        .lines()
        .find_map(|line| line.strip_prefix("sluice_broker_bytes_in_total "))
        .expect("broker bytes in")
        .parse()
        .unwrap();
    assert!(bytes_in > 0.0, "{text}");
    // Every sample line is `name{labels} number` or `name number`.
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let value = line.rsplit(' ').next().unwrap();
        assert!(value.parse::<f64>().is_ok(), "bad sample {line:?}");
        assert!(line.starts_with("sluice_"), "{line}");
    }
}
