//! The schema history against a real MariaDB and a real worker process: DDL run while the
//! connector is down gets, per schema-change record, the table as that DDL left it (not as
//! the catalog shows it later); a restart — graceful or `kill -9` — rebuilds the model from
//! the history topic; a deleted history topic fails the task with a hint at
//! `snapshot.mode=recovery`, which rebuilds it from the catalog.

mod common;

use std::time::Duration;

use common::*;
use serde_json::Value;
use sluice_tests::{MariaDbServer, SluiceProcess};

const TOPIC: &str = "dbserver1.inventory.items";
const HISTORY: &str = "__sluice_schema_history";
const WAIT: Duration = Duration::from_secs(90);
const REBUILT: &str = "rebuilt the schema model from the schema history topic";

/// A MariaDB with `inventory.items` (one row) and a worker running connector `name` on it
/// until the snapshot and the schema snapshot are in; returns the connector config too.
async fn items_captured(name: &str) -> anyhow::Result<(MariaDbServer, SluiceProcess, Value)> {
    let maria = MariaDbServer::start().await?;
    maria.create_database("inventory").await?;
    exec(
        &maria,
        "inventory",
        &[
            "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20))",
            "INSERT INTO items VALUES (1, 'bolt')",
        ],
    )
    .await?;
    let worker = SluiceProcess::start().await?;
    let config = connector(name, &maria, "inventory", &[]);
    let (status, body) = worker.post("/connectors", &config).await?;
    anyhow::ensure!(status == 201, "{status} {body}");
    wait_records(&worker, TOPIC, 1, WAIT).await?;
    // The schema snapshot: its start record and the captured table.
    wait_records(&worker, HISTORY, 2, WAIT).await?;
    Ok((maria, worker, config))
}

/// The `ddl` of every history record (their values are Debezium-shaped JSON text).
async fn history_ddl(worker: &SluiceProcess) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for record in read_all(worker, HISTORY).await? {
        let text = payload(&record)
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("history value is not a string: {record}"))?;
        let document: Value = serde_json::from_str(text)?;
        anyhow::ensure!(document["source"]["server"] == PREFIX, "{document}");
        anyhow::ensure!(document["position"]["file"].is_string(), "{document}");
        out.push(document["ddl"].as_str().unwrap_or_default().to_owned());
    }
    Ok(out)
}

async fn running(worker: &SluiceProcess, name: &str) -> anyhow::Result<()> {
    worker
        .wait_for(&format!("/connectors/{name}/status"), WAIT, |s| {
            s["tasks"][0]["state"] == "RUNNING"
        })
        .await?;
    Ok(())
}

