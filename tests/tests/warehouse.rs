//! The whole product end to end: a real PostgreSQL and a real MariaDB, both sources in a real
//! `sluice serve`, and six file sinks (Parquet, Avro, JSON lines × changelog, upsert) reading
//! both change-event topics. Real readers (DuckDB and pyarrow, fastavro, DuckDB and Python's
//! json — the sink crate's `read_rows.py`) must see exactly the databases' current rows in the
//! upsert files and exactly the topics' event sequence in the changelog files.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use mysql_async::prelude::Queryable;
use serde_json::{Value, json};
use sluice_tests::{MariaDbServer, PostgresServer, SluiceProcess};

const PG_TOPIC: &str = "pg.public.orders";
const MY_TOPIC: &str = "my.shop.products";
const FORMATS: [&str; 3] = ["parquet", "avro", "jsonl"];
const MODES: [&str; 2] = ["changelog", "upsert"];
const DEADLINE: Duration = Duration::from_secs(90);

/// Rows of one topic as every reader of one sink's files sees them.
fn read_rows(format: &str, topic_dir: &Path) -> anyhow::Result<Value> {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../connectors/file/tests/readers/read_rows.py");
    let output = Command::new("python3")
        .arg(&script)
        .arg(format)
        .arg(topic_dir)
        .output()
        .context("cannot run python3; install it and the readers with scripts/setup.sh")?;
    ensure!(
        output.status.success(),
        "{} failed (are duckdb, pyarrow and fastavro installed? run scripts/setup.sh): {}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(serde_json::from_slice(&output.stdout)?)
}

/// `(id, name, amount)` triples, sorted by id (upsert) or in `__offset` order (changelog).
fn summarize(rows: &Value, mode: &str, name_column: &str, amount_column: &str) -> Vec<Value> {
    let mut rows = rows.as_array().cloned().unwrap_or_default();
    let order = if mode == "upsert" { "id" } else { "__offset" };
    rows.sort_by_key(|row| row[order].as_i64().unwrap_or(i64::MIN));
    rows.iter()
        .map(|row| {
            let mut summary = json!([row["id"], row[name_column], row[amount_column]]);
            if mode == "changelog" {
                summary
                    .as_array_mut()
                    .expect("an array")
                    .push(row["__op"].clone());
            }
            summary
        })
        .collect()
}

/// What every reader of every sink must see for one table.
struct Expected {
    topic: &'static str,
    name_column: &'static str,
    amount_column: &'static str,
    table: Vec<Value>,
    changelog: Vec<Value>,
}

impl Expected {
    /// Compares one sink's files with this table; `Err` says what differs.
    fn check(&self, root: &Path, format: &str, mode: &str) -> anyhow::Result<()> {
        let read = read_rows(format, &root.join(self.topic))?;
        let readers = read["readers"]
            .as_object()
            .context("read_rows.py printed no readers")?;
        ensure!(!readers.is_empty(), "no reader ran");
        let expected = if mode == "upsert" {
            &self.table
        } else {
            &self.changelog
        };
        for (reader, rows) in readers {
            let seen = summarize(rows, mode, self.name_column, self.amount_column);
            ensure!(
                &seen == expected,
                "{format} {mode} {} read by {reader}: {seen:?}, expected {expected:?}",
                self.topic
            );
        }
        Ok(())
    }
}

fn sink(name: &str, path: &Path, format: &str, mode: &str) -> Value {
    json!({"name": name, "config": {
        "connector.class": "file",
        "topics": format!("{PG_TOPIC},{MY_TOPIC}"),
        "path": path.display().to_string(),
        "format": format,
        "mode": mode,
        "flush.size": "100",
        "rotate.interval.ms": "300",
        "offset.flush.interval.ms": "200",
    }})
}

async fn create(worker: &SluiceProcess, body: &Value) -> anyhow::Result<()> {
    let (status, answer) = worker.post("/connectors", body).await?;
    ensure!(
        status == 201,
        "creating {}: {status} {answer}",
        body["name"]
    );
    Ok(())
}

async fn prepare_postgres(pg: &PostgresServer) -> anyhow::Result<()> {
    pg.client()
        .await?
        .batch_execute(
            "create table orders (id int primary key, customer text not null,
                                  total numeric(10,2) not null, placed date not null);
             insert into orders values (1, 'ann', 19.99, '2026-01-02'),
                                       (2, 'bob', 5.25, '2026-01-03'),
                                       (3, 'cy', 100.00, '2026-01-04');",
        )
        .await?;
    Ok(())
}

async fn prepare_mariadb(maria: &MariaDbServer) -> anyhow::Result<()> {
    let mut conn = maria.conn().await?;
    for statement in [
        "create database shop",
        "create table shop.products (id int primary key, name varchar(50) not null,
                                     price decimal(8,2) not null, updated datetime(3) not null)",
        "insert into shop.products values (1, 'kettle', 24.50, '2026-01-02 03:04:05.678'),
                                          (2, 'teapot', 18.00, '2026-01-02 03:04:05.678'),
                                          (3, 'cups', 9.95, '2026-01-02 03:04:05.678')",
    ] {
        conn.query_drop(statement).await?;
    }
    Ok(())
}

