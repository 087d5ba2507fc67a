//! Exactly-once from a source to the broker across `kill -9` of a real `sluice serve`
//! process (DESIGN.md §4): the built-in sequence source numbers its records; after killing
//! the worker mid-stream — twice — and restarting it, the topic must hold every number
//! exactly once, in order.

use std::time::Duration;

use serde_json::{Value, json};
use sluice_tests::SluiceProcess;

const TOTAL: i64 = 6_000;

fn end_offset(topic: &Value) -> i64 {
    topic["partitions"][0]["end_offset"].as_i64().unwrap_or(-1)
}

async fn read_numbers(worker: &SluiceProcess, topic: &str) -> anyhow::Result<Vec<i64>> {
    let mut numbers = Vec::new();
    let mut offset = 0;
    loop {
        let page = worker
            .get(&format!(
                "/topics/{topic}/records?offset={offset}&limit=2000"
            ))
            .await?;
        let records = page["records"].as_array().cloned().unwrap_or_default();
        if records.is_empty() {
            return Ok(numbers);
        }
        for record in records {
            numbers.push(record["value"]["payload"]["n"].as_i64().unwrap_or(-1));
        }
        offset = page["next_offset"].as_i64().unwrap_or(offset);
    }
}

#[tokio::test]
async fn sigkill_mid_stream_loses_and_duplicates_nothing() -> anyhow::Result<()> {
    let mut worker = SluiceProcess::start().await?;
    let connector = json!({"name": "numbers", "config": {
        "connector.class": "sequence",
        "topic": "numbers",
        "sequence.count": TOTAL.to_string(),
        "sequence.batch.size": "20",
    }});
    let (status, body) = worker.post("/connectors", &connector).await?;
    assert_eq!(status, 201, "{body}");

    for kill_after in [1_000, 3_000] {
        worker
            .wait_for("/topics/numbers", Duration::from_secs(60), |t| {
                end_offset(t) >= kill_after
            })
            .await?;
        worker.kill9()?;
        worker.restart().await?;
    }
    worker
        .wait_for("/topics/numbers", Duration::from_secs(120), |t| {
            end_offset(t) >= TOTAL
        })
        .await?;
    // Let a (wrong) duplicate have the chance to show up before checking.
    worker
        .wait_for(
            "/connectors/numbers/offsets",
            Duration::from_secs(30),
            |o| o["offsets"][0]["offset"]["next"] == TOTAL,
        )
        .await?;

    let numbers = read_numbers(&worker, "numbers").await?;
    let expected: Vec<i64> = (0..TOTAL).collect();
    if numbers != expected {
        let duplicates = numbers.len() as i64 - TOTAL;
        let first_wrong = numbers.iter().zip(&expected).position(|(a, b)| a != b);
        panic!(
            "topic holds {} records ({duplicates:+} vs {TOTAL}); first out-of-sequence index: {first_wrong:?}",
            numbers.len()
        );
    }
    let status = worker.get("/connectors/numbers/status").await?;
    assert_eq!(status["connector"]["state"], "RUNNING", "{status}");

    // A graceful stop exits 0.
    let exit = worker.terminate()?;
    assert!(
        exit.success(),
        "sluice serve exited with {exit} on SIGTERM; log:\n{}",
        worker.log()
    );
    Ok(())
}
