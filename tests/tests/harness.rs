//! Self-tests of the harness: real servers start, replicate, restart and coexist.
//!
//! Each test proves a property CDC tests rely on, against real PostgreSQL and MariaDB servers:
//! logical decoding works end to end, the binlog carries row events with full images, restart
//! keeps data and port, and parallel servers do not clash.

use std::path::PathBuf;

use anyhow::{Context, Result, ensure};
use mysql_async::prelude::Queryable;
use sluice_tests::binaries::POSTGRES_BIN_DIR;
use sluice_tests::{MariaDbServer, PostgresServer};

/// pgoutput's Insert message tag.
const PGOUTPUT_INSERT: u8 = b'I';
/// pgoutput's Update message tag.
const PGOUTPUT_UPDATE: u8 = b'U';

#[tokio::test]
async fn postgres_logical_slot_sees_inserts_and_updates() -> Result<()> {
    let pg = PostgresServer::start().await?;
    let client = pg.client().await?;
    client
        .batch_execute(
            "CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL);
             CREATE PUBLICATION p FOR TABLE customers;",
        )
        .await?;
    client
        .query(
            "SELECT pg_create_logical_replication_slot('s', 'pgoutput')",
            &[],
        )
        .await?;
    client
        .batch_execute(
            "INSERT INTO customers VALUES (1, 'ada');
             UPDATE customers SET name = 'grace' WHERE id = 1;",
        )
        .await?;

    let rows = client
        .query(
            "SELECT data FROM pg_logical_slot_peek_binary_changes('s', NULL, NULL, \
             'proto_version', '1', 'publication_names', 'p')",
            &[],
        )
        .await?;
    let messages: Vec<Vec<u8>> = rows.iter().map(|row| row.get(0)).collect();
    let tags: Vec<u8> = messages
        .iter()
        .filter_map(|message| message.first().copied())
        .collect();
    ensure!(
        tags.contains(&PGOUTPUT_INSERT),
        "no Insert message in {tags:?}"
    );
    ensure!(
        tags.contains(&PGOUTPUT_UPDATE),
        "no Update message in {tags:?}"
    );
    let insert = messages
        .iter()
        .find(|message| message.first() == Some(&PGOUTPUT_INSERT))
        .context("insert message")?;
    ensure!(
        contains(insert, b"ada"),
        "insert does not carry the new row: {insert:?}"
    );
    Ok(())
}

/// `pg_recvlogical` (PostgreSQL's own client) opens a replication connection over TCP, which
/// must authenticate with the password.
#[tokio::test]
async fn postgres_replication_connection_authenticates_with_password() -> Result<()> {
    let pg = PostgresServer::start().await?;
    let create_slot = |password: &str| {
        tokio::process::Command::new(format!("{POSTGRES_BIN_DIR}/pg_recvlogical"))
            .args(["--host", pg.host(), "--port", &pg.port().to_string()])
            .args([
                "--username",
                pg.user(),
                "--dbname",
                pg.dbname(),
                "--no-password",
            ])
            .args(["--slot", "recv", "--plugin", "pgoutput", "--create-slot"])
            .env("PGPASSWORD", password)
            .output()
    };

    let rejected = create_slot("not-the-password").await?;
    ensure!(
        !rejected.status.success(),
        "a wrong password was accepted: TCP replication auth must not be trust"
    );
    let created = create_slot(pg.password()).await?;
    ensure!(
        created.status.success(),
        "pg_recvlogical --create-slot failed: {}",
        String::from_utf8_lossy(&created.stderr)
    );
    let slots = pg
        .client()
        .await?
        .query(
            "SELECT 1 FROM pg_replication_slots WHERE slot_name = 'recv'",
            &[],
        )
        .await?;
    assert_eq!(slots.len(), 1);
    Ok(())
}

