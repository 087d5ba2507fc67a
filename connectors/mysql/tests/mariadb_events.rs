//! Streaming features of the MySQL source against a real MariaDB and a real worker:
//! transaction metadata (BEGIN/END records and event blocks, numbered the same across a
//! `kill -9` mid-transaction), TRUNCATE as a truncate event, a queue bounded in bytes.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{Value, json};

const TRANSACTIONS: &str = "dbserver1.transaction";

/// The `transaction` block of a change record.
fn block(record: &Value) -> &Value {
    &payload(record)["transaction"]
}

#[tokio::test]
async fn transaction_metadata_begin_end_and_event_blocks() -> anyhow::Result<()> {
    use mysql_async::prelude::Queryable;
    let (maria, mut worker) = inventory_capture(
        &[
            "CREATE TABLE orders (id INT PRIMARY KEY, qty INT)",
            "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20))",
            "INSERT INTO orders VALUES (1, 1)",
        ],
        "tx",
        &[
            ("provide.transaction.metadata", "true"),
            ("max.batch.size", "200"),
        ],
    )
    .await?;
    let snapshot = wait_records(
        &worker,
        "dbserver1.inventory.orders",
        1,
        Duration::from_secs(60),
    )
    .await?;
    assert_eq!(
        block(&snapshot[0]),
        &Value::Null,
        "snapshot reads have no block"
    );

    // One transaction over two tables, with a primary-key change (delete + create).
    let mut conn = mysql_async::Conn::new(maria.opts_for("inventory")).await?;
    conn.query_drop("BEGIN").await?;
    conn.query_drop("INSERT INTO orders VALUES (2, 5), (3, 7)")
        .await?;
    conn.query_drop("INSERT INTO items VALUES (10, 'bolt')")
        .await?;
    conn.query_drop("UPDATE items SET id = 11 WHERE id = 10")
        .await?;
    conn.query_drop("COMMIT").await?;
    // A transaction touching no captured row writes no metadata.
    conn.query_drop("CREATE DATABASE other").await?;
    conn.query_drop("CREATE TABLE other.notes (id INT PRIMARY KEY)")
        .await?;
    conn.query_drop("INSERT INTO other.notes VALUES (1)")
        .await?;
    let transactions = wait_records(&worker, TRANSACTIONS, 2, Duration::from_secs(60)).await?;
    let begin = payload(&transactions[0]);
    let end = payload(&transactions[1]);
    assert_eq!(begin["status"], "BEGIN");
    assert_eq!(end["status"], "END");
    let id = begin["id"].as_str().unwrap_or_default().to_owned();
    assert!(
        id.starts_with(&format!("0-{}-", maria.server_id())),
        "MariaDB transaction ids are GTIDs: {id}"
    );
    assert_eq!(transactions[0]["key"]["payload"]["id"], id.as_str());
    assert_eq!(end["id"], id.as_str());
    assert_eq!(end["event_count"], 5);
    assert_eq!(
        end["data_collections"],
        json!([
            {"data_collection": "inventory.orders", "event_count": 2},
            {"data_collection": "inventory.items", "event_count": 3},
        ])
    );
    assert_eq!(begin["event_count"], Value::Null);

    let orders = wait_records(
        &worker,
        "dbserver1.inventory.orders",
        3,
        Duration::from_secs(60),
    )
    .await?;
    let items = wait_records(
        &worker,
        "dbserver1.inventory.items",
        4,
        Duration::from_secs(60),
    )
    .await?;
    assert_eq!(ops(&items), ["c", "d", "-", "c"]);
    let orders_blocks: Vec<&Value> = orders[1..].iter().map(block).collect();
    assert_eq!(
        orders_blocks,
        [
            &json!({"id": id, "total_order": 1, "data_collection_order": 1}),
            &json!({"id": id, "total_order": 2, "data_collection_order": 2}),
        ]
    );
    assert_eq!(
        payload(&orders[1])["source"]["gtid"],
        id.as_str(),
        "the id is the event's GTID"
    );
    let item_orders: Vec<(Value, Value)> = items
        .iter()
        .map(|r| {
            (
                block(r)["total_order"].clone(),
                block(r)["data_collection_order"].clone(),
            )
        })
        .collect();
    assert_eq!(
        item_orders,
        [
            (json!(3), json!(1)),
            (json!(4), json!(2)),
            (Value::Null, Value::Null),
            (json!(5), json!(3)),
        ]
    );

    // A large transaction with the worker killed while it streams: BEGIN and END once, and
    // every event numbered once, in order.
    conn.query_drop("INSERT INTO orders SELECT seq, 0 FROM seq_100_to_3099")
        .await?;
    worker
        .wait_for(
            "/topics/dbserver1.inventory.orders",
            Duration::from_secs(60),
            |t| end_offset(t) >= 3 + 800,
        )
        .await?;
    worker.kill9()?;
    worker.restart().await?;
    let orders = wait_records(
        &worker,
        "dbserver1.inventory.orders",
        3 + 3_000,
        Duration::from_secs(120),
    )
    .await?;
    assert_eq!(orders.len(), 3 + 3_000, "no duplicate after the kill");
    let big_id = block(&orders[3])["id"].clone();
    let numbering: Vec<i64> = orders[3..]
        .iter()
        .map(|r| {
            assert_eq!(block(r)["id"], big_id);
            block(r)["total_order"].as_i64().unwrap_or(-1)
        })
        .collect();
    assert_eq!(numbering, (1..=3_000).collect::<Vec<i64>>());
    let transactions = wait_records(&worker, TRANSACTIONS, 4, Duration::from_secs(60)).await?;
    assert_eq!(transactions.len(), 4, "{transactions:?}");
    assert_eq!(payload(&transactions[2])["status"], "BEGIN");
    assert_eq!(payload(&transactions[2])["id"], big_id);
    assert_eq!(payload(&transactions[3])["status"], "END");
    assert_eq!(payload(&transactions[3])["event_count"], 3_000);
    conn.disconnect().await?;
    Ok(())
}

