//! The stream survives the database going away: PostgreSQL restarted mid-stream, the
//! connector reconnects and continues with nothing lost or repeated; and an idle slot's
//! `confirmed_flush_lsn` advances while only another database is written, so WAL does not
//! pile up behind quiet tables.

mod common;

use std::time::Duration;

use common::{SCHEMALESS, connector, create, create_items, items, wait_caught_up, wait_records};
use sluice_postgres::Lsn;
use sluice_tests::{PostgresServer, SluiceProcess};

const TOPIC: &str = "dbserver1.public.items";
const WAIT: Duration = Duration::from_secs(120);

#[tokio::test]
async fn postgres_restart_mid_stream_reconnects_and_continues() -> anyhow::Result<()> {
    let mut pg = PostgresServer::start().await?;
    let db = pg.client().await?;
    create_items(&db, 100).await?;
    let worker = SluiceProcess::start().await?;
    create(
        &worker,
        &connector(
            "restart",
            &pg,
            &[
                SCHEMALESS[0],
                SCHEMALESS[1],
                ("table.include.list", "public.items"),
            ],
        ),
    )
    .await?;
    wait_records(&worker, TOPIC, 100, WAIT).await?;
    for id in 101..=200 {
        db.batch_execute(&format!("INSERT INTO public.items VALUES ({id}, 0)"))
            .await?;
    }
    wait_records(&worker, TOPIC, 150, WAIT).await?;
    drop(db);
    pg.restart().await?;
    let db = pg.client().await?;
    for id in 201..=300 {
        db.batch_execute(&format!("INSERT INTO public.items VALUES ({id}, 0)"))
            .await?;
    }
    db.batch_execute("UPDATE public.items SET v = v + 1 WHERE id % 7 = 0")
        .await?;
    let table = items(&db).await?;
    wait_caught_up(&worker, TOPIC, &table, WAIT).await?;
    let status = worker.get("/connectors/restart/status").await?;
    assert_eq!(status["tasks"][0]["state"], "RUNNING", "{status}");
    Ok(())
}

#[tokio::test]
async fn idle_slot_advances_while_another_database_is_written() -> anyhow::Result<()> {
    let pg = PostgresServer::start().await?;
    let db = pg.client().await?;
    create_items(&db, 10).await?;
    pg.create_database("busy").await?;
    let busy = pg.client_for("busy").await?;
    busy.batch_execute("CREATE TABLE noise (id serial PRIMARY KEY, payload text)")
        .await?;
    let worker = SluiceProcess::start().await?;
    create(
        &worker,
        &connector("idle", &pg, &[("table.include.list", "public.items")]),
    )
    .await?;
    wait_records(&worker, TOPIC, 10, WAIT).await?;

    let confirmed = async || -> anyhow::Result<Lsn> {
        let row = db
            .query_one(
                "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = 'slot_idle'",
                &[],
            )
            .await?;
        Ok(row.get::<_, String>(0).parse()?)
    };
    let start = confirmed().await?;
    for _ in 0..50 {
        busy.batch_execute(
            "INSERT INTO noise (payload) SELECT repeat('x', 1000) FROM generate_series(1, 100)",
        )
        .await?;
    }
    let written: Lsn = db
        .query_one("SELECT pg_current_wal_lsn()::text", &[])
        .await?
        .get::<_, String>(0)
        .parse()?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let now = confirmed().await?;
        if now >= written {
            break;
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "the slot stayed at {now} (started at {start}) while WAL reached {written}; log:\n{}",
            common::tail(&worker.log(), 30)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // No event came from the other database.
    assert_eq!(common::read_all(&worker, TOPIC).await?.len(), 10);
    Ok(())
}
