//! The MySQL source in operation against a real MariaDB and a real worker: DDL mid-stream
//! (schema before and after, schema-change records), the server restarted mid-stream, and
//! bad configurations or server settings failing the connector with the reason.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{Value, json};
use sluice_tests::{MariaDbServer, SluiceProcess};

const TOPIC: &str = "dbserver1.inventory.items";

#[tokio::test]
async fn ddl_mid_stream_changes_schemas_and_emits_schema_changes() -> anyhow::Result<()> {
    let maria = MariaDbServer::start().await?;
    maria.create_database("inventory").await?;
    exec(
        &maria,
        "inventory",
        &[
            "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20), qty INT)",
            "INSERT INTO items VALUES (1, 'bolt', 5)",
        ],
    )
    .await?;
    let worker = SluiceProcess::start().await?;
    let (status, body) = worker
        .post("/connectors", &connector("items", &maria, "inventory", &[]))
        .await?;
    assert_eq!(status, 201, "{body}");
    // DDL once the snapshot is over (a table renamed while the snapshot reads it fails the
    // snapshot; see the issue note).
    wait_records(&worker, TOPIC, 1, Duration::from_secs(60)).await?;
    // All four DDL (each followed by a row) at once: each schema-change record still shows
    // the table as its own DDL left it (from the schema model, not the catalog's final state).
    exec(
        &maria,
        "inventory",
        &[
            "ALTER TABLE items ADD COLUMN price DECIMAL(8,2)",
            "INSERT INTO items VALUES (2, 'nut', 7, 0.25)",
            "ALTER TABLE items DROP COLUMN qty",
            "INSERT INTO items VALUES (3, 'washer', 0.10)",
            "ALTER TABLE items MODIFY COLUMN name VARCHAR(80) NOT NULL",
            "INSERT INTO items VALUES (4, 'a much longer item name than twenty', 1.00)",
            "RENAME TABLE items TO goods",
            "INSERT INTO goods VALUES (5, 'screw', 0.05)",
        ],
    )
    .await?;
    let records = wait_records(&worker, TOPIC, 4, Duration::from_secs(60)).await?;
    assert_eq!(ops(&records), ["r", "c", "c", "c"]);
    assert_eq!(field_names(&records[0]), ["id", "name", "qty"]);
    assert_eq!(field_names(&records[1]), ["id", "name", "qty", "price"]);
    assert_eq!(payload(&records[1])["after"]["qty"], 7);
    assert_eq!(field_names(&records[2]), ["id", "name", "price"]);
    assert_eq!(field_names(&records[3]), ["id", "name", "price"]);
    assert_eq!(
        payload(&records[3])["after"]["name"],
        "a much longer item name than twenty"
    );
    let renamed = wait_records(
        &worker,
        "dbserver1.inventory.goods",
        1,
        Duration::from_secs(60),
    )
    .await?;
    assert_eq!(payload(&renamed[0])["after"]["name"], "screw");

    // Schema changes: CREATE happened before the connector; ADD, DROP, MODIFY, RENAME after.
    let changes = wait_records(&worker, PREFIX, 4, Duration::from_secs(60)).await?;
    let ddl: Vec<&str> = changes
        .iter()
        .map(|r| payload(r)["ddl"].as_str().unwrap_or_default())
        .collect();
    assert!(ddl[0].contains("ADD COLUMN price"), "{ddl:?}");
    assert!(ddl[1].contains("DROP COLUMN qty"), "{ddl:?}");
    assert!(ddl[2].contains("MODIFY COLUMN name"), "{ddl:?}");
    assert!(ddl[3].starts_with("RENAME TABLE"), "{ddl:?}");
    let first = payload(&changes[0]);
    assert_eq!(changes[0]["key"]["payload"]["databaseName"], "inventory");
    assert_eq!(first["databaseName"], "inventory");
    let table_change = &first["tableChanges"][0];
    assert_eq!(table_change["type"], "ALTER");
    assert_eq!(table_change["id"], "\"inventory\".\"items\"");
    let columns: Vec<&str> = table_change["table"]["columns"]
        .as_array()
        .map(|c| c.iter().map(|c| c["name"].as_str().unwrap_or("")).collect())
        .unwrap_or_default();
    assert_eq!(columns, ["id", "name", "qty", "price"]);
    assert_eq!(
        table_change["table"]["primaryKeyColumnNames"],
        serde_json::json!(["id"])
    );
    let dropped = change_columns(&changes[1], 0);
    assert_eq!(column_names(&dropped), ["id", "name", "price"]);
    assert_eq!((&dropped[1].1, &dropped[1].2), (&json!(20), &json!(true)));
    let modified = change_columns(&changes[2], 0);
    assert_eq!(column_names(&modified), ["id", "name", "price"]);
    assert_eq!(
        (&modified[1].1, &modified[1].2),
        (&json!(80), &json!(false))
    );
    assert_eq!(
        column_names(&change_columns(&changes[3], 1)),
        ["id", "name", "price"]
    );
    assert_eq!(
        payload(&changes[3])["tableChanges"][1]["id"],
        "\"inventory\".\"goods\""
    );
    let rename = payload(&changes[3]);
    let kinds: Vec<&str> = rename["tableChanges"]
        .as_array()
        .map(|c| c.iter().map(|c| c["type"].as_str().unwrap_or("")).collect())
        .unwrap_or_default();
    assert_eq!(kinds, ["DROP", "CREATE"]);
    Ok(())
}

