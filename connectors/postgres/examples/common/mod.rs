//! What the PostgreSQL source benchmarks share: the benchmark table, filling it, the
//! connector configuration for a harness server, PostgreSQL's client binaries, and waiting
//! until a topic holds every row.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use sluice_tests::cpu::{children_cpu, worker_cpu};
use sluice_tests::{PostgresServer, SluiceProcess};
use tokio_postgres::Client;

#[path = "../../tests/common/mod.rs"]
mod test_common;

/// The topic the benchmark table's events land in (the tests' `topic.prefix`).
pub const TOPIC: &str = "dbserver1.public.orders";

/// Where PostgreSQL's client programs live (`PG_BIN` overrides).
pub fn pg_program(name: &str) -> PathBuf {
    let dir = std::env::var_os("PG_BIN").unwrap_or_else(|| "/usr/lib/postgresql/15/bin".into());
    PathBuf::from(dir).join(name)
}

/// Creates the benchmark table: the column mix of a typical order table (bigint key, text,
/// numeric → Decimal, timestamp → MicroTimestamp, a 40-character note).
pub async fn create_table(client: &Client) -> anyhow::Result<()> {
    client
        .batch_execute(
            "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer VARCHAR(40), \
             amount NUMERIC(10,2), created TIMESTAMP(3), note VARCHAR(100))",
        )
        .await?;
    Ok(())
}

/// Inserts rows `first..=last` in one statement (one transaction).
pub async fn insert_rows(client: &Client, first: i64, last: i64) -> anyhow::Result<()> {
    client
        .execute(
            "INSERT INTO orders SELECT g, 'customer-' || (g % 977), (g % 10000) / 100.0, \
             TIMESTAMP '2024-05-01 12:00:00.123' + g * INTERVAL '1 second', repeat('n', 40) \
             FROM generate_series($1::bigint, $2::bigint) AS g",
            &[&first, &last],
        )
        .await?;
    Ok(())
}

/// The connector configuration for `pg` (the end-to-end tests' one, named "bench": slot
/// `slot_bench`, publication `pub_bench`), with `extra` keys added.
pub fn connector(pg: &PostgresServer, extra: &[(&str, &str)]) -> Value {
    let mut config = test_common::connector("bench", pg, extra);
    config["config"]["table.include.list"] = Value::String("public.orders".into());
    config
}

/// Runs a PostgreSQL client program to completion, failing when it fails, and returns how
/// long it took and the CPU time the program itself used (the server's share is not in it).
pub fn time_program(program: &str, args: &[String]) -> anyhow::Result<(Duration, Duration)> {
    let cpu_before = children_cpu()?;
    let started = Instant::now();
    let status = Command::new(pg_program(program))
        .args(args)
        .stdout(Stdio::null())
        .status()?;
    let elapsed = started.elapsed();
    anyhow::ensure!(status.success(), "{program} failed: {status}");
    Ok((elapsed, children_cpu()? - cpu_before))
}

/// Creates the connector and waits until the topic holds `rows` records, returning the time
/// from the creation request until then and the CPU time the worker spent meanwhile.
pub async fn time_connector(
    worker: &SluiceProcess,
    config: &Value,
    rows: i64,
) -> anyhow::Result<(Duration, Duration)> {
    let cpu_before = worker_cpu(worker)?;
    let started = Instant::now();
    let (status, body) = worker.post("/connectors", config).await?;
    anyhow::ensure!(status == 201, "creating the connector: {status} {body}");
    let deadline = Instant::now() + Duration::from_secs(1800);
    while test_common::end_offset(worker, TOPIC).await < rows {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the topic did not fill; worker log:\n{}",
            worker.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();
    Ok((elapsed, worker_cpu(worker)? - cpu_before))
}

/// One side of a benchmark: what ran, its wall time and CPU time.
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    pub what: &'a str,
    pub process: &'a str,
    pub elapsed: Duration,
    pub cpu: Duration,
}

/// Prints both sides (time, rows/s, CPU per row) and their ratio against `target`.
pub fn report(reference: Side<'_>, sluice: Side<'_>, rows: i64, target: f64) {
    for side in [reference, sluice] {
        println!(
            "{}: {:.3} s ({:.0} rows/s)\n  {} CPU (user+system): {:.2} s, {:.1} µs per row",
            side.what,
            side.elapsed.as_secs_f64(),
            rows as f64 / side.elapsed.as_secs_f64(),
            side.process,
            side.cpu.as_secs_f64(),
            side.cpu.as_secs_f64() * 1e6 / rows as f64
        );
    }
    println!(
        "ratio sluice / {}: {:.2} (target ≤ {target})",
        reference.process,
        sluice.elapsed.as_secs_f64() / reference.elapsed.as_secs_f64()
    );
}
