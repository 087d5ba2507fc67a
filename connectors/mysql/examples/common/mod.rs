//! Shared set-up of the MySQL source benchmarks: a harness MariaDB with a `shop.orders`
//! table filled with generated rows, and the topic end offset the benchmarks wait for.

#![allow(dead_code)] // Each benchmark uses its own part.

use std::time::Instant;

use mysql_async::prelude::Queryable;
use sluice_tests::MariaDbServer;

pub const CREATE_ORDERS: &str = "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer VARCHAR(40), \
     amount DECIMAL(10,2), created DATETIME(3), note VARCHAR(100))";

/// The binlog files of the server, with their sizes.
pub type BinlogFiles = Vec<(String, u64)>;

/// A MariaDB with an empty `shop.orders`.
pub async fn start_shop() -> anyhow::Result<(MariaDbServer, mysql_async::Conn)> {
    let maria = MariaDbServer::start().await?;
    maria.create_database("shop").await?;
    let mut conn = mysql_async::Conn::new(maria.opts_for("shop")).await?;
    conn.query_drop(CREATE_ORDERS).await?;
    Ok((maria, conn))
}

/// Inserts rows `1..=rows` into `orders`, 1,000 per transaction.
pub async fn insert_orders(conn: &mut mysql_async::Conn, rows: i64) -> anyhow::Result<()> {
    let started = Instant::now();
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
    println!("wrote {rows} rows in {:.1?}", started.elapsed());
    Ok(())
}

/// `SHOW BINARY LOGS`.
pub async fn binlog_files(conn: &mut mysql_async::Conn) -> anyhow::Result<BinlogFiles> {
    let files = conn
        .query_map("SHOW BINARY LOGS", |row: mysql_async::Row| {
            (
                row.get::<String, _>(0).unwrap_or_default(),
                row.get::<u64, _>(1).unwrap_or(0),
            )
        })
        .await?;
    Ok(files)
}

/// The sum of a topic's partition end offsets, from `GET /topics/<topic>`.
pub fn end_offset(topic: &serde_json::Value) -> i64 {
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

/// `uptime`'s load averages, for the record of a run.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".into())
}
