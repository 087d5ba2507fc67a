//! The connector in a real `sluice serve` worker against a real PostgreSQL: the initial
//! snapshot (op `r`, snapshot markers first/true/last) and streamed inserts, updates,
//! deletes with tombstones, a primary-key change (delete + tombstone + create with the
//! Debezium key headers), TRUNCATE, and the Debezium JSON of key, envelope and source.

mod common;

use std::time::Duration;

use anyhow::Context;
use common::{connector, create, op, row, wait_records};
use serde_json::{Value, json};
use sluice_tests::{PostgresServer, SluiceProcess};

const TOPIC: &str = "dbserver1.inventory.customers";
const WAIT: Duration = Duration::from_secs(60);

#[tokio::test]
async fn snapshot_then_stream_with_debezium_json() -> anyhow::Result<()> {
    let pg = PostgresServer::start().await?;
    let db = pg.client().await?;
    db.batch_execute(
        "CREATE SCHEMA inventory;
         CREATE TABLE inventory.customers (
             id int PRIMARY KEY, first_name text NOT NULL DEFAULT 'anon', email text);
         INSERT INTO inventory.customers VALUES
             (1001, 'Sally', 'sally@example.com'), (1002, 'George', NULL), (1003, 'Edward', 'ed@walker.com');
         CREATE TABLE public.ignored (id int PRIMARY KEY);",
    )
    .await?;
    let worker = SluiceProcess::start().await?;
    create(
        &worker,
        &connector("inventory", &pg, &[("schema.include.list", "inventory")]),
    )
    .await?;

    let snapshot = wait_records(&worker, TOPIC, 3, WAIT).await?;
    let markers: Vec<&str> = snapshot
        .iter()
        .map(|r| {
            r["value"]["payload"]["source"]["snapshot"]
                .as_str()
                .unwrap_or("?")
        })
        .collect();
    assert_eq!(markers, ["first", "true", "last"]);
    assert!(snapshot.iter().all(|r| op(r) == Some("r")));
    let first = &snapshot[0];
    assert_eq!(first["key"]["payload"], json!({"id": 1001}));
    assert_eq!(
        first["key"]["schema"]["name"],
        "dbserver1.inventory.customers.Key"
    );
    assert_eq!(
        first["value"]["schema"]["name"],
        "dbserver1.inventory.customers.Envelope"
    );
    assert_eq!(
        row(first),
        &json!({"id": 1001, "first_name": "Sally", "email": "sally@example.com"})
    );
    let source = &first["value"]["payload"]["source"];
    assert_eq!(source["connector"], "postgresql");
    assert_eq!(source["name"], "dbserver1");
    assert_eq!(source["db"], "postgres");
    assert_eq!(source["schema"], "inventory");
    assert_eq!(source["table"], "customers");
    assert!(source["lsn"].as_i64().is_some_and(|l| l > 0), "{source}");
    // Every snapshot row carries the snapshot transaction's id; xmin stays null by default.
    let snapshot_tx = source["txId"].as_i64();
    assert!(snapshot_tx.is_some(), "{source}");
    assert!(
        snapshot
            .iter()
            .all(|r| r["value"]["payload"]["source"]["txId"].as_i64() == snapshot_tx)
    );
    assert!(source["xmin"].is_null(), "{source}");
    // Column defaults from the catalog reach the event schema (as Debezium's do).
    let after_fields = first["value"]["schema"]["fields"]
        .as_array()
        .and_then(|fields| fields.iter().find(|f| f["field"] == "after"))
        .map(|after| after["fields"].clone())
        .unwrap_or_default();
    let first_name = after_fields
        .as_array()
        .and_then(|fields| fields.iter().find(|f| f["field"] == "first_name"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(first_name["default"], "anon", "{after_fields}");
    assert!(first["value"]["payload"]["before"].is_null());
    assert_eq!(row(&snapshot[1])["email"], Value::Null);

    // Streamed changes, each its own transaction.
    for statement in [
        "INSERT INTO inventory.customers VALUES (1004, 'Anne', 'annek@noanswer.org')",
        "UPDATE inventory.customers SET email = 'sally@new.example' WHERE id = 1001",
        "DELETE FROM inventory.customers WHERE id = 1002",
        "UPDATE inventory.customers SET id = 2003 WHERE id = 1003",
        "INSERT INTO public.ignored VALUES (1)",
        "TRUNCATE inventory.customers",
    ] {
        db.batch_execute(statement).await.context(statement)?;
    }
    // 3 snapshot + c + u + d + tombstone + (d + tombstone + c) + t.
    let records = wait_records(&worker, TOPIC, 11, WAIT).await?;
    let streamed = &records[3..];
    let ops: Vec<Option<&str>> = streamed.iter().map(op).collect();
    assert_eq!(
        ops,
        [
            Some("c"),
            Some("u"),
            Some("d"),
            None,
            Some("d"),
            None,
            Some("c"),
            Some("t")
        ],
        "{streamed:#?}"
    );
    let insert = &streamed[0];
    assert_eq!(row(insert)["first_name"], "Anne");
    let insert_source = &insert["value"]["payload"]["source"];
    assert_eq!(insert_source["snapshot"], "false");
    assert!(insert_source["txId"].as_i64().is_some(), "{insert_source}");
    assert_ne!(insert_source["txId"].as_i64(), snapshot_tx);
    assert!(insert_source["xmin"].is_null(), "{insert_source}");
    assert!(insert_source["lsn"].as_i64().is_some(), "{insert_source}");
    let update = &streamed[1];
    assert_eq!(row(update)["email"], "sally@new.example");
    // REPLICA IDENTITY DEFAULT: no old row for updates; deletes carry the key.
    assert!(update["value"]["payload"]["before"].is_null());
    let delete = &streamed[2];
    assert_eq!(delete["value"]["payload"]["before"]["id"], 1002);
    assert_eq!(delete["key"]["payload"], json!({"id": 1002}));
    let tombstone = &streamed[3];
    assert!(tombstone["value"].is_null());
    assert_eq!(tombstone["key"]["payload"], json!({"id": 1002}));
    // The key change.
    assert_eq!(streamed[4]["key"]["payload"], json!({"id": 1003}));
    assert_eq!(streamed[6]["key"]["payload"], json!({"id": 2003}));
    let header = |record: &Value, name: &str| {
        record["headers"].as_array().and_then(|h| {
            h.iter()
                .find(|pair| pair[0] == name)
                .map(|pair| pair[1].clone())
        })
    };
    assert!(
        header(&streamed[4], "__debezium.newkey").is_some(),
        "{}",
        streamed[4]
    );
    assert!(
        header(&streamed[6], "__debezium.oldkey").is_some(),
        "{}",
        streamed[6]
    );
    // TRUNCATE: op t, no key.
    assert!(streamed[7]["key"].is_null());
    // Nothing from the table outside schema.include.list.
    assert!(
        common::read_all(&worker, "dbserver1.public.ignored")
            .await?
            .is_empty()
    );
    let status = worker.get("/connectors/inventory/status").await?;
    assert_eq!(status["tasks"][0]["state"], "RUNNING", "{status}");
    Ok(())
}