#[tokio::test]
async fn truncate_is_a_keyless_op_t_event_and_no_schema_change() -> anyhow::Result<()> {
    let (maria, worker) = inventory_capture(
        &[
            "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20))",
            "INSERT INTO items VALUES (1, 'bolt'), (2, 'nut')",
        ],
        "items",
        &[("skipped.operations", "none")],
    )
    .await?;
    // Debezium's default `skipped.operations=t` leaves truncates out.
    let quiet = connector(
        "quiet",
        &maria,
        "inventory",
        &[("topic.prefix", "quiet"), ("database.server.id", "184055")],
    );
    let (status, body) = worker.post("/connectors", &quiet).await?;
    assert_eq!(status, 201, "{body}");
    wait_records(
        &worker,
        "dbserver1.inventory.items",
        2,
        Duration::from_secs(60),
    )
    .await?;
    wait_records(&worker, "quiet.inventory.items", 2, Duration::from_secs(60)).await?;
    exec(
        &maria,
        "inventory",
        &[
            "TRUNCATE TABLE items",
            "INSERT INTO items VALUES (3, 'washer')",
            "ALTER TABLE items ADD COLUMN qty INT",
        ],
    )
    .await?;
    let records = wait_records(
        &worker,
        "dbserver1.inventory.items",
        4,
        Duration::from_secs(60),
    )
    .await?;
    assert_eq!(ops(&records), ["r", "r", "t", "c"]);
    let truncate = &records[2];
    assert_eq!(truncate["key"], Value::Null, "{truncate}");
    let value = payload(truncate);
    assert_eq!(value["before"], Value::Null);
    assert_eq!(value["after"], Value::Null);
    assert_eq!(value["source"]["table"], "items");
    assert_eq!(value["source"]["db"], "inventory");
    assert!(value["source"]["gtid"].is_string(), "{value}");
    assert_eq!(
        truncate["value"]["schema"]["name"],
        "dbserver1.inventory.items.Envelope"
    );
    // The ALTER after it reaches the schema-change topic; the TRUNCATE does not.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let ddl = loop {
        let ddl: Vec<String> = read_all(&worker, PREFIX)
            .await?
            .iter()
            .map(|r| payload(r)["ddl"].as_str().unwrap_or_default().to_owned())
            .collect();
        if ddl.iter().any(|d| d.starts_with("ALTER TABLE items")) {
            break ddl;
        }
        assert!(std::time::Instant::now() < deadline, "no ALTER in {ddl:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(!ddl.iter().any(|d| d.starts_with("TRUNCATE")), "{ddl:?}");
    let quiet = wait_records(&worker, "quiet.inventory.items", 3, Duration::from_secs(60)).await?;
    assert_eq!(ops(&quiet), ["r", "r", "c"]);
    Ok(())
}

#[tokio::test]
async fn a_tiny_byte_bound_on_the_queue_still_drains_everything() -> anyhow::Result<()> {
    use mysql_async::prelude::Queryable;
    // 2 KB: most batches hold a few rows, and rows up to 3 KB exceed the bound on their own.
    let (maria, worker) = inventory_capture(
        &[
            "CREATE TABLE blobs (id INT PRIMARY KEY, body TEXT)",
            "INSERT INTO blobs SELECT seq, REPEAT('s', seq) FROM seq_1_to_500",
        ],
        "blobs",
        &[
            ("max.queue.size.in.bytes", "2048"),
            ("max.batch.size", "50"),
            ("max.queue.size", "100"),
        ],
    )
    .await?;
    let topic = "dbserver1.inventory.blobs";
    // The snapshot's read view must be open before the writes below, or they are read as
    // `r` rows instead of streamed: its 500 rows in the topic show that it is.
    wait_records(&worker, topic, 500, Duration::from_secs(60)).await?;
    let mut conn = mysql_async::Conn::new(maria.opts_for("inventory")).await?;
    conn.query_drop("INSERT INTO blobs SELECT seq, REPEAT('x', seq % 3000) FROM seq_1001_to_4000")
        .await?;
    for id in 1..=100 {
        conn.query_drop(format!("UPDATE blobs SET body = 'u{id}' WHERE id = {id}"))
            .await?;
    }
    conn.disconnect().await?;
    let records = wait_records(&worker, topic, 500 + 3_000 + 100, Duration::from_secs(120)).await?;
    assert_eq!(records.len(), 3_600, "nothing lost, nothing twice");
    let ids = |op: &str| -> Vec<i64> {
        records
            .iter()
            .filter(|r| payload(r)["op"] == op)
            .map(|r| payload(r)["after"]["id"].as_i64().unwrap_or(-1))
            .collect()
    };
    assert_eq!(ids("r"), (1..=500).collect::<Vec<i64>>());
    assert_eq!(ids("c"), (1_001..=4_000).collect::<Vec<i64>>());
    assert_eq!(ids("u"), (1..=100).collect::<Vec<i64>>());
    let longest = records
        .iter()
        .map(|r| payload(r)["after"]["body"].as_str().map_or(0, str::len))
        .max();
    assert_eq!(longest, Some(2_999));
    Ok(())
}
