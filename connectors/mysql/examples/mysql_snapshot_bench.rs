//! Benchmark: the initial snapshot of an N-row table into the broker with a real `sluice
//! serve` worker (JSON without schemas, as the PostgreSQL twin), against `mysqldump --quick`
//! of the same table to /dev/null in the same run.
//!
//! `cargo run --release -p sluice-mysql --example mysql_snapshot_bench [rows]` (default 1000000).
//!
//! The reference runs twice (the first warms the buffer pool as the connector would find
//! it) and the faster run counts; the connector is then created with `snapshot.mode=initial`
//! and timed from the creation request until the topic holds every row.

#[path = "common/mod.rs"]
mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use sluice_tests::{MariaDbServer, SluiceProcess, cpu};

const TOPIC: &str = "bench.shop.orders";

/// One `mysqldump` run: its wall time and its own CPU time.
fn mysqldump(maria: &MariaDbServer) -> anyhow::Result<(Duration, Duration)> {
    let cpu_before = cpu::children_cpu()?;
    let started = Instant::now();
    let status = Command::new("mysqldump")
        .arg("--quick")
        .arg(format!("--host={}", maria.host()))
        .arg(format!("--port={}", maria.port()))
        .arg(format!("--user={}", maria.user()))
        .arg(format!("--password={}", maria.password()))
        .args(["shop", "orders"])
        .stdout(Stdio::null())
        .status()?;
    let took = started.elapsed();
    anyhow::ensure!(status.success(), "mysqldump failed: {status}");
    Ok((took, cpu::children_cpu()? - cpu_before))
}

fn report(label: &str, took: Duration, rows: i64) {
    println!(
        "{label}: {:.3} s ({:.0} rows/s)",
        took.as_secs_f64(),
        rows as f64 / took.as_secs_f64()
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rows = sluice_tests::bench_args::rows_arg(1_000_000)?;
    let (maria, mut conn) = common::start_shop().await?;
    common::insert_orders(&mut conn, rows).await?;
    conn.disconnect().await?;
    let worker = SluiceProcess::start().await?;

    // The set-up's writes reach the disk before either side is timed.
    sluice_tests::disk_floor::settle()?;
    let (reference, reference_cpu) = mysqldump(&maria)?.min(mysqldump(&maria)?);

    let config = json!({"name": "bench", "config": {
        "connector.class": "mariadb",
        "database.hostname": maria.host(),
        "database.port": maria.port().to_string(),
        "database.user": maria.user(),
        "database.password": maria.password(),
        "database.server.id": "5402",
        "topic.prefix": "bench",
        "database.include.list": "shop",
        "snapshot.mode": "initial",
        "key.converter.schemas.enable": "false",
        "value.converter.schemas.enable": "false",
    }});
    let load_before = common::load_average();
    let worker_cpu_before = cpu::worker_cpu(&worker)?;
    let started = Instant::now();
    let (status, body) = worker.post("/connectors", &config).await?;
    anyhow::ensure!(status == 201, "{body}");
    worker
        .wait_for(
            &format!("/topics/{TOPIC}"),
            Duration::from_secs(1800),
            |t| common::end_offset(t) >= rows,
        )
        .await?;
    let snapshot = started.elapsed();
    let worker_cpu = cpu::worker_cpu(&worker)? - worker_cpu_before;

    println!("load average before the connector ran: {load_before}");
    report(
        "reference mysqldump --quick > /dev/null (best of 2)",
        reference,
        rows,
    );
    cpu::report_cpu("mysqldump", reference_cpu, rows);
    report(
        "sluice snapshot → broker (JSON without schemas, durable)",
        snapshot,
        rows,
    );
    cpu::report_cpu("sluice worker", worker_cpu, rows);
    println!("load average after: {}", common::load_average());
    println!(
        "ratio sluice / mysqldump: {:.2} (target ≤ 1)",
        snapshot.as_secs_f64() / reference.as_secs_f64()
    );
    sluice_tests::disk_floor::measure_and_report(&worker, TOPIC, reference).await?;
    Ok(())
}
