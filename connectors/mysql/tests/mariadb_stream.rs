//! The MySQL source against a real MariaDB 10.11 and a real `sluice serve` worker: snapshot
//! then streaming into Debezium-shaped topics, writes during the snapshot, and `kill -9` of
//! the worker mid-stream and inside a large transaction.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use serde_json::Value;
use sluice_tests::{MariaDbServer, SluiceProcess};

const TOPIC: &str = "dbserver1.inventory.customers";
/// Rows in the table snapshotted while writes go on.
const ROWS: i64 = 12_000;

#[tokio::test]
async fn snapshot_then_stream_inserts_updates_deletes() -> anyhow::Result<()> {
    let maria = MariaDbServer::start().await?;
    maria.create_database("inventory").await?;
    exec(
        &maria,
        "inventory",
        &[
            "CREATE TABLE customers (id INT AUTO_INCREMENT PRIMARY KEY, \
             first_name VARCHAR(255) NOT NULL, email VARCHAR(255), score DECIMAL(10,2))",
            "INSERT INTO customers VALUES (1001, 'Sally', 'sally@example.com', 12.50), \
             (1002, 'George', 'gbailey@foobar.com', NULL), (1003, 'Edward', NULL, 7.00)",
        ],
    )
    .await?;
    let worker = SluiceProcess::start().await?;
    let (status, body) = worker
        .post(
            "/connectors",
            &connector("inventory", &maria, "inventory", &[]),
        )
        .await?;
    assert_eq!(status, 201, "{body}");

    let snapshot = wait_records(&worker, TOPIC, 3, Duration::from_secs(60)).await?;
    assert_eq!(ops(&snapshot), ["r", "r", "r"]);
    let first = &snapshot[0];
    assert_eq!(first["key"]["payload"], serde_json::json!({"id": 1001}));
    assert_eq!(
        first["key"]["schema"]["name"],
        "dbserver1.inventory.customers.Key"
    );
    let value = payload(first);
    assert_eq!(value["before"], Value::Null);
    assert_eq!(value["after"]["first_name"], "Sally");
    assert_eq!(value["after"]["email"], "sally@example.com");
    assert_eq!(value["source"]["connector"], "mysql");
    assert_eq!(value["source"]["name"], "dbserver1");
    assert_eq!(value["source"]["db"], "inventory");
    assert_eq!(value["source"]["table"], "customers");
    assert_eq!(value["source"]["snapshot"], "first");
    assert_eq!(payload(&snapshot[1])["source"]["snapshot"], "true");
    assert_eq!(payload(&snapshot[2])["source"]["snapshot"], "last");
    assert_eq!(
        first["value"]["schema"]["name"],
        "dbserver1.inventory.customers.Envelope"
    );

    exec(
        &maria,
        "inventory",
        &[
            "INSERT INTO customers VALUES (1004, 'Anne', 'annek@noanswer.org', 1.25)",
            "UPDATE customers SET email = 'sally@new.example' WHERE id = 1001",
            "DELETE FROM customers WHERE id = 1002",
            "UPDATE customers SET id = 2003 WHERE id = 1003",
        ],
    )
    .await?;
    // c, u, d + tombstone, then the key change: d + tombstone + c.
    let records = wait_records(&worker, TOPIC, 3 + 7, Duration::from_secs(60)).await?;
    let streamed = &records[3..];
    assert_eq!(ops(streamed), ["c", "u", "d", "-", "d", "-", "c"]);

    let insert = payload(&streamed[0]);
    assert_eq!(insert["after"]["id"], 1004);
    assert_eq!(insert["source"]["snapshot"], "false");
    assert!(
        insert["source"]["file"]
            .as_str()
            .unwrap_or_default()
            .starts_with("mysql-bin.")
    );
    assert!(insert["source"]["pos"].as_i64().unwrap_or(0) > 0);
    assert_eq!(insert["source"]["server_id"], maria.server_id());
    let gtid = insert["source"]["gtid"].as_str().unwrap_or_default();
    assert!(
        gtid.starts_with(&format!("0-{}-", maria.server_id())),
        "gtid {gtid}"
    );

    let update = payload(&streamed[1]);
    assert_eq!(update["before"]["email"], "sally@example.com");
    assert_eq!(update["after"]["email"], "sally@new.example");

    let delete = &streamed[2];
    assert_eq!(payload(delete)["before"]["id"], 1002);
    assert_eq!(payload(delete)["after"], Value::Null);
    assert_eq!(streamed[3]["key"]["payload"]["id"], 1002);
    assert_eq!(streamed[3]["value"], Value::Null);

    // Primary-key change: the delete names the new key, the create the old one.
    let header = |record: &Value, name: &str| {
        record["headers"]
            .as_array()
            .and_then(|h| h.iter().find(|p| p[0] == name).map(|p| p[1].clone()))
    };
    assert_eq!(payload(&streamed[4])["before"]["id"], 1003);
    assert!(
        header(&streamed[4], "__debezium.newkey").is_some(),
        "{}",
        streamed[4]
    );
    assert_eq!(payload(&streamed[6])["after"]["id"], 2003);
    assert!(
        header(&streamed[6], "__debezium.oldkey").is_some(),
        "{}",
        streamed[6]
    );

    let status = worker.get("/connectors/inventory/status").await?;
    assert_eq!(status["connector"]["state"], "RUNNING", "{status}");
    assert_eq!(status["tasks"][0]["state"], "RUNNING", "{status}");
    Ok(())
}

