//! Shared pieces of the MariaDB end-to-end tests: a worker with a MySQL source connector
//! pointed at a throwaway MariaDB, and reading topics back through the REST API.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use mysql_async::prelude::Queryable;
use serde_json::{Value, json};
use sluice_tests::{MariaDbServer, SluiceProcess};

pub const PREFIX: &str = "dbserver1";

/// The connector config for `maria`, capturing database `db`, plus `extra` keys.
pub fn connector(name: &str, maria: &MariaDbServer, db: &str, extra: &[(&str, &str)]) -> Value {
    let mut config = json!({
        "connector.class": "io.debezium.connector.mysql.MySqlConnector",
        "database.hostname": maria.host(),
        "database.port": maria.port().to_string(),
        "database.user": maria.user(),
        "database.password": maria.password(),
        "database.server.id": "184054",
        "topic.prefix": PREFIX,
        "database.include.list": db,
    });
    for (key, value) in extra {
        config[*key] = Value::String((*value).to_owned());
    }
    json!({"name": name, "config": config})
}

/// Runs statements on one connection.
pub async fn exec(maria: &MariaDbServer, db: &str, statements: &[&str]) -> anyhow::Result<()> {
    let mut conn = mysql_async::Conn::new(maria.opts_for(db)).await?;
    for statement in statements {
        conn.query_drop(*statement).await?;
    }
    conn.disconnect().await?;
    Ok(())
}

pub fn end_offset(topic: &Value) -> i64 {
    topic["partitions"]
        .as_array()
        .map(|parts| {
            parts
                .iter()
                .map(|p| p["end_offset"].as_i64().unwrap_or(0))
                .sum()
        })
        .unwrap_or(0)
}

/// Every record of `topic` (partition 0), as the REST API renders it.
pub async fn read_all(worker: &SluiceProcess, topic: &str) -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let page = worker
            .get(&format!(
                "/topics/{topic}/records?offset={offset}&limit=2000"
            ))
            .await?;
        let records = page["records"].as_array().cloned().unwrap_or_default();
        if records.is_empty() {
            return Ok(out);
        }
        out.extend(records);
        offset = page["next_offset"].as_i64().unwrap_or(offset);
    }
}

/// Waits until `topic` holds at least `count` records and returns them all.
pub async fn wait_records(
    worker: &SluiceProcess,
    topic: &str,
    count: i64,
    timeout: Duration,
) -> anyhow::Result<Vec<Value>> {
    worker
        .wait_for(&format!("/topics/{topic}"), timeout, |t| {
            end_offset(t) >= count
        })
        .await?;
    read_all(worker, topic).await
}

/// The payload of a record's value (`null` for a tombstone); the value itself when the
/// converter writes no schema envelope (`value.converter.schemas.enable=false`).
pub fn payload(record: &Value) -> &Value {
    let value = &record["value"];
    value.get("payload").unwrap_or(value)
}

/// The `op` of each record, `-` for tombstones.
pub fn ops(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| payload(r)["op"].as_str().unwrap_or("-").to_owned())
        .collect()
}

/// A MariaDB whose database `inventory` went through `statements`, and a worker running
/// connector `name` (see [`connector`]) on it with `extra` keys.
pub async fn inventory_capture(
    statements: &[&str],
    name: &str,
    extra: &[(&str, &str)],
) -> anyhow::Result<(MariaDbServer, SluiceProcess)> {
    let maria = MariaDbServer::start().await?;
    maria.create_database("inventory").await?;
    exec(&maria, "inventory", statements).await?;
    let worker = SluiceProcess::start().await?;
    let (status, body) = worker
        .post("/connectors", &connector(name, &maria, "inventory", extra))
        .await?;
    anyhow::ensure!(
        status == 201,
        "connector {name} not created: {status} {body}"
    );
    Ok((maria, worker))
}

/// Replays the table's events onto an empty table and returns its rows (id → n). Fails on
/// any event that does not fit what came before — a create of an existing row, an update or
/// delete whose `before` differs from the current row — which is what a gap or an overlap
/// between snapshot and stream (or a duplicate) would cause.
pub fn replay(records: &[Value]) -> BTreeMap<i64, i64> {
    let mut state = BTreeMap::new();
    let id_n = |row: &Value| {
        (
            row["id"].as_i64().unwrap_or(-1),
            row["n"].as_i64().unwrap_or(-1),
        )
    };
    for (index, record) in records.iter().enumerate() {
        let value = payload(record);
        if value.is_null() {
            continue;
        }
        match value["op"].as_str() {
            Some(op @ ("r" | "c")) => {
                let (id, n) = id_n(&value["after"]);
                assert!(
                    state.insert(id, n).is_none(),
                    "record {index}: {op} of existing id {id}"
                );
            }
            Some("u") => {
                let (id, before) = id_n(&value["before"]);
                assert_eq!(
                    state.get(&id),
                    Some(&before),
                    "record {index}: update of id {id}"
                );
                state.insert(id, id_n(&value["after"]).1);
            }
            Some("d") => {
                let (id, before) = id_n(&value["before"]);
                assert_eq!(
                    state.remove(&id),
                    Some(before),
                    "record {index}: delete of id {id}"
                );
            }
            other => panic!("record {index}: unexpected op {other:?}"),
        }
    }
    state
}

/// Up to ten rows where a replay differs from the table: (id, n in the table or -1 when the
/// table lacks the row, n replayed or `None` when the replay lacks it).
pub fn differences(
    expected: &BTreeMap<i64, i64>,
    replayed: &BTreeMap<i64, i64>,
) -> Vec<(i64, i64, Option<i64>)> {
    expected
        .iter()
        .filter(|(id, n)| replayed.get(id) != Some(n))
        .map(|(id, n)| (*id, *n, replayed.get(id).copied()))
        .chain(
            replayed
                .iter()
                .filter(|(id, _)| !expected.contains_key(id))
                .map(|(id, n)| (*id, -1, Some(*n))),
        )
        .take(10)
        .collect()
}

/// The row columns a change record's envelope lists in its `after` schema.
pub fn field_names(record: &Value) -> Vec<String> {
    record["value"]["schema"]["fields"]
        .as_array()
        .and_then(|fields| fields.iter().find(|f| f["field"] == "after"))
        .and_then(|after| after["fields"].as_array())
        .map(|fields| {
            fields
                .iter()
                .map(|f| f["field"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The columns of table change `index` of a schema-change record: (name, length, optional).
pub fn change_columns(record: &Value, index: usize) -> Vec<(String, Value, Value)> {
    payload(record)["tableChanges"][index]["table"]["columns"]
        .as_array()
        .map(|columns| {
            columns
                .iter()
                .map(|c| {
                    (
                        c["name"].as_str().unwrap_or_default().to_owned(),
                        c["length"].clone(),
                        c["optional"].clone(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The names of [`change_columns`].
pub fn column_names(columns: &[(String, Value, Value)]) -> Vec<&str> {
    columns.iter().map(|c| c.0.as_str()).collect()
}
