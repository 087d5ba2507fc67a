//! `kill -9` of a real `sluice serve` process while a batch is under way: after the
//! restart, delivery resumes from the committed offset and every redelivered batch carries
//! the idempotency key it had before (batches are cut from offsets, not timing), and no
//! event is lost.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::json;
use sluice_tests::SluiceProcess;
use support::{Receiver, delivered_offsets};

const TOTAL: i64 = 2_000;

#[tokio::test]
async fn redelivered_batches_keep_their_idempotency_keys_after_sigkill() -> anyhow::Result<()> {
    let receiver = Receiver::start()?;
    // The batch holding offset 700 gets no answer: it is under way when the worker dies.
    receiver
        .plan(json!([{"match": "\"id\":\"numbers-0-700\"", "delay_ms": 20_000, "times": 1}]))
        .await?;
    let mut worker = SluiceProcess::start().await?;
    let source = json!({"name": "numbers", "config": {
        "connector.class": "sequence",
        "topic": "numbers",
        "sequence.count": TOTAL.to_string(),
        "sequence.batch.size": "20",
    }});
    let (status, body) = worker.post("/connectors", &source).await?;
    assert_eq!(status, 201, "{body}");
    let sink = json!({"name": "hook", "config": {
        "connector.class": "http",
        "topics": "numbers",
        "http.url": receiver.url(),
        "batch.max.size": "100",
        "batch.linger.ms": "600000",
        "retry.backoff.ms": "50",
    }});
    let (status, body) = worker.post("/connectors", &sink).await?;
    assert_eq!(status, 201, "{body}");

    receiver
        .wait_for("the batch that hangs", |r| {
            r.iter().any(|r| r.key() == "numbers-0-700-799")
        })
        .await;
    worker.kill9()?;
    receiver.plan(json!([])).await?;
    worker.restart().await?;

    let requests = receiver
        .wait_for("every event after the restart", |r| {
            let seen: BTreeSet<i64> = delivered_offsets(r, "numbers", 0).into_iter().collect();
            seen.len() as i64 >= TOTAL
        })
        .await;
    let seen: BTreeSet<i64> = delivered_offsets(&requests, "numbers", 0)
        .into_iter()
        .collect();
    assert_eq!(seen, (0..TOTAL).collect::<BTreeSet<_>>(), "nothing lost");

    let mut keys_by_first: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
    for request in &requests {
        let events = request.events();
        let first = events[0]["offset"].as_i64().unwrap_or(-1);
        let last = events[events.len() - 1]["offset"].as_i64().unwrap_or(-1);
        assert_eq!(request.key(), format!("numbers-0-{first}-{last}"));
        assert_eq!(
            events.len(),
            100,
            "only full offset slots: {}",
            request.key()
        );
        keys_by_first
            .entry(first)
            .or_default()
            .insert(request.key().to_string());
    }
    for (first, keys) in &keys_by_first {
        assert_eq!(
            keys.len(),
            1,
            "batch from {first} sent with different keys: {keys:?}"
        );
    }
    let hung = requests
        .iter()
        .filter(|r| r.key() == "numbers-0-700-799")
        .count();
    assert!(
        hung >= 2,
        "the batch under way at the kill was sent again ({hung})"
    );
    let value = &requests[0].events()[0]["value"];
    assert_eq!(value["n"], 0, "values are the payload alone: {value}");

    worker
        .wait_for("/connectors/hook/offsets", Duration::from_secs(30), |o| {
            o["offsets"][0]["offset"]["kafka_offset"] == TOTAL
        })
        .await?;
    Ok(())
}
