//! Benchmark: how much of the MySQL source's reference time the database and the client
//! library take alone, before any change event is built — the floors under the snapshot and
//! drain ratios (`mysql_snapshot_bench`, `binlog_drain_bench`).
//!
//! `cargo run --release -p sluice-mysql --example mysql_floor_bench [rows]` (default 1000000).
//!
//! On one harness MariaDB holding `rows` generated rows (and their binlog), in the same run:
//! - snapshot: `mysqldump --quick` of the table to /dev/null (best of 2) against the very read
//!   the source's snapshot makes — `mysql_async` streaming `SELECT *` of the table, each row
//!   dropped as it arrives (best of 2) — and the MariaDB server's own CPU during each;
//! - drain: `mysqlbinlog --read-from-remote-server --verbose` of the binlog to /dev/null against
//!   `mysql_async`'s binlog stream receiving the same events (the source's connection, nothing
//!   decoded beyond the event header), and the server's CPU during each.
//!
//! Both sides' CPU is printed. The machine has 2 cores: a side whose server CPU plus client
//! CPU exceeds twice the reference's wall time cannot run as fast as the reference.

#[path = "common/mod.rs"]
mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use mysql_async::BinlogStreamRequest;
use mysql_async::prelude::Queryable;
use sluice_tests::{MariaDbServer, cpu};

/// CPU (user + system) of the process whose pid file is `pid_file`; zero when unreadable.
fn process_cpu(pid_file: &std::path::Path) -> Duration {
    std::fs::read_to_string(pid_file)
        .ok()
        .and_then(|text| text.trim().parse::<u32>().ok())
        .map_or(Duration::ZERO, |pid| stat_cpu(&format!("/proc/{pid}/stat")))
}

/// This process's own CPU (user + system) so far.
fn own_cpu() -> Duration {
    stat_cpu("/proc/self/stat")
}

/// utime + stime of a `/proc/<pid>/stat` file (fields counted after the command name);
/// zero when unreadable.
fn stat_cpu(stat_path: &str) -> Duration {
    let Ok(stat) = std::fs::read_to_string(stat_path) else {
        return Duration::ZERO;
    };
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&at| fields.get(at)?.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 10)
}

/// One timed side: wall time, client CPU, server CPU.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
struct Side {
    wall: Duration,
    client_cpu: Duration,
    server_cpu: Duration,
}

impl Side {
    fn print(&self, what: &str, rows: i64) {
        println!(
            "{what}: {:.3} s; client CPU {:.2} s ({:.2} µs/row), server CPU {:.2} s ({:.2} µs/row)",
            self.wall.as_secs_f64(),
            self.client_cpu.as_secs_f64(),
            self.client_cpu.as_secs_f64() * 1e6 / rows as f64,
            self.server_cpu.as_secs_f64(),
            self.server_cpu.as_secs_f64() * 1e6 / rows as f64,
        );
    }
}

/// Measures a [`Side`] run by this process: wall time, this process's CPU, the server's CPU.
struct Stopwatch<'a> {
    server_pid: &'a std::path::Path,
    client_before: Duration,
    server_before: Duration,
    started: Instant,
}

impl<'a> Stopwatch<'a> {
    fn start(server_pid: &'a std::path::Path) -> Self {
        Self {
            server_pid,
            client_before: own_cpu(),
            server_before: process_cpu(server_pid),
            started: Instant::now(),
        }
    }

    fn stop(self) -> Side {
        Side {
            wall: self.started.elapsed(),
            client_cpu: own_cpu() - self.client_before,
            server_cpu: process_cpu(self.server_pid) - self.server_before,
        }
    }
}

fn best(a: Side, b: Side) -> Side {
    if a.wall <= b.wall { a } else { b }
}

/// Runs a reference program to completion with its stdout discarded.
fn run_program(
    program: &str,
    args: &[String],
    server_pid: &std::path::Path,
) -> anyhow::Result<Side> {
    let client_before = cpu::children_cpu()?;
    let server_before = process_cpu(server_pid);
    let started = Instant::now();
    let status = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .status()?;
    let wall = started.elapsed();
    anyhow::ensure!(status.success(), "{program} failed: {status}");
    Ok(Side {
        wall,
        client_cpu: cpu::children_cpu()? - client_before,
        server_cpu: process_cpu(server_pid) - server_before,
    })
}

fn connection_args(maria: &MariaDbServer) -> Vec<String> {
    vec![
        format!("--host={}", maria.host()),
        format!("--port={}", maria.port()),
        format!("--user={}", maria.user()),
        format!("--password={}", maria.password()),
    ]
}

