//! KIP-875 offsets of a sink connector over real HTTP: read from its consumer group, altered
//! and reset only while STOPPED, and honoured when it runs again.

mod sink_support;
mod support;

use std::sync::Arc;

use serde_json::{Value, json};
use sink_support::{
    Shared, WAIT, create_sink, create_topic, offsets_of, produce, registry, wait_for_sink,
};
use support::TestWorker;

async fn send(
    worker: &TestWorker,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = worker.http.request(method, worker.url(path));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn stop(worker: &TestWorker) {
    let (status, body) = send(worker, reqwest::Method::PUT, "/connectors/s/stop", None).await;
    assert!(status < 300, "stop: {status} {body}");
    worker
        .wait_for("/connectors/s/status", WAIT, |s| {
            s["connector"]["state"] == "STOPPED"
        })
        .await;
}

async fn resume(worker: &TestWorker) {
    let (status, body) = send(worker, reqwest::Method::PUT, "/connectors/s/resume", None).await;
    assert!(status < 300, "resume: {status} {body}");
}

fn received_offsets(shared: &Shared) -> Vec<i64> {
    shared.lock().received.iter().map(|r| r.offset).collect()
}

#[tokio::test]
async fn sink_offsets_are_altered_and_reset_while_stopped() {
    let shared = Shared::default();
    let worker =
        TestWorker::start_with(Arc::new(tempfile::tempdir().unwrap()), registry(&shared)).await;
    create_topic(&worker, "t", 1).await;
    produce(&worker, "t", 0, &["a", "b", "c", "d", "e"]).await;
    create_sink(&worker, "s", json!({"topics": "t"})).await;
    wait_for_sink(&shared, "5 records", |s| s.received.len() == 5).await;
    worker
        .wait_for("/connectors/s/offsets", WAIT, |body| {
            offsets_of(body) == [("t".to_string(), 0, 5)]
        })
        .await;

    let to_two = json!({"offsets": [{
        "partition": {"kafka_topic": "t", "kafka_partition": 0},
        "offset": {"kafka_offset": 2},
    }]});
    let (status, body) = send(
        &worker,
        reqwest::Method::PATCH,
        "/connectors/s/offsets",
        Some(to_two.clone()),
    )
    .await;
    assert_eq!(status, 400, "a running connector's offsets stay: {body}");
    assert!(
        body["message"].as_str().unwrap().contains("STOPPED"),
        "{body}"
    );

    stop(&worker).await;
    let malformed =
        json!({"offsets": [{"partition": {"topic": "t"}, "offset": {"kafka_offset": 1}}]});
    let (status, body) = send(
        &worker,
        reqwest::Method::PATCH,
        "/connectors/s/offsets",
        Some(malformed),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("kafka_partition"),
        "{body}"
    );
    let (status, body) = send(
        &worker,
        reqwest::Method::PATCH,
        "/connectors/s/offsets",
        Some(to_two),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = worker.get("/connectors/s/offsets").await;
    assert_eq!(offsets_of(&body), [("t".to_string(), 0, 2)]);

    resume(&worker).await;
    wait_for_sink(&shared, "records from offset 2 again", |s| {
        s.received.len() == 8
    })
    .await;
    assert_eq!(received_offsets(&shared)[5..], [2, 3, 4]);

    stop(&worker).await;
    let (status, body) = send(
        &worker,
        reqwest::Method::DELETE,
        "/connectors/s/offsets",
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = worker.get("/connectors/s/offsets").await;
    assert_eq!(offsets_of(&body), [], "{body}");

    resume(&worker).await;
    wait_for_sink(&shared, "every record again", |s| s.received.len() == 13).await;
    assert_eq!(received_offsets(&shared)[8..], [0, 1, 2, 3, 4]);
    worker.shutdown().await;
}