#[tokio::test]
async fn postgres_restart_and_crash_keep_data_and_port() -> Result<()> {
    let mut pg = PostgresServer::start().await?;
    pg.create_database("shop").await?;
    pg.client_for("shop")
        .await?
        .batch_execute("CREATE TABLE t (v int); INSERT INTO t VALUES (42);")
        .await?;
    let port = pg.port();
    let injected = pg.create_database("x; DROP DATABASE postgres").await;
    ensure!(
        matches!(injected, Err(sluice_tests::Error::InvalidIdentifier { .. })),
        "an injected database name was not rejected: {injected:?}"
    );

    pg.restart().await?;
    assert_eq!(pg.port(), port);
    let value: i32 = pg
        .client_for("shop")
        .await?
        .query_one("SELECT v FROM t", &[])
        .await?
        .get(0);
    assert_eq!(value, 42);

    pg.stop().await?;
    ensure!(
        !accepts_tcp(port),
        "a stopped server still listens on {port}"
    );
    pg.restart().await?;
    pg.client_for("shop")
        .await?
        .batch_execute("INSERT INTO t VALUES (43)")
        .await?;

    pg.crash().await?;
    ensure!(
        !accepts_tcp(port),
        "a crashed server still listens on {port}"
    );
    pg.restart().await?;
    let count: i64 = pg
        .client_for("shop")
        .await?
        .query_one("SELECT count(*) FROM t", &[])
        .await?
        .get(0);
    assert_eq!(count, 2, "a committed row was lost in the crash");
    Ok(())
}

#[tokio::test]
async fn postgres_drop_stops_the_server_and_deletes_its_files() -> Result<()> {
    let pg = PostgresServer::start().await?;
    let port = pg.port();
    let scratch = scratch_root(pg.data_dir());
    drop(pg);
    ensure!(!scratch.exists(), "{} still exists", scratch.display());
    ensure!(!accepts_tcp(port), "something still listens on {port}");
    Ok(())
}

#[tokio::test]
async fn a_panicking_test_still_stops_its_server() -> Result<()> {
    let (started, learned) = tokio::sync::oneshot::channel();
    let test = tokio::spawn(async move {
        let pg = PostgresServer::start().await.expect("start postgres");
        started
            .send((pg.port(), scratch_root(pg.data_dir())))
            .expect("the outer test is listening");
        panic!("a test failing while its server runs");
    });
    let (port, scratch) = learned.await.context("the server never started")?;
    let outcome = test.await;
    ensure!(
        outcome.is_err_and(|error| error.is_panic()),
        "the inner test did not panic"
    );
    ensure!(!scratch.exists(), "{} still exists", scratch.display());
    ensure!(!accepts_tcp(port), "something still listens on {port}");
    Ok(())
}

#[tokio::test]
async fn mariadb_binlog_has_full_row_events() -> Result<()> {
    let maria = MariaDbServer::start().await?;
    let mut conn = maria.conn().await?;

    for (variable, expected) in [
        ("binlog_format", "ROW"),
        ("binlog_row_image", "FULL"),
        ("binlog_row_metadata", "FULL"),
        ("log_bin", "ON"),
    ] {
        let value: Option<(String, String)> = conn
            .query_first(format!("SHOW GLOBAL VARIABLES LIKE '{variable}'"))
            .await?;
        let (_, value) = value.with_context(|| format!("variable {variable} missing"))?;
        assert_eq!(value, expected, "{variable}");
    }
    let server_id: Option<u32> = conn.query_first("SELECT @@server_id").await?;
    assert_eq!(server_id, Some(maria.server_id()));

    maria.create_database("shop").await?;
    conn.query_drop("CREATE TABLE shop.customers (id INT PRIMARY KEY, name VARCHAR(40))")
        .await?;
    conn.query_drop("INSERT INTO shop.customers VALUES (1, 'ada')")
        .await?;
    conn.query_drop("UPDATE shop.customers SET name = 'grace' WHERE id = 1")
        .await?;

    let status: Option<mysql_async::Row> = conn.query_first("SHOW MASTER STATUS").await?;
    let file: String = status
        .context("SHOW MASTER STATUS returned nothing: binlog is off")?
        .get(0)
        .context("binlog file column")?;
    let events: Vec<mysql_async::Row> = conn
        .query(format!("SHOW BINLOG EVENTS IN '{file}'"))
        .await?;
    let event_types: Vec<String> = events
        .iter()
        .filter_map(|row| row.get::<String, _>("Event_type"))
        .collect();
    ensure!(
        event_types
            .iter()
            .any(|kind| kind.starts_with("Write_rows")),
        "no Write_rows event in {event_types:?}"
    );
    ensure!(
        event_types
            .iter()
            .any(|kind| kind.starts_with("Update_rows")),
        "no Update_rows event in {event_types:?}"
    );
    conn.disconnect().await?;
    Ok(())
}