/// `SELECT *` of the table streamed with `mysql_async`'s text protocol, as the snapshot
/// reads it; every row is dropped.
async fn stream_rows(
    maria: &MariaDbServer,
    server_pid: &std::path::Path,
) -> anyhow::Result<(Side, u64)> {
    let mut conn = mysql_async::Conn::new(maria.opts_for("shop")).await?;
    let stopwatch = Stopwatch::start(server_pid);
    let mut result = conn.query_iter("SELECT * FROM orders").await?;
    let mut count = 0u64;
    if let Some(mut rows) = result.stream::<mysql_async::Row>().await? {
        while let Some(row) = rows.next().await {
            std::hint::black_box(row?);
            count += 1;
        }
    }
    let side = stopwatch.stop();
    drop(result);
    conn.disconnect().await?;
    Ok((side, count))
}

/// The whole binlog received through `mysql_async`'s binlog stream (non-blocking: it ends
/// at the end of the last file), as the source's connection receives it.
async fn stream_binlog(
    maria: &MariaDbServer,
    first_file: &str,
    server_pid: &std::path::Path,
) -> anyhow::Result<(Side, u64)> {
    let mut conn = mysql_async::Conn::new(maria.opts()).await?;
    conn.query_drop("SET @mariadb_slave_capability=4").await?;
    let stopwatch = Stopwatch::start(server_pid);
    let request = BinlogStreamRequest::new(9_001)
        .with_filename(first_file.as_bytes())
        .with_pos(4)
        .with_non_blocking();
    let mut stream = conn.get_binlog_stream(request).await?;
    let mut events = 0u64;
    while let Some(event) = stream.next().await {
        std::hint::black_box(event?);
        events += 1;
    }
    let side = stopwatch.stop();
    stream.close().await?;
    Ok((side, events))
}

fn ratio(side: Side, reference: Side) -> f64 {
    side.wall.as_secs_f64() / reference.wall.as_secs_f64()
}

fn cores_needed(side: Side, reference: Side) -> f64 {
    (side.client_cpu + side.server_cpu).as_secs_f64() / reference.wall.as_secs_f64()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rows = sluice_tests::bench_args::rows_arg(1_000_000)?;
    let (maria, mut conn) = common::start_shop().await?;
    common::insert_orders(&mut conn, rows).await?;
    let files = common::binlog_files(&mut conn).await?;
    conn.disconnect().await?;
    let server_pid = maria
        .data_dir()
        .parent()
        .map(|dir| dir.join("mariadbd.pid"))
        .unwrap_or_default();
    anyhow::ensure!(
        process_cpu(&server_pid) > Duration::ZERO,
        "cannot read the MariaDB server's CPU time (pid file {})",
        server_pid.display()
    );
    println!("load average before: {}", common::load_average());

    // Snapshot: mysqldump against the source's own read of the rows.
    let mut dump_args = connection_args(&maria);
    dump_args.extend(["--quick".to_string(), "shop".into(), "orders".into()]);
    let dump = best(
        run_program("mysqldump", &dump_args, &server_pid)?,
        run_program("mysqldump", &dump_args, &server_pid)?,
    );
    let (first, count) = stream_rows(&maria, &server_pid).await?;
    let (second, _) = stream_rows(&maria, &server_pid).await?;
    anyhow::ensure!(count == rows as u64, "read {count} rows, expected {rows}");
    let read = best(first, second);
    dump.print("mysqldump --quick > /dev/null (best of 2)", rows);
    read.print(
        "mysql_async SELECT * stream, rows dropped (best of 2)",
        rows,
    );
    println!(
        "snapshot floor: the bare read takes {:.2}× mysqldump's time and needs {:.2} cores \
         (server + client CPU over mysqldump's wall time) before any event is built",
        ratio(read, dump),
        cores_needed(read, dump)
    );

    // Drain: mysqlbinlog against the source's binlog connection receiving the same events.
    let mut binlog_args = connection_args(&maria);
    binlog_args.extend([
        "--read-from-remote-server".to_string(),
        "--verbose".into(),
        "--to-last-log".into(),
        files[0].0.clone(),
    ]);
    let decode = run_program("mysqlbinlog", &binlog_args, &server_pid)?;
    let (receive, events) = stream_binlog(&maria, &files[0].0, &server_pid).await?;
    decode.print(
        "mysqlbinlog --read-from-remote-server --verbose > /dev/null",
        rows,
    );
    receive.print(
        &format!("mysql_async binlog stream, {events} events received, none decoded"),
        rows,
    );
    println!(
        "drain floor: receiving the events takes {:.2}× mysqlbinlog's time and needs {:.2} \
         cores (server + client CPU over mysqlbinlog's wall time) before any row is decoded",
        ratio(receive, decode),
        cores_needed(receive, decode)
    );
    println!("load average after: {}", common::load_average());
    Ok(())
}
