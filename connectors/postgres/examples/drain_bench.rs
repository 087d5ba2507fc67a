//! Benchmark: drain N row changes already waiting in a logical replication slot into the
//! broker with a real `sluice serve` worker (default JSON converter with schemas), against
//! `pg_recvlogical` draining an identical second pgoutput slot to /dev/null in the same run.
//!
//! `cargo run --release -p sluice-postgres --example drain_bench [rows]` (default 500000).
//!
//! Both slots are created (same publication) before any row is written, so both hold the
//! same changes. The rows are inserted in transactions of 1,000; then `pg_recvlogical`
//! drains its slot up to the WAL end, then the connector is created with
//! `snapshot.mode=no_data` on its existing slot and timed from the creation request until
//! the topic holds every row.

mod common;

use std::time::Instant;

use sluice_tests::{PostgresServer, SluiceProcess};

/// The publication both the connector and the reference read (the connector's name is
/// "bench", see `common::connector`).
const PUBLICATION: &str = "pub_bench";
/// The connector's slot.
const SLOT: &str = "slot_bench";
/// The reference's slot.
const REFERENCE_SLOT: &str = "slot_reference";
/// Rows per inserting transaction.
const PER_TRANSACTION: i64 = 1_000;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rows = sluice_tests::bench_args::rows_arg(500_000)?;
    let pg = PostgresServer::start().await?;
    let client = pg.client().await?;
    common::create_table(&client).await?;
    client
        .batch_execute(&format!(
            "CREATE PUBLICATION {PUBLICATION} FOR TABLE orders"
        ))
        .await?;
    // Each slot in a transaction of its own (a slot cannot be created after writes in the
    // same transaction); nothing is written between the two.
    for slot in [SLOT, REFERENCE_SLOT] {
        client
            .execute(
                "SELECT pg_create_logical_replication_slot($1, 'pgoutput')",
                &[&slot],
            )
            .await?;
    }

    let write_started = Instant::now();
    for first in (1..=rows).step_by(PER_TRANSACTION as usize) {
        common::insert_rows(&client, first, (first + PER_TRANSACTION - 1).min(rows)).await?;
    }
    let end_lsn: String = client
        .query_one("SELECT pg_current_wal_lsn()::text", &[])
        .await?
        .get(0);
    let wal_bytes: i64 = client
        .query_one(
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint \
             FROM pg_replication_slots WHERE slot_name = $1",
            &[&SLOT],
        )
        .await?
        .get(0);
    println!(
        "wrote {rows} rows in {:.1?}; {:.1} MiB of WAL waiting in each slot (end {end_lsn})",
        write_started.elapsed(),
        wal_bytes as f64 / 1_048_576.0
    );

    let worker = SluiceProcess::start().await?;
    // The set-up's writes reach the disk before either side is timed.
    client.batch_execute("CHECKPOINT").await?;
    sluice_tests::disk_floor::settle()?;

    let (reference, reference_cpu) = common::time_program(
        "pg_recvlogical",
        &[
            "--dbname".into(),
            pg.connection_string(),
            "--slot".into(),
            REFERENCE_SLOT.into(),
            "--start".into(),
            "--no-loop".into(),
            "-o".into(),
            "proto_version=1".into(),
            "-o".into(),
            format!("publication_names={PUBLICATION}"),
            "--endpos".into(),
            end_lsn,
            "-f".into(),
            "/dev/null".into(),
        ],
    )?;

    let config = common::connector(&pg, &[("snapshot.mode", "no_data")]);
    let (drain, cpu) = common::time_connector(&worker, &config, rows).await?;

    common::report(
        common::Side {
            what: "reference pg_recvlogical (pgoutput proto 1) → /dev/null",
            process: "pg_recvlogical",
            elapsed: reference,
            cpu: reference_cpu,
        },
        common::Side {
            what: "sluice slot → broker (JSON with schemas, durable)",
            process: "sluice worker",
            elapsed: drain,
            cpu,
        },
        rows,
        1.5,
    );
    sluice_tests::disk_floor::measure_and_report(&worker, common::TOPIC, reference).await?;
    Ok(())
}