#[tokio::test]
async fn ddl_while_stopped_gets_its_own_definition_and_restarts_rebuild_from_the_history()
-> anyhow::Result<()> {
    let (maria, mut worker, _) = items_captured("hist").await?;
    worker.terminate()?;

    // Two ALTERs (and a row after each) while the connector is down.
    exec(
        &maria,
        "inventory",
        &[
            "ALTER TABLE items ADD COLUMN qty INT",
            "INSERT INTO items VALUES (2, 'nut', 7)",
            "ALTER TABLE items CHANGE COLUMN name title VARCHAR(40) NOT NULL",
            "INSERT INTO items VALUES (3, 'washer', 9)",
        ],
    )
    .await?;
    worker.restart().await?;
    let changes = wait_records(&worker, PREFIX, 2, WAIT).await?;
    let rows = wait_records(&worker, TOPIC, 3, WAIT).await?;
    assert!(worker.log().contains(REBUILT), "{}", worker.log());

    let first = change_columns(&changes[0], 0);
    assert_eq!(
        column_names(&first),
        ["id", "name", "qty"],
        "{}",
        changes[0]
    );
    assert_eq!(
        first[1].1, 20,
        "name is still VARCHAR(20) after the first ALTER"
    );
    assert_eq!(first[1].2, true);
    let second = change_columns(&changes[1], 0);
    assert_eq!(
        column_names(&second),
        ["id", "title", "qty"],
        "{}",
        changes[1]
    );
    assert_eq!(
        (&second[1].1, &second[1].2),
        (&Value::from(40), &Value::from(false))
    );
    assert_eq!(
        payload(&changes[1])["tableChanges"][0]["table"]["primaryKeyColumnNames"],
        serde_json::json!(["id"])
    );
    assert_eq!(field_names(&rows[0]), ["id", "name"]);
    assert_eq!(field_names(&rows[1]), ["id", "name", "qty"]);
    assert_eq!(payload(&rows[1])["after"]["name"], "nut");
    assert_eq!(field_names(&rows[2]), ["id", "title", "qty"]);
    assert_eq!(payload(&rows[2])["after"]["title"], "washer");

    // kill -9, a third ALTER while down: the model comes back from the history topic.
    worker.kill9()?;
    exec(
        &maria,
        "inventory",
        &[
            "ALTER TABLE items DROP COLUMN qty",
            "INSERT INTO items VALUES (4, 'screw')",
        ],
    )
    .await?;
    worker.restart().await?;
    let changes = wait_records(&worker, PREFIX, 3, WAIT).await?;
    let rows = wait_records(&worker, TOPIC, 4, WAIT).await?;
    assert_eq!(worker.log().matches(REBUILT).count(), 2, "{}", worker.log());
    assert_eq!(changes.len(), 3);
    assert_eq!(
        column_names(&change_columns(&changes[2], 0)),
        ["id", "title"]
    );
    assert_eq!(field_names(&rows[3]), ["id", "title"]);

    // Each DDL is in the history exactly once, after the schema snapshot.
    let ddl = history_ddl(&worker).await?;
    assert_eq!(ddl.len(), 5, "{ddl:?}");
    assert!(ddl[0].contains("sluice"), "{ddl:?}");
    assert!(ddl[1].contains("`inventory`.`items`"), "{ddl:?}");
    assert!(ddl[2].contains("ADD COLUMN qty"), "{ddl:?}");
    assert!(ddl[3].contains("CHANGE COLUMN name title"), "{ddl:?}");
    assert!(ddl[4].contains("DROP COLUMN qty"), "{ddl:?}");
    let topic = worker.get(&format!("/topics/{HISTORY}")).await?;
    assert_eq!(
        topic["partitions"].as_array().map(Vec::len),
        Some(1),
        "{topic}"
    );
    Ok(())
}

#[tokio::test]
async fn a_deleted_history_topic_fails_with_a_hint_and_recovery_rebuilds_it() -> anyhow::Result<()>
{
    let (maria, mut worker, config) = items_captured("lost").await?;
    worker.terminate()?;
    let history_dir = worker.data_dir().join("data").join("topics").join(HISTORY);
    std::fs::remove_dir_all(&history_dir)?;

    worker.restart().await?;
    let status = worker
        .wait_for("/connectors/lost/status", WAIT, |s| {
            s["tasks"][0]["state"] == "FAILED"
        })
        .await?;
    let trace = status["tasks"][0]["trace"].as_str().unwrap_or_default();
    assert!(
        trace.contains("snapshot.mode=recovery") && trace.contains(HISTORY),
        "{trace}"
    );

    let mut recovery = config["config"].clone();
    recovery["snapshot.mode"] = Value::from("recovery");
    let response = reqwest::Client::new()
        .put(worker.url("/connectors/lost/config"))
        .json(&recovery)
        .send()
        .await?;
    assert!(response.status().is_success(), "{}", response.text().await?);
    running(&worker, "lost").await?;
    exec(
        &maria,
        "inventory",
        &[
            "ALTER TABLE items ADD COLUMN qty INT",
            "INSERT INTO items VALUES (2, 'nut', 7)",
        ],
    )
    .await?;
    let changes = wait_records(&worker, PREFIX, 1, WAIT).await?;
    assert_eq!(
        column_names(&change_columns(&changes[0], 0)),
        ["id", "name", "qty"]
    );
    let rows = wait_records(&worker, TOPIC, 2, WAIT).await?;
    assert_eq!(field_names(&rows[1]), ["id", "name", "qty"]);
    assert!(
        worker.log().contains("snapshot.mode=recovery: rebuilding"),
        "{}",
        worker.log()
    );
    let ddl = history_ddl(&worker).await?;
    assert_eq!(ddl.len(), 3, "{ddl:?}");
    assert!(ddl[2].contains("ADD COLUMN qty"), "{ddl:?}");
    Ok(())
}
