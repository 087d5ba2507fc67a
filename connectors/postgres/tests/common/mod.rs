//! Helpers shared by the connector's end-to-end tests: a connector configuration for a
//! harness server, reading a topic back through the worker's REST API, waiting on the
//! connector's status.

#![allow(dead_code)]

use std::time::Duration;

use serde_json::{Value, json};
use sluice_tests::{PostgresServer, SluiceProcess};

/// A connector configuration for `pg`, with `extra` keys added or replacing defaults.
pub fn connector(name: &str, pg: &PostgresServer, extra: &[(&str, &str)]) -> Value {
    let mut config = json!({
        "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
        "database.hostname": pg.host(),
        "database.port": pg.port().to_string(),
        "database.user": pg.user(),
        "database.password": pg.password(),
        "database.dbname": pg.dbname(),
        "topic.prefix": "dbserver1",
        "slot.name": format!("slot_{name}"),
        "publication.name": format!("pub_{name}"),
    });
    for (key, value) in extra {
        config[*key] = Value::String(value.to_string());
    }
    json!({"name": name, "config": config})
}

/// Creates the connector; panics with the answer when the worker refuses it.
pub async fn create(worker: &SluiceProcess, body: &Value) -> anyhow::Result<()> {
    let (status, answer) = worker.post("/connectors", body).await?;
    anyhow::ensure!(status == 201, "creating the connector: {status} {answer}");
    Ok(())
}

/// Every record of partition 0 of `topic` (an absent topic reads as empty).
pub async fn read_all(worker: &SluiceProcess, topic: &str) -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let page = worker
            .get(&format!(
                "/topics/{topic}/records?offset={offset}&limit=5000"
            ))
            .await?;
        let records = page["records"].as_array().cloned().unwrap_or_default();
        if records.is_empty() {
            return Ok(out);
        }
        offset = page["next_offset"]
            .as_i64()
            .unwrap_or(offset + records.len() as i64);
        out.extend(records);
    }
}

/// Waits until `topic` holds at least `count` records, then returns them all.
pub async fn wait_records(
    worker: &SluiceProcess,
    topic: &str,
    count: usize,
    timeout: Duration,
) -> anyhow::Result<Vec<Value>> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let records = read_all(worker, topic).await?;
        if records.len() >= count {
            return Ok(records);
        }
        if tokio::time::Instant::now() > deadline {
            let status = worker.get("/connectors").await.unwrap_or(Value::Null);
            anyhow::bail!(
                "{topic} holds {} records, expected {count}; connectors: {status}; worker log:\n{}",
                records.len(),
                worker.log()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the connector's task is in `state`, returning the status document.
pub async fn wait_task_state(
    worker: &SluiceProcess,
    name: &str,
    state: &str,
    timeout: Duration,
) -> anyhow::Result<Value> {
    worker
        .wait_for(&format!("/connectors/{name}/status"), timeout, |s| {
            s["tasks"][0]["state"] == state
        })
        .await
}

/// `payload.op` of a change event, `None` for a tombstone.
pub fn op(record: &Value) -> Option<&str> {
    record["value"]["payload"]["op"].as_str()
}

/// The `after` (or, for deletes, `before`) row of a change event.
pub fn row(record: &Value) -> &Value {
    let payload = &record["value"]["payload"];
    if payload["after"].is_null() {
        &payload["before"]
    } else {
        &payload["after"]
    }
}