#[tokio::test]
async fn mariadb_restart_and_crash_keep_data_and_port() -> Result<()> {
    let mut maria = MariaDbServer::start().await?;
    maria.create_database("shop").await?;
    let mut conn = maria.conn().await?;
    conn.query_drop("CREATE TABLE shop.t (v INT)").await?;
    conn.query_drop("INSERT INTO shop.t VALUES (42)").await?;
    conn.disconnect().await?;
    let port = maria.port();

    maria.restart().await?;
    assert_eq!(maria.port(), port);
    let mut conn = maria.conn().await?;
    let value: Option<i32> = conn.query_first("SELECT v FROM shop.t").await?;
    assert_eq!(value, Some(42));
    conn.disconnect().await?;

    maria.stop().await?;
    ensure!(
        !accepts_tcp(port),
        "a stopped server still listens on {port}"
    );
    maria.restart().await?;
    let mut conn = maria.conn().await?;
    conn.query_drop("INSERT INTO shop.t VALUES (43)").await?;
    conn.disconnect().await?;

    maria.crash().await?;
    ensure!(
        !accepts_tcp(port),
        "a crashed server still listens on {port}"
    );
    maria.restart().await?;
    let mut conn = maria.conn().await?;
    let count: Option<i64> = conn.query_first("SELECT count(*) FROM shop.t").await?;
    assert_eq!(count, Some(2), "a committed row was lost in the crash");
    conn.disconnect().await?;
    Ok(())
}

#[tokio::test]
async fn mariadb_drop_stops_the_server_and_deletes_its_files() -> Result<()> {
    let maria = MariaDbServer::start().await?;
    let port = maria.port();
    let scratch = scratch_root(maria.data_dir());
    drop(maria);
    ensure!(!scratch.exists(), "{} still exists", scratch.display());
    ensure!(!accepts_tcp(port), "something still listens on {port}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_of_each_kind_start_in_parallel() -> Result<()> {
    let (pg_a, pg_b, maria_a, maria_b) = tokio::try_join!(
        PostgresServer::start(),
        PostgresServer::start(),
        MariaDbServer::start(),
        MariaDbServer::start(),
    )?;
    ensure!(pg_a.port() != pg_b.port(), "postgres servers share a port");
    ensure!(
        maria_a.port() != maria_b.port(),
        "mariadb servers share a port"
    );
    ensure!(
        pg_a.data_dir() != pg_b.data_dir(),
        "postgres servers share a data dir"
    );
    ensure!(
        maria_a.data_dir() != maria_b.data_dir(),
        "mariadb servers share a data dir"
    );

    // Each server holds its own data: a table made on one is absent on the other.
    pg_a.client()
        .await?
        .batch_execute("CREATE TABLE only_a (v int)")
        .await?;
    let on_b = pg_b
        .client()
        .await?
        .query_one("SELECT to_regclass('only_a') IS NOT NULL", &[])
        .await?
        .get::<_, bool>(0);
    ensure!(!on_b, "postgres servers share data");

    maria_a.create_database("only_a").await?;
    let mut conn_b = maria_b.conn().await?;
    let found: Option<String> = conn_b.query_first("SHOW DATABASES LIKE 'only_a'").await?;
    ensure!(found.is_none(), "mariadb servers share data");
    conn_b.disconnect().await?;
    Ok(())
}

#[tokio::test]
async fn extra_settings_override_the_harness_defaults() -> Result<()> {
    let (pg, maria) = tokio::try_join!(
        PostgresServer::start_with_settings(&[("wal_level", "replica")]),
        MariaDbServer::start_with_options(&["--binlog-format=STATEMENT"]),
    )?;
    let wal_level: String = pg
        .client()
        .await?
        .query_one("SHOW wal_level", &[])
        .await?
        .get(0);
    assert_eq!(wal_level, "replica");

    let mut conn = maria.conn().await?;
    let format: Option<String> = conn.query_first("SELECT @@GLOBAL.binlog_format").await?;
    assert_eq!(format.as_deref(), Some("STATEMENT"));
    conn.disconnect().await?;
    Ok(())
}

/// The scratch directory is the data directory's parent.
fn scratch_root(data_dir: &std::path::Path) -> PathBuf {
    data_dir
        .parent()
        .expect("data dir has a parent")
        .to_path_buf()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

fn accepts_tcp(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}
