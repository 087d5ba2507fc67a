//! GTIDs on a real MariaDB with a real worker: a restart resumes from the stored GTID
//! position (proved by purging the binlog file the stored file/pos names), and
//! `gtid.source.excludes` skips the rows of one `domain-server` while the position still
//! advances past them; with `snapshot.mode=when_needed`, a resume position whose binlog was
//! purged takes a new snapshot.

mod common;

use std::time::Duration;

use common::*;
use mysql_async::prelude::Queryable;
use serde_json::Value;
use sluice_tests::SluiceProcess;

const TOPIC: &str = "dbserver1.inventory.items";
const ITEMS: [&str; 2] = [
    "CREATE TABLE items (id INT PRIMARY KEY)",
    "INSERT INTO items VALUES (1)",
];

/// The stored offset of connector `name`, once `ready` accepts it.
async fn wait_offset(
    worker: &SluiceProcess,
    name: &str,
    ready: impl Fn(&Value) -> bool,
) -> anyhow::Result<Value> {
    // The source's own partition, not the schema history's.
    let source = |offsets: &Value| -> Value {
        offsets["offsets"]
            .as_array()
            .and_then(|all| {
                all.iter()
                    .find(|o| o["partition"].get("schema_history").is_none())
            })
            .map(|o| o["offset"].clone())
            .unwrap_or(Value::Null)
    };
    let offsets = worker
        .wait_for(
            &format!("/connectors/{name}/offsets"),
            Duration::from_secs(60),
            |o| ready(&source(o)),
        )
        .await?;
    Ok(source(&offsets))
}

fn ids(records: &[Value]) -> Vec<i64> {
    records
        .iter()
        .map(|r| payload(r)["after"]["id"].as_i64().unwrap_or(-1))
        .collect()
}

/// After the snapshot of row 1, streams row 2, waits until the stored offset holds the
/// server's whole GTID position and kills the worker; returns a connection and the binlog
/// file the stored offset names.
async fn stream_row_2_then_kill(
    maria: &sluice_tests::MariaDbServer,
    worker: &mut SluiceProcess,
) -> anyhow::Result<(mysql_async::Conn, String)> {
    // Row 2 is written once the snapshot is out, so it is streamed.
    wait_records(worker, TOPIC, 1, Duration::from_secs(60)).await?;
    exec(maria, "inventory", &["INSERT INTO items VALUES (2)"]).await?;
    wait_records(worker, TOPIC, 2, Duration::from_secs(60)).await?;
    let mut conn = mysql_async::Conn::new(maria.opts_for("inventory")).await?;
    let executed: String = conn
        .query_first("SELECT @@gtid_binlog_pos")
        .await?
        .unwrap_or_default();
    let stored = wait_offset(worker, "items", |o| o["gtids"] == executed.as_str()).await?;
    let stored_file = stored["file"].as_str().unwrap_or_default().to_owned();
    worker.kill9()?;
    Ok((conn, stored_file))
}

