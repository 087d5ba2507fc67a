//! Helpers shared by the connector's end-to-end tests: a connector configuration for a
//! harness server, reading a topic back through the worker's REST API, waiting on the
//! connector's status.

#![allow(dead_code)]

use std::time::Duration;

use serde_json::{Value, json};
use sluice_tests::{PostgresServer, SluiceProcess};

/// Keys that make records schemaless JSON: smaller and faster to read back in bulk.
pub const SCHEMALESS: [(&str, &str); 2] = [
    ("key.converter.schemas.enable", "false"),
    ("value.converter.schemas.enable", "false"),
];

/// End offset of partition 0 of `topic` (0 when it does not exist yet).
pub async fn end_offset(worker: &SluiceProcess, topic: &str) -> i64 {
    match worker.get(&format!("/topics/{topic}")).await {
        Ok(t) => t["partitions"][0]["end_offset"].as_i64().unwrap_or(0),
        Err(_) => 0,
    }
}

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

/// The value of a record without its JSON schema envelope (`schemas.enable` either way).
pub fn payload(record: &Value) -> &Value {
    let value = &record["value"];
    if value.get("schema").is_some() && value.get("payload").is_some() {
        &value["payload"]
    } else {
        value
    }
}

/// `op` of a change event, `None` for a tombstone.
pub fn op(record: &Value) -> Option<&str> {
    payload(record)["op"].as_str()
}

/// The `after` (or, for deletes, `before`) row of a change event.
pub fn row(record: &Value) -> &Value {
    let payload = payload(record);
    if payload["after"].is_null() {
        &payload["before"]
    } else {
        &payload["after"]
    }
}

/// Creates `public.items (id int PRIMARY KEY, v int NOT NULL)` with `rows` rows at version 0.
pub async fn create_items(db: &tokio_postgres::Client, rows: i64) -> anyhow::Result<()> {
    db.batch_execute(&format!(
        "CREATE TABLE public.items (id int PRIMARY KEY, v int NOT NULL);
         INSERT INTO public.items SELECT g, 0 FROM generate_series(1, {rows}) g;"
    ))
    .await?;
    Ok(())
}

/// A writer changing `public.items` in small transactions until stopped: inserts new ids at
/// version 0, bumps the version of random rows, deletes random rows.
#[derive(Debug)]
pub struct Workload {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: tokio::task::JoinHandle<anyhow::Result<u64>>,
}

impl Workload {
    pub fn start(db: tokio_postgres::Client, first_new_id: i64, max_id: i64) -> Self {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let handle = tokio::spawn(async move {
            let mut next_id = first_new_id;
            let mut transactions = 0u64;
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                let pick = fastrand::i64(1..next_id.min(max_id).max(2));
                let sql = match fastrand::u8(0..10) {
                    0..=3 => {
                        next_id += 1;
                        format!("INSERT INTO public.items VALUES ({}, 0)", next_id - 1)
                    }
                    4..=8 => format!(
                        "BEGIN; UPDATE public.items SET v = v + 1 WHERE id = {pick};
                         UPDATE public.items SET v = v + 1 WHERE id = {};
                         COMMIT",
                        pick / 2 + 1
                    ),
                    _ => format!("DELETE FROM public.items WHERE id = {pick}"),
                };
                db.batch_execute(&sql).await?;
                transactions += 1;
            }
            Ok(transactions)
        });
        Self { stop, handle }
    }

    /// Stops the writer; returns how many transactions it committed.
    pub async fn stop(self) -> anyhow::Result<u64> {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.handle.await?
    }
}

/// The rows of `public.items` as id → version.
pub async fn items(
    db: &tokio_postgres::Client,
) -> anyhow::Result<std::collections::BTreeMap<i64, i64>> {
    let rows = db.query("SELECT id, v FROM public.items", &[]).await?;
    Ok(rows
        .iter()
        .map(|r| (i64::from(r.get::<_, i32>(0)), i64::from(r.get::<_, i32>(1))))
        .collect())
}

/// Replays the change events of `public.items` and checks that every row version appears
/// exactly once and in order — snapshot reads first, then each insert at version 0, each
/// update one version up, deletes of present rows — and that the result equals `table`.
pub fn check_history(
    records: &[Value],
    table: &std::collections::BTreeMap<i64, i64>,
) -> anyhow::Result<()> {
    let mut state = std::collections::BTreeMap::new();
    for (index, record) in records.iter().enumerate() {
        let Some(op) = op(record) else { continue };
        let payload = payload(record);
        let id = |side: &str| payload[side]["id"].as_i64();
        let v = |side: &str| payload[side]["v"].as_i64();
        match op {
            "r" => {
                let id = id("after").unwrap_or(-1);
                anyhow::ensure!(
                    state.insert(id, v("after").unwrap_or(-1)).is_none(),
                    "record {index}: id {id} read twice by the snapshot"
                );
            }
            "c" => {
                let id = id("after").unwrap_or(-1);
                anyhow::ensure!(
                    v("after") == Some(0),
                    "record {index}: insert not at version 0"
                );
                anyhow::ensure!(
                    state.insert(id, 0).is_none(),
                    "record {index}: insert of id {id}, which exists (duplicate or overlap)"
                );
            }
            "u" => {
                let id = id("after").unwrap_or(-1);
                let new = v("after").unwrap_or(-1);
                let old = state.get(&id).copied();
                anyhow::ensure!(
                    old == Some(new - 1),
                    "record {index}: update of id {id} to version {new}, but the history has {old:?} (gap, overlap or duplicate)"
                );
                state.insert(id, new);
            }
            "d" => {
                let id = id("before").unwrap_or(-1);
                anyhow::ensure!(
                    state.remove(&id).is_some(),
                    "record {index}: delete of id {id}, which does not exist"
                );
            }
            other => anyhow::bail!("record {index}: unexpected op {other}"),
        }
    }
    if &state != table {
        let missing: Vec<_> = table
            .iter()
            .filter(|(k, v)| state.get(k) != Some(v))
            .take(5)
            .collect();
        let extra: Vec<_> = state
            .iter()
            .filter(|(k, v)| table.get(k) != Some(v))
            .take(5)
            .collect();
        anyhow::bail!(
            "replayed topic ({} rows) differs from the table ({} rows); table rows not matched: {missing:?}; topic rows not matched: {extra:?}",
            state.len(),
            table.len()
        );
    }
    Ok(())
}

/// Waits until the replayed topic matches the table (the connector caught up).
pub async fn wait_caught_up(
    worker: &SluiceProcess,
    topic: &str,
    table: &std::collections::BTreeMap<i64, i64>,
    timeout: Duration,
) -> anyhow::Result<Vec<Value>> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let records = read_all(worker, topic).await?;
        match check_history(&records, table) {
            Ok(()) => return Ok(records),
            Err(error) if tokio::time::Instant::now() > deadline => {
                anyhow::bail!("{error:#}; worker log tail:\n{}", tail(&worker.log(), 40))
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// The last `lines` lines of `text`.
pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