#[tokio::test]
async fn writes_during_the_snapshot_arrive_exactly_once() -> anyhow::Result<()> {
    let maria = MariaDbServer::start().await?;
    maria.create_database("inventory").await?;
    exec(
        &maria,
        "inventory",
        &["CREATE TABLE counters (id INT PRIMARY KEY, n INT NOT NULL, pad VARCHAR(200))"],
    )
    .await?;
    // Enough rows that the snapshot is still reading while the writer runs.
    let mut conn = mysql_async::Conn::new(maria.opts_for("inventory")).await?;
    use mysql_async::prelude::Queryable;
    for chunk in 0..ROWS / 1000 {
        let values: Vec<String> = (0..1000)
            .map(|i| format!("({}, 0, REPEAT('x', 150))", chunk * 1000 + i))
            .collect();
        conn.query_drop(format!("INSERT INTO counters VALUES {}", values.join(",")))
            .await?;
    }
    let worker = SluiceProcess::start().await?;
    let (status, body) = worker
        .post(
            "/connectors",
            &connector(
                "counters",
                &maria,
                "inventory",
                &[("max.batch.size", "500")],
            ),
        )
        .await?;
    assert_eq!(status, 201, "{body}");
    // Write while the snapshot runs: updates spread over the table, inserts and deletes.
    let mut expected_updates = 0;
    for round in 1..=40 {
        let id = (round * 487) % ROWS;
        conn.query_drop(format!("UPDATE counters SET n = {round} WHERE id = {id}"))
            .await?;
        conn.query_drop(format!(
            "INSERT INTO counters VALUES ({}, {round}, 'new')",
            100_000 + round
        ))
        .await?;
        conn.query_drop(format!("DELETE FROM counters WHERE id = {}", round * 3))
            .await?;
        expected_updates += 1;
    }
    let expected: BTreeMap<i64, i64> = {
        use mysql_async::prelude::Queryable;
        let rows: Vec<(i64, i64)> = conn.query("SELECT id, n FROM counters").await?;
        rows.into_iter().collect()
    };
    conn.disconnect().await?;
    let topic = "dbserver1.inventory.counters";
    let mut records = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while std::time::Instant::now() < deadline {
        records = read_all(&worker, topic).await?;
        if replay(&records) == expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let replayed = replay(&records);
    let differences = differences(&expected, &replayed);
    assert!(
        differences.is_empty(),
        "{} records, {} rows replayed vs {} in the table; (id, table n, replayed n): \
         {differences:?}; worker log:\n{}",
        records.len(),
        replayed.len(),
        expected.len(),
        worker.log()
    );
    let reads = ops(&records).iter().filter(|op| *op == "r").count();
    assert!(reads >= ROWS as usize - 40, "{reads} snapshot reads");
    assert!(expected_updates > 0);
    Ok(())
}

#[tokio::test]
async fn kill_9_mid_stream_and_mid_transaction_loses_and_duplicates_nothing() -> anyhow::Result<()>
{
    use mysql_async::prelude::Queryable;
    let maria = MariaDbServer::start().await?;
    maria.create_database("inventory").await?;
    exec(
        &maria,
        "inventory",
        &[
            "CREATE TABLE counters (id INT PRIMARY KEY, n INT NOT NULL, pad VARCHAR(100))",
            "INSERT INTO counters SELECT seq, 0, 'snapshot' FROM seq_1_to_10",
        ],
    )
    .await?;
    let mut worker = SluiceProcess::start().await?;
    let (status, body) = worker
        .post(
            "/connectors",
            &connector(
                "counters",
                &maria,
                "inventory",
                &[("max.batch.size", "100")],
            ),
        )
        .await?;
    assert_eq!(status, 201, "{body}");
    let topic = "dbserver1.inventory.counters";
    wait_records(&worker, topic, 10, Duration::from_secs(60)).await?;

    // Mid-stream: many small transactions, the worker killed while they stream in.
    let mut conn = mysql_async::Conn::new(maria.opts_for("inventory")).await?;
    for id in 11..=1_500 {
        conn.query_drop(format!("INSERT INTO counters VALUES ({id}, 1, 'single')"))
            .await?;
    }
    worker
        .wait_for(&format!("/topics/{topic}"), Duration::from_secs(60), |t| {
            end_offset(t) >= 700
        })
        .await?;
    worker.kill9()?;
    worker.restart().await?;

    // Mid-transaction: one 5,000-row transaction (many rows events), then one transaction
    // updating every row; the worker is killed inside each.
    conn.query_drop("INSERT INTO counters SELECT seq, 2, REPEAT('t', 90) FROM seq_1501_to_6500")
        .await?;
    worker
        .wait_for(&format!("/topics/{topic}"), Duration::from_secs(60), |t| {
            end_offset(t) >= 1_500 + 2_000
        })
        .await?;
    worker.kill9()?;
    worker.restart().await?;
    conn.query_drop("UPDATE counters SET n = n + 10").await?;
    worker
        .wait_for(&format!("/topics/{topic}"), Duration::from_secs(60), |t| {
            end_offset(t) >= 6_500 + 1_000
        })
        .await?;
    worker.kill9()?;
    worker.restart().await?;

    let expected: BTreeMap<i64, i64> = conn
        .query::<(i64, i64), _>("SELECT id, n FROM counters")
        .await?
        .into_iter()
        .collect();
    conn.disconnect().await?;
    // 6,500 creates/reads and 6,500 updates, each exactly once.
    let records = wait_records(&worker, topic, 13_000, Duration::from_secs(120)).await?;
    assert_eq!(records.len(), 13_000, "records after three kills");
    assert_eq!(replay(&records), expected);
    let status = worker.get("/connectors/counters/status").await?;
    assert_eq!(status["tasks"][0]["state"], "RUNNING", "{status}");
    Ok(())
}