#[tokio::test]
async fn mariadb_restarted_mid_stream_reconnects_and_continues() -> anyhow::Result<()> {
    let mut maria = MariaDbServer::start().await?;
    maria.create_database("inventory").await?;
    exec(
        &maria,
        "inventory",
        &["CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20))"],
    )
    .await?;
    let worker = SluiceProcess::start().await?;
    let (status, body) = worker
        .post("/connectors", &connector("items", &maria, "inventory", &[]))
        .await?;
    assert_eq!(status, 201, "{body}");
    exec(
        &maria,
        "inventory",
        &["INSERT INTO items VALUES (1, 'before')"],
    )
    .await?;
    wait_records(&worker, TOPIC, 1, Duration::from_secs(60)).await?;

    maria.restart().await?;
    exec(
        &maria,
        "inventory",
        &["INSERT INTO items VALUES (2, 'after restart')"],
    )
    .await?;
    maria.crash().await?;
    maria.restart().await?;
    exec(
        &maria,
        "inventory",
        &["INSERT INTO items VALUES (3, 'after crash')"],
    )
    .await?;

    let records = wait_records(&worker, TOPIC, 3, Duration::from_secs(60)).await?;
    let names: Vec<&str> = records
        .iter()
        .map(|r| payload(r)["after"]["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names, ["before", "after restart", "after crash"]);
    // Later events come from a newer binlog file.
    assert_ne!(
        payload(&records[0])["source"]["file"],
        payload(&records[2])["source"]["file"]
    );
    let status = worker.get("/connectors/items/status").await?;
    assert_eq!(status["tasks"][0]["state"], "RUNNING", "{status}");
    Ok(())
}

/// Posts `config` and waits until the connector (or its task) is FAILED; returns the trace.
async fn failure_trace(worker: &SluiceProcess, config: &Value) -> anyhow::Result<String> {
    let name = config["name"].as_str().unwrap_or_default().to_owned();
    let (status, body) = worker.post("/connectors", config).await?;
    assert!(status == 201 || status == 400, "{status} {body}");
    if status == 400 {
        return Ok(body.to_string());
    }
    let status = worker
        .wait_for(
            &format!("/connectors/{name}/status"),
            Duration::from_secs(60),
            |s| s["connector"]["state"] == "FAILED" || s["tasks"][0]["state"] == "FAILED",
        )
        .await?;
    let trace = status["connector"]["trace"]
        .as_str()
        .or(status["tasks"][0]["trace"].as_str())
        .unwrap_or_default();
    Ok(trace.to_owned())
}

#[tokio::test]
async fn bad_settings_fail_the_connector_with_the_reason() -> anyhow::Result<()> {
    let maria = MariaDbServer::start().await?;
    maria.create_database("inventory").await?;
    exec(
        &maria,
        "inventory",
        &[
            "CREATE USER 'reader'@'%' IDENTIFIED BY 'pw'",
            "GRANT SELECT ON *.* TO 'reader'@'%'",
        ],
    )
    .await?;
    let statement = MariaDbServer::start_with_options(&["--binlog-format=STATEMENT"]).await?;
    let worker = SluiceProcess::start().await?;

    let trace = failure_trace(
        &worker,
        &connector(
            "badpass",
            &maria,
            "inventory",
            &[("database.password", "wrong")],
        ),
    )
    .await?;
    assert!(trace.contains("Access denied"), "{trace}");
    assert!(
        trace.contains(&format!("127.0.0.1:{}", maria.port())),
        "{trace}"
    );

    let trace = failure_trace(
        &worker,
        &connector(
            "noprivs",
            &maria,
            "inventory",
            &[("database.user", "reader"), ("database.password", "pw")],
        ),
    )
    .await?;
    assert!(trace.contains("REPLICATION SLAVE"), "{trace}");
    assert!(trace.contains("GRANT"), "{trace}");

    let trace = failure_trace(
        &worker,
        &connector("statement", &statement, "inventory", &[]),
    )
    .await?;
    assert!(trace.contains("binlog_format=STATEMENT"), "{trace}");
    assert!(trace.contains("binlog_format=ROW"), "{trace}");

    let trace = failure_trace(
        &worker,
        &connector(
            "badmode",
            &maria,
            "inventory",
            &[("snapshot.mode", "sometimes")],
        ),
    )
    .await?;
    assert!(trace.contains("snapshot.mode"), "{trace}");
    Ok(())
}
