//! Benchmark: drain N row changes from a MariaDB binlog into the broker with a real `sluice
//! serve` worker, against `mysqlbinlog --read-from-remote-server --verbose` reading the same
//! binlog to /dev/null in the same run.
//!
//! `cargo run --release -p sluice-mysql --example binlog_drain_bench [rows]` (default 500000).
//! The connector is paused while the rows are written, then resumed: the time from resume
//! until the topic holds every row is the drain time (while paused, the reader may have
//! buffered a few batches ahead — at most max.queue.size events).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use serde_json::json;
use sluice_tests::{MariaDbServer, SluiceProcess};

const TOPIC: &str = "bench.shop.orders";

fn end_offset(topic: &serde_json::Value) -> i64 {
    topic["partitions"]
        .as_array()
        .map(|parts| {
            parts
                .iter()
                .map(|p| p["end_offset"].as_i64().unwrap_or(0))
                .sum()
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rows: i64 = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(500_000);
    let maria = MariaDbServer::start().await?;
    maria.create_database("shop").await?;
    let mut conn = mysql_async::Conn::new(maria.opts_for("shop")).await?;
    conn.query_drop(
        "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer VARCHAR(40), amount DECIMAL(10,2), \
         created DATETIME(3), note VARCHAR(100))",
    )
    .await?;

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

    let write_started = Instant::now();
    let per_transaction = 1_000;
    for start in (0..rows).step_by(per_transaction) {
        let end = (start + per_transaction as i64).min(rows);
        conn.query_drop(format!(
            "INSERT INTO orders SELECT seq, CONCAT('customer-', seq % 977), (seq % 10000) / 100, \
             '2024-05-01 12:00:00.123' + INTERVAL seq SECOND, REPEAT('n', 40) \
             FROM seq_{}_to_{}",
            start + 1,
            end
        ))
        .await?;
    }
    let files: Vec<(String, u64)> = conn
        .query_map("SHOW BINARY LOGS", |row: mysql_async::Row| {
            (
                row.get::<String, _>(0).unwrap_or_default(),
                row.get::<u64, _>(1).unwrap_or(0),
            )
        })
        .await?;
    conn.disconnect().await?;
    let binlog_bytes: u64 = files.iter().map(|(_, size)| size).sum();
    println!(
        "wrote {rows} rows in {:.1?}; binlog {} file(s), {:.1} MiB",
        write_started.elapsed(),
        files.len(),
        binlog_bytes as f64 / 1_048_576.0
    );

    // Reference: mysqlbinlog decoding the same binlog (rows as pseudo-SQL) to /dev/null.
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
    anyhow::ensure!(status.success(), "mysqlbinlog failed: {status}");

    let drain_started = Instant::now();
    http.put(worker.url("/connectors/bench/resume"))
        .send()
        .await?;
    worker
        .wait_for(
            &format!("/topics/{TOPIC}"),
            Duration::from_secs(1800),
            |t| end_offset(t) >= rows,
        )
        .await?;
    let drain = drain_started.elapsed();
    println!("mysqlbinlog --read-from-remote-server --verbose > /dev/null: {reference:.2?}");
    println!(
        "sluice binlog → broker (JSON with schemas, durable): {drain:.2?} ({:.0} rows/s)",
        rows as f64 / drain.as_secs_f64()
    );
    println!(
        "ratio sluice / mysqlbinlog: {:.2}",
        drain.as_secs_f64() / reference.as_secs_f64()
    );
    Ok(())
}
