//! Exactly-once from PostgreSQL into topics: writes running during the snapshot (no gap, no
//! overlap between the snapshot and the stream), and `kill -9` of the worker mid-snapshot and
//! mid-stream followed by restarts (no loss, no duplicates). Each check replays the topic's
//! change events and requires every row version exactly once, in order, ending at the
//! table's contents.

mod common;

use std::time::Duration;

use common::{
    SCHEMALESS, Workload, check_history, connector, create, create_items, end_offset, items,
    wait_caught_up,
};
use sluice_tests::{PostgresServer, SluiceProcess};

const TOPIC: &str = "dbserver1.public.items";
const WAIT: Duration = Duration::from_secs(120);

#[tokio::test]
async fn writes_during_the_snapshot_appear_exactly_once() -> anyhow::Result<()> {
    let pg = PostgresServer::start().await?;
    let db = pg.client().await?;
    create_items(&db, 5_000).await?;
    let worker = SluiceProcess::start().await?;
    let writer = Workload::start(pg.client().await?, 5_001, 5_000);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let keys = [
        SCHEMALESS[0],
        SCHEMALESS[1],
        ("table.include.list", "public.items"),
    ];
    create(&worker, &connector("during", &pg, &keys)).await?;
    // Keep writing until the stream has taken over from the snapshot.
    worker
        .wait_for(&format!("/topics/{TOPIC}"), WAIT, |t| {
            t["partitions"][0]["end_offset"].as_i64().unwrap_or(0) > 5_400
        })
        .await?;
    let transactions = writer.stop().await?;
    let table = items(&db).await?;
    let records = wait_caught_up(&worker, TOPIC, &table, WAIT).await?;
    let reads = records
        .iter()
        .filter(|r| common::op(r) == Some("r"))
        .count();
    assert!(
        reads > 0 && transactions > 0,
        "reads {reads}, transactions {transactions}"
    );
    Ok(())
}

#[tokio::test]
async fn kill_9_mid_snapshot_and_mid_stream_loses_and_duplicates_nothing() -> anyhow::Result<()> {
    let pg = PostgresServer::start().await?;
    let db = pg.client().await?;
    // Large enough that the kill lands mid-snapshot even when the snapshot runs fast.
    let rows = 40_000;
    create_items(&db, rows).await?;
    let mut worker = SluiceProcess::start().await?;
    let keys = [
        SCHEMALESS[0],
        SCHEMALESS[1],
        ("table.include.list", "public.items"),
        ("max.batch.size", "500"),
    ];
    create(&worker, &connector("crash", &pg, &keys)).await?;
    // Mid-snapshot.
    worker
        .wait_for(&format!("/topics/{TOPIC}"), WAIT, |t| {
            t["partitions"][0]["end_offset"].as_i64().unwrap_or(0) >= 500
        })
        .await?;
    let before_kill = end_offset(&worker, TOPIC).await;
    worker.kill9()?;
    assert!(
        before_kill < rows,
        "the snapshot finished before the kill ({before_kill} records)"
    );
    worker.restart().await?;
    let snapshot = common::wait_records(&worker, TOPIC, rows as usize, WAIT).await?;
    check_history(&snapshot[..rows as usize], &items(&db).await?)?;

    // Mid-stream, with writes going on across the kill.
    let writer = Workload::start(pg.client().await?, rows + 1, rows);
    worker
        .wait_for(&format!("/topics/{TOPIC}"), WAIT, |t| {
            t["partitions"][0]["end_offset"].as_i64().unwrap_or(0) >= rows + 300
        })
        .await?;
    worker.kill9()?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    worker.restart().await?;
    worker
        .wait_for(&format!("/topics/{TOPIC}"), WAIT, |t| {
            t["partitions"][0]["end_offset"].as_i64().unwrap_or(0) >= rows + 900
        })
        .await?;
    writer.stop().await?;
    let table = items(&db).await?;
    wait_caught_up(&worker, TOPIC, &table, WAIT).await?;
    let status = worker.get("/connectors/crash/status").await?;
    assert_eq!(status["tasks"][0]["state"], "RUNNING", "{status}");
    Ok(())
}
