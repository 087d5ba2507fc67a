//! The topic endpoints over real HTTP against a real broker in a temp dir.

mod support;

use serde_json::{Value, json};
use support::TestWorker;

#[tokio::test]
async fn topic_lifecycle_and_records() {
    let server = TestWorker::start().await;
    let http = server.http.clone();
    let url = |path: &str| format!("{}{path}", server.base);

    let (status, body) = server
        .post(
            "/topics",
            &json!({"name": "orders", "partitions": 2, "config": {"retention.ms": "60000"}}),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(body["partitions"].as_array().unwrap().len(), 2);
    assert_eq!(body["config"]["retention.ms"], 60000);
    assert_eq!(
        body["config"]["compression.type"], "lz4",
        "new topics take the worker's compression default"
    );
    let plain = json!({"name": "plain", "config": {"compression.type": "uncompressed"}});
    let (_, plain) = server.post("/topics", &plain).await;
    assert_eq!(plain["config"]["compression.type"], "uncompressed");

    // Refusals: the status, and a message naming what was wrong.
    for (body, status, named) in [
        (
            json!({"name": "gz", "config": {"compression.type": "gzip"}}),
            400,
            "gzip",
        ),
        (json!({"name": "orders"}), 409, "orders"),
        (
            json!({"name": "x", "config": {"retention.mss": "1"}}),
            400,
            "retention.mss",
        ),
    ] {
        let (answered, error) = server.post("/topics", &body).await;
        assert_eq!(answered, status, "{body} → {error}");
        assert_eq!(error["error_code"], status, "{error}");
        assert!(
            error["message"].as_str().unwrap().contains(named),
            "{error}"
        );
    }

    let produced: Value = http
        .post(url("/topics/orders/records"))
        .json(&json!([
            {"key": "a", "value": {"n": 1}, "partition": 1},
            {"key": "b", "value": "plain", "partition": 1},
            {"key": null, "value": null, "partition": 1},
        ]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(produced["offsets"].as_array().unwrap().len(), 3);

    let read: Value = http
        .get(url("/topics/orders/records?partition=1&offset=0&limit=10"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let records = read["records"].as_array().unwrap();
    assert_eq!(records.len(), 3);
    assert_eq!(records[0]["value"], json!({"n": 1}));
    assert_eq!(records[1]["value"], "plain");
    assert_eq!(records[2]["value"], Value::Null);
    assert_eq!(read["next_offset"], 3);

    // A long-poll returns as soon as a record arrives, well before its timeout.
    let waiter = {
        let http = http.clone();
        let url = url("/topics/orders/records?partition=0&offset=0&timeout_ms=30000");
        tokio::spawn(async move { http.get(url).send().await.unwrap().json::<Value>().await })
    };
    let started = std::time::Instant::now();
    http.post(url("/topics/orders/records"))
        .json(&json!([{"value": "late", "partition": 0}]))
        .send()
        .await
        .unwrap();
    let polled = waiter.await.unwrap().unwrap();
    assert_eq!(polled["records"][0]["value"], "late");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));

    let listed: Vec<String> = http
        .get(url("/topics"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed, ["orders", "plain"]);
    let missing = http.get(url("/topics/nope")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(
        http.delete(url("/topics/orders"))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let health: Value = http
        .get(url("/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "healthy");
}
