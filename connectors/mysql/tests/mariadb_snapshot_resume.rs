//! `kill -9` of a real worker in the middle of the initial snapshot while writes run: the
//! restarted connector resumes the snapshot (tables already read are not read again, the
//! table in progress continues after its last stored key, the rest is read as of the
//! original snapshot position), so every row appears once as `r`, every later change once,
//! and replaying each topic gives the table.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::*;
use mysql_async::prelude::Queryable;
use sluice_tests::{MariaDbServer, SluiceProcess};

/// The tables in snapshot order and their row counts: the kill lands in the middle one.
const TABLES: [(&str, i64); 3] = [("a_first", 3_000), ("counters", 20_000), ("z_last", 3_000)];

async fn fill(conn: &mut mysql_async::Conn, table: &str, rows: i64) -> anyhow::Result<()> {
    conn.query_drop(format!(
        "CREATE TABLE {table} (id INT PRIMARY KEY, n INT NOT NULL, pad VARCHAR(200))"
    ))
    .await?;
    conn.query_drop(format!(
        "INSERT INTO {table} SELECT seq, 0, REPEAT('x', 150) FROM seq_1_to_{rows}"
    ))
    .await?;
    Ok(())
}

/// Updates, inserts, deletes and key changes spread over the three tables until `stop`.
async fn write_until(opts: mysql_async::Opts, stop: Arc<AtomicBool>) -> anyhow::Result<u64> {
    let mut conn = mysql_async::Conn::new(opts).await?;
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut statements = 0;
    let mut round = 0i64;
    while !stop.load(Ordering::Relaxed) {
        round += 1;
        for (table, rows) in TABLES {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let id = (state % rows as u64) as i64 + 1;
            let fresh = 1_000_000 + round;
            for sql in [
                format!("UPDATE {table} SET n = n + 1 WHERE id = {id}"),
                format!("INSERT INTO {table} VALUES ({fresh}, {round}, 'new')"),
                format!("DELETE FROM {table} WHERE id = {}", (id * 7) % rows + 1),
                format!(
                    "UPDATE {table} SET id = {} WHERE id = {}",
                    2_000_000 + round,
                    (id * 13) % rows + 1
                ),
            ] {
                conn.query_drop(sql).await?;
                statements += 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    conn.disconnect().await?;
    Ok(statements)
}

#[tokio::test]
async fn kill_9_mid_snapshot_resumes_without_duplicates_or_gaps() -> anyhow::Result<()> {
    let maria = MariaDbServer::start().await?;
    maria.create_database("inventory").await?;
    let mut conn = mysql_async::Conn::new(maria.opts_for("inventory")).await?;
    for (table, rows) in TABLES {
        fill(&mut conn, table, rows).await?;
    }
    // Captured, empty at the snapshot: a row written after the last change marks the end.
    conn.query_drop("CREATE TABLE zz_marker (id INT PRIMARY KEY)")
        .await?;
    let mut worker = SluiceProcess::start().await?;
    let (status, body) = worker
        .post(
            "/connectors",
            &connector(
                "counters",
                &maria,
                "inventory",
                &[
                    ("max.batch.size", "500"),
                    // Payloads only: the checks read every record back over REST.
                    ("key.converter.schemas.enable", "false"),
                    ("value.converter.schemas.enable", "false"),
                ],
            ),
        )
        .await?;
    assert_eq!(status, 201, "{body}");

    let stop = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn(write_until(maria.opts_for("inventory"), stop.clone()));
    let topic = |table: &str| format!("dbserver1.inventory.{table}");
    worker
        .wait_for(
            &format!("/topics/{}", topic("counters")),
            Duration::from_secs(120),
            |t| end_offset(t) >= 6_000,
        )
        .await?;
    worker.kill9()?;
    // Writes go on while the worker is down: the window a resumed snapshot must account for.
    tokio::time::sleep(Duration::from_millis(800)).await;
    worker.restart().await?;
    // Writes go on while the snapshot resumes, and then while it streams.
    worker
        .wait_for(
            "/connectors/counters/status",
            Duration::from_secs(60),
            |s| s["tasks"][0]["state"] == "RUNNING",
        )
        .await?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::Relaxed);
    let statements = writer.await??;
    assert!(statements > 0);
    conn.query_drop("INSERT INTO zz_marker VALUES (1)").await?;
    wait_records(&worker, &topic("zz_marker"), 1, Duration::from_secs(120)).await?;

    for (table, _) in TABLES {
        let expected: BTreeMap<i64, i64> = conn
            .query::<(i64, i64), _>(format!("SELECT id, n FROM {table}"))
            .await?
            .into_iter()
            .collect();
        let records = read_all(&worker, &topic(table)).await?;
        let replayed = replay(&records);
        let wrong = differences(&expected, &replayed);
        assert!(
            wrong.is_empty(),
            "{table}: {} records; (id, table n, replayed n): {wrong:?}; log:\n{}",
            records.len(),
            worker.log()
        );
    }
    conn.disconnect().await?;
    let log = worker.log();
    assert!(
        log.contains("resuming the interrupted snapshot"),
        "the kill did not land in the snapshot, or it was not resumed; log:\n{log}"
    );
    let status = worker.get("/connectors/counters/status").await?;
    assert_eq!(status["tasks"][0]["state"], "RUNNING", "{status}");
    Ok(())
}
