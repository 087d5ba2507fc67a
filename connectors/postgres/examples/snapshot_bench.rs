//! Benchmark: the initial snapshot of an N-row table into the broker with a real `sluice
//! serve` worker (JSON without schemas), against `psql -c "\copy orders to /dev/null"` in the
//! same run.
//!
//! `cargo run --release -p sluice-postgres --example snapshot_bench [rows]` (default 1000000).
//!
//! The reference runs twice (the first run warms the table's pages into the cache, as the
//! connector would find them) and the faster run counts; the connector is then created with
//! `snapshot.mode=initial` and timed from the creation request until the topic holds every
//! row.

mod common;

use std::time::Instant;

use sluice_tests::{PostgresServer, SluiceProcess};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rows = sluice_tests::bench_args::rows_arg(1_000_000)?;
    let pg = PostgresServer::start().await?;
    let client = pg.client().await?;
    common::create_table(&client).await?;
    let write_started = Instant::now();
    common::insert_rows(&client, 1, rows).await?;
    client.batch_execute("VACUUM ANALYZE orders").await?;
    let table_bytes: i64 = client
        .query_one("SELECT pg_table_size('orders')", &[])
        .await?
        .get(0);
    println!(
        "wrote {rows} rows in {:.1?}; table {:.1} MiB",
        write_started.elapsed(),
        table_bytes as f64 / 1_048_576.0
    );

    let worker = SluiceProcess::start().await?;
    // The set-up's writes reach the disk before either side is timed.
    client.batch_execute("CHECKPOINT").await?;
    sluice_tests::disk_floor::settle()?;

    let copy_args = [
        "--no-psqlrc".to_string(),
        "--quiet".into(),
        "--dbname".into(),
        pg.connection_string(),
        "-c".into(),
        "\\copy orders to /dev/null".into(),
    ];
    let first = common::time_program("psql", &copy_args)?;
    let second = common::time_program("psql", &copy_args)?;
    let (reference, reference_cpu) = first.min(second);

    let config = common::connector(
        &pg,
        &[
            ("snapshot.mode", "initial"),
            ("key.converter.schemas.enable", "false"),
            ("value.converter.schemas.enable", "false"),
        ],
    );
    let (snapshot, cpu) = common::time_connector(&worker, &config, rows).await?;

    common::report(
        common::Side {
            what: "reference psql \\copy orders to /dev/null (best of 2)",
            process: "psql",
            elapsed: reference,
            cpu: reference_cpu,
        },
        common::Side {
            what: "sluice snapshot → broker (JSON without schemas, durable)",
            process: "sluice worker",
            elapsed: snapshot,
            cpu,
        },
        rows,
        3.0,
    );
    sluice_tests::disk_floor::measure_and_report(&worker, common::TOPIC, reference).await?;
    Ok(())
}