async fn change_both(pg: &PostgresServer, maria: &MariaDbServer) -> anyhow::Result<()> {
    pg.client()
        .await?
        .batch_execute(
            "update orders set total = 21.50 where id = 1;
             insert into orders values (4, 'dee', 42.00, '2026-02-01');
             delete from orders where id = 2;",
        )
        .await?;
    let mut conn = maria.conn().await?;
    for statement in [
        "update shop.products set price = 22.00 where id = 1",
        "insert into shop.products values (4, 'tray', 12.00, '2026-02-01 00:00:00.000')",
        "delete from shop.products where id = 2",
    ] {
        conn.query_drop(statement).await?;
    }
    Ok(())
}

fn expected_tables() -> [Expected; 2] {
    // Snapshot reads, then the update, the insert and the delete (tombstones are skipped; a
    // delete's row is its before image).
    [
        Expected {
            topic: PG_TOPIC,
            name_column: "customer",
            amount_column: "total",
            table: vec![
                json!([1, "ann", 21.5]),
                json!([3, "cy", 100.0]),
                json!([4, "dee", 42.0]),
            ],
            changelog: vec![
                json!([1, "ann", 19.99, "r"]),
                json!([2, "bob", 5.25, "r"]),
                json!([3, "cy", 100.0, "r"]),
                json!([1, "ann", 21.5, "u"]),
                json!([4, "dee", 42.0, "c"]),
                // REPLICA IDENTITY DEFAULT: the old row carries only the key, the other
                // NOT NULL columns hold Debezium's placeholders.
                json!([2, "", 0.0, "d"]),
            ],
        },
        Expected {
            topic: MY_TOPIC,
            name_column: "name",
            amount_column: "price",
            table: vec![
                json!([1, "kettle", 22.0]),
                json!([3, "cups", 9.95]),
                json!([4, "tray", 12.0]),
            ],
            changelog: vec![
                json!([1, "kettle", 24.5, "r"]),
                json!([2, "teapot", 18.0, "r"]),
                json!([3, "cups", 9.95, "r"]),
                json!([1, "kettle", 22.0, "u"]),
                json!([4, "tray", 12.0, "c"]),
                json!([2, "teapot", 18.0, "d"]),
            ],
        },
    ]
}

/// Waits until every sink's files hold what `expected` says, or fails with the last difference.
async fn wait_for_files(
    worker: &SluiceProcess,
    sinks: &[(String, String, PathBuf)],
    expected: &[Expected],
) -> anyhow::Result<()> {
    let started = Instant::now();
    // (sink, table) pairs whose files do not match yet; each matched pair is not read again.
    let mut pending: Vec<(&(String, String, PathBuf), &Expected)> = sinks
        .iter()
        .flat_map(|sink| expected.iter().map(move |table| (sink, table)))
        .collect();
    loop {
        let mut problem = None;
        pending.retain(
            |((format, mode, root), table)| match table.check(root, format, mode) {
                Ok(()) => false,
                Err(error) => {
                    problem.get_or_insert(error);
                    true
                }
            },
        );
        let Some(problem) = problem else {
            return Ok(());
        };
        if started.elapsed() > DEADLINE {
            bail!("{problem:#}\nworker log:\n{}", worker.log());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_and_mariadb_changes_reach_every_file_format_and_mode() -> anyhow::Result<()> {
    let begun = Instant::now();
    let pg = PostgresServer::start().await?;
    let maria = MariaDbServer::start().await?;
    prepare_postgres(&pg).await?;
    prepare_mariadb(&maria).await?;
    let worker = SluiceProcess::start().await?;
    eprintln!("servers and worker up after {:?}", begun.elapsed());
    let warehouse = tempfile::tempdir()?;

    create(
        &worker,
        &json!({"name": "orders", "config": {
            "connector.class": "postgres",
            "database.hostname": pg.host(),
            "database.port": pg.port().to_string(),
            "database.user": pg.user(),
            "database.password": pg.password(),
            "database.dbname": pg.dbname(),
            "topic.prefix": "pg",
            "table.include.list": "public.orders",
            "slot.name": "warehouse",
            "publication.name": "warehouse",
        }}),
    )
    .await?;
    create(
        &worker,
        &json!({"name": "products", "config": {
            "connector.class": "mariadb",
            "database.hostname": maria.host(),
            "database.port": maria.port().to_string(),
            "database.user": maria.user(),
            "database.password": maria.password(),
            "database.server.id": "5501",
            "topic.prefix": "my",
            "database.include.list": "shop",
        }}),
    )
    .await?;
    let mut sinks = Vec::new();
    for format in FORMATS {
        for mode in MODES {
            let root = warehouse.path().join(format!("{format}-{mode}"));
            create(
                &worker,
                &sink(&format!("{format}-{mode}"), &root, format, mode),
            )
            .await?;
            sinks.push((format.to_string(), mode.to_string(), root));
        }
    }

    // The snapshots land first; the changes follow as streamed events.
    for topic in [PG_TOPIC, MY_TOPIC] {
        worker
            .wait_for(&format!("/topics/{topic}"), DEADLINE, |t| {
                t["partitions"][0]["end_offset"].as_i64() >= Some(3)
            })
            .await?;
    }
    eprintln!("snapshots in both topics after {:?}", begun.elapsed());
    change_both(&pg, &maria).await?;
    wait_for_files(&worker, &sinks, &expected_tables()).await?;
    eprintln!("every sink's files match after {:?}", begun.elapsed());

    // Every connector is still healthy.
    let statuses = worker.get("/connectors?expand=status").await?;
    for (name, status) in statuses.as_object().context("a status map")? {
        let tasks = status["status"]["tasks"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        ensure!(
            !tasks.is_empty() && tasks.iter().all(|task| task["state"] == "RUNNING"),
            "{name} is not running: {status}"
        );
    }
    Ok(())
}
