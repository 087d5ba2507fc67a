//! Benchmark: drain N row changes from a MariaDB binlog into the broker with a real `sluice
//! serve` worker, against `mysqlbinlog --read-from-remote-server --verbose` reading the same
//! binlog to /dev/null in the same run.
//!
//! `cargo run --release -p sluice-mysql --example binlog_drain_bench [rows]` (default 500000).
//! The connector is paused while the rows are written, then resumed: the time from resume
//! until the topic holds every row is the drain time (while paused, the reader may have
//! buffered a few batches ahead — at most max.queue.size events).

#[path = "common/mod.rs"]
mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use sluice_tests::{SluiceProcess, cpu};

const TOPIC: &str = "bench.shop.orders";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rows = sluice_tests::bench_args::rows_arg(500_000)?;
    let (maria, mut conn) = common::start_shop().await?;

    let worker = SluiceProcess::start().await?;
    let config = json!({"name": "bench", "config": {
        "connector.class": "mariadb",
        "database.hostname": maria.host(),
        "database.port": maria.port().to_string(),
        "database.user": maria.user(),
        "database.password": maria.password(),
        "database.server.id": "5401",
        "topic.prefix": "bench",
        "database.include.list": "shop",
    }});
    let (status, body) = worker.post("/connectors", &config).await?;
    anyhow::ensure!(status == 201, "{body}");
    worker
        .wait_for("/connectors/bench/status", Duration::from_secs(60), |s| {
            s["tasks"][0]["state"] == "RUNNING"
        })
        .await?;
    let http = reqwest::Client::new();
    http.put(worker.url("/connectors/bench/pause"))
        .send()
        .await?;
    worker
        .wait_for("/connectors/bench/status", Duration::from_secs(60), |s| {
            s["tasks"][0]["state"] == "PAUSED"
        })
        .await?;

    common::insert_orders(&mut conn, rows).await?;
    let files = common::binlog_files(&mut conn).await?;
    conn.disconnect().await?;
    let binlog_bytes: u64 = files.iter().map(|(_, size)| size).sum();
    println!(
        "binlog {} file(s), {:.1} MiB; load average {}",
        files.len(),
        binlog_bytes as f64 / 1_048_576.0,
        common::load_average()
    );

    // The set-up's writes reach the disk before either side is timed.
    sluice_tests::disk_floor::settle()?;
    // Reference: mysqlbinlog decoding the same binlog (rows as pseudo-SQL) to /dev/null.
    let reference_cpu_before = cpu::children_cpu()?;
    let reference_started = Instant::now();
    let status = Command::new("mysqlbinlog")
        .args([
            "--read-from-remote-server",
            "--verbose",
            "--host",
            maria.host(),
        ])
        .arg(format!("--port={}", maria.port()))
        .arg(format!("--user={}", maria.user()))
        .arg(format!("--password={}", maria.password()))
        .args(["--to-last-log"])
        .arg(&files[0].0)
        .stdout(Stdio::null())
        .status()?;
    let reference = reference_started.elapsed();
    let reference_cpu = cpu::children_cpu()? - reference_cpu_before;
    anyhow::ensure!(status.success(), "mysqlbinlog failed: {status}");

    let worker_cpu_before = cpu::worker_cpu(&worker)?;
    let drain_started = Instant::now();
    http.put(worker.url("/connectors/bench/resume"))
        .send()
        .await?;
    worker
        .wait_for(
            &format!("/topics/{TOPIC}"),
            Duration::from_secs(1800),
            |t| common::end_offset(t) >= rows,
        )
        .await?;
    let drain = drain_started.elapsed();
    let worker_cpu = cpu::worker_cpu(&worker)? - worker_cpu_before;
    println!("mysqlbinlog --read-from-remote-server --verbose > /dev/null: {reference:.2?}");
    cpu::report_cpu("mysqlbinlog", reference_cpu, rows);
    println!(
        "sluice binlog → broker (JSON with schemas, durable): {drain:.2?} ({:.0} rows/s)",
        rows as f64 / drain.as_secs_f64()
    );
    cpu::report_cpu("sluice worker", worker_cpu, rows);
    println!("load average after: {}", common::load_average());
    println!(
        "ratio sluice / mysqlbinlog: {:.2}",
        drain.as_secs_f64() / reference.as_secs_f64()
    );
    sluice_tests::disk_floor::measure_and_report(&worker, TOPIC, reference).await?;
    Ok(())
}