/// Purges every binlog file before the current one; `stored_file` must be among them.
async fn purge_to_current(conn: &mut mysql_async::Conn, stored_file: &str) -> anyhow::Result<()> {
    let current: String = conn
        .query_first::<mysql_async::Row, _>("SHOW MASTER STATUS")
        .await?
        .and_then(|row| row.get::<String, _>(0))
        .unwrap_or_default();
    assert_ne!(current, stored_file);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        conn.query_drop(format!("PURGE BINARY LOGS TO '{current}'"))
            .await?;
        let files: Vec<String> = conn
            .query_map("SHOW BINARY LOGS", |row: mysql_async::Row| {
                row.get::<String, _>(0).unwrap_or_default()
            })
            .await?;
        if !files.iter().any(|f| f == stored_file) {
            return Ok(());
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{stored_file} not purged: {files:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn restart_resumes_from_the_gtid_position() -> anyhow::Result<()> {
    // Heartbeats store the position after the last transaction once the stream is idle.
    let (maria, mut worker) =
        inventory_capture(&ITEMS, "items", &[("heartbeat.interval.ms", "200")]).await?;
    let (mut conn, stored_file) = stream_row_2_then_kill(&maria, &mut worker).await?;

    // New rows go to a new binlog file, and the file the stored offset names is purged:
    // only the GTID position can find where to resume.
    conn.query_drop("FLUSH BINARY LOGS").await?;
    conn.query_drop("INSERT INTO items VALUES (3)").await?;
    conn.query_drop("INSERT INTO items VALUES (4)").await?;
    purge_to_current(&mut conn, &stored_file).await?;
    conn.disconnect().await?;

    worker.restart().await?;
    let records = wait_records(&worker, TOPIC, 4, Duration::from_secs(60)).await?;
    assert_eq!(ops(&records), ["r", "c", "c", "c"], "{}", worker.log());
    assert_eq!(ids(&records), [1, 2, 3, 4]);
    let log = worker.log();
    assert!(
        log.contains("binlog stream opened at a GTID position"),
        "{log}"
    );
    assert!(!log.contains("falling back to file/pos"), "{log}");
    Ok(())
}

#[tokio::test]
async fn excluded_gtid_sources_are_skipped_but_their_position_counts() -> anyhow::Result<()> {
    let (maria, worker) =
        inventory_capture(&ITEMS, "items", &[("gtid.source.excludes", "5-77")]).await?;
    wait_records(&worker, TOPIC, 1, Duration::from_secs(60)).await?;
    // Two transactions from another domain and server id (GTIDs 5-77-1, 5-77-2), then one
    // from the server's own.
    exec(
        &maria,
        "inventory",
        &[
            "SET SESSION gtid_domain_id = 5",
            "SET SESSION server_id = 77",
            "INSERT INTO items VALUES (100)",
            "INSERT INTO items VALUES (101)",
        ],
    )
    .await?;
    exec(&maria, "inventory", &["INSERT INTO items VALUES (2)"]).await?;
    let records = wait_records(&worker, TOPIC, 2, Duration::from_secs(60)).await?;
    assert_eq!(ids(&records), [1, 2], "rows of 5-77 skipped");
    let gtid = payload(&records[1])["source"]["gtid"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(gtid.starts_with("0-"), "{gtid}");
    // The offset of the last record already counts the skipped transactions.
    let offset = wait_offset(&worker, "items", |o| {
        o["gtids"]
            .as_str()
            .is_some_and(|g| g.split(',').any(|part| part == "5-77-2"))
    })
    .await?;
    assert!(
        offset["gtids"].as_str().is_some_and(|g| g.contains("0-")),
        "{offset}"
    );
    // Nothing else arrives: a later row of the server's own domain comes next.
    exec(&maria, "inventory", &["INSERT INTO items VALUES (3)"]).await?;
    let records = wait_records(&worker, TOPIC, 3, Duration::from_secs(60)).await?;
    assert_eq!(ids(&records), [1, 2, 3]);
    Ok(())
}

#[tokio::test]
async fn purged_resume_position_takes_a_new_snapshot_when_needed() -> anyhow::Result<()> {
    let (maria, mut worker) = inventory_capture(
        &ITEMS,
        "items",
        &[
            ("heartbeat.interval.ms", "200"),
            ("snapshot.mode", "when_needed"),
        ],
    )
    .await?;
    let (mut conn, stored_file) = stream_row_2_then_kill(&maria, &mut worker).await?;

    // Row 3 goes into the stored file, which is then purged: neither the GTID position nor
    // file/pos can resume, and the change to row 3 is lost to the binlog.
    conn.query_drop("INSERT INTO items VALUES (3)").await?;
    conn.query_drop("FLUSH BINARY LOGS").await?;
    conn.query_drop("INSERT INTO items VALUES (4)").await?;
    purge_to_current(&mut conn, &stored_file).await?;
    conn.disconnect().await?;

    worker.restart().await?;
    let records = wait_records(&worker, TOPIC, 6, Duration::from_secs(90)).await?;
    assert_eq!(
        ops(&records),
        ["r", "c", "r", "r", "r", "r"],
        "{}",
        worker.log()
    );
    assert_eq!(ids(&records), [1, 2, 1, 2, 3, 4]);
    assert!(
        worker
            .log()
            .contains("snapshot.mode=when_needed takes a new snapshot"),
        "{}",
        worker.log()
    );
    // Streaming goes on after the new snapshot.
    exec(&maria, "inventory", &["INSERT INTO items VALUES (5)"]).await?;
    let records = wait_records(&worker, TOPIC, 7, Duration::from_secs(60)).await?;
    assert_eq!(ids(&records[6..]), [5]);
    Ok(())
}
