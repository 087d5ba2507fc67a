//! Benchmark (issues 6 and 7): commit-to-topic latency and worker memory of a source connector.
//!
//! `cargo run --release -p sluice-tests --example commit_latency -- postgres|mariadb [seconds]
//! [rate] [connections] [drain_rows]` (defaults 60 s, 5,000 rows/s, 4 connections, 500,000).
//!
//! A real database server from the harness and a real release `sluice serve` (default worker
//! settings: fsync always) with the source registered (default JSON converter, schemas on).
//! For `seconds`, writers insert single-row transactions at `rate` rows/s, paced by the clock
//! (row i is due at start + i/rate; a free connection takes the next due row), and note the
//! instant each COMMIT returned. A consumer long-polls the topic over the worker's REST API
//! (`GET /topics/{t}/records?timeout_ms=…&format=raw`, which answers as soon as an append
//! lands) and notes when each row's record arrived; latency = arrival − commit return.
//!
//! What the consumer path itself adds is measured in the same run: a probe produces one record
//! every 10 ms over REST to another topic (its answer comes once the record is durable) and a
//! second consumer, the same code, notes when each arrives.
//!
//! The worker's VmRSS is sampled from /proc every 100 ms throughout; after the steady run the
//! connector is paused, `drain_rows` rows are written in 10,000-row transactions, the connector
//! is resumed and RSS is sampled until the topic holds them all.
//!
//! # Layout
//!
//! - `database`: the two servers behind one interface: connector config, writers, bulk rows.
//! - `measure`: the shared clock, paced writers, the long-polling consumer, the REST probe,
//!   the RSS sampler and percentiles.

mod database;
mod measure;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use database::Database;
use measure::{Clock, Consumer, RssSampler, Timeline, percentiles_ms};
use sluice_tests::SluiceProcess;

const PROBE_TOPIC: &str = "latency-probe";
const PROBE_PERIOD: Duration = Duration::from_millis(10);
/// Id of the row written (and waited for) before the measurement, outside every measured range.
const WARM_UP_ID: i64 = 9_000_000_000;
/// Drain rows get ids from here on.
const DRAIN_FIRST_ID: i64 = 10_000_000_000;
const DRAIN_CHUNK: i64 = 10_000;

#[derive(Debug)]
struct Args {
    kind: String,
    seconds: u64,
    rate: u64,
    connections: usize,
    drain_rows: i64,
}

fn args() -> anyhow::Result<Args> {
    let usage =
        "usage: commit_latency postgres|mariadb [seconds] [rate] [connections] [drain_rows]";
    let mut args = std::env::args().skip(1);
    let kind = args.next().context(usage)?;
    anyhow::ensure!(
        kind == "postgres" || kind == "mariadb",
        "unknown source {kind:?}; {usage}"
    );
    let mut number = |default: u64| -> anyhow::Result<u64> {
        args.next()
            .map(|text| text.parse().with_context(|| format!("{text:?}: {usage}")))
            .transpose()
            .map(|n| n.unwrap_or(default))
    };
    Ok(Args {
        kind,
        seconds: number(60)?,
        rate: number(5_000)?,
        connections: number(4)? as usize,
        drain_rows: number(500_000)? as i64,
    })
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    println!("started {} UTC; load {}", utc_now(), load_average());
    let database = Database::start(&args.kind).await?;
    let worker = SluiceProcess::start().await?;
    let pid = worker.pid().context("the worker has no process id")?;
    let clock = Clock::new();
    let rss = RssSampler::start(pid, clock.clone());

    let (status, body) = worker.post("/connectors", &database.connector()).await?;
    anyhow::ensure!(status == 201, "creating the connector: {status} {body}");
    worker
        .wait_for("/connectors/bench/status", Duration::from_secs(60), |s| {
            s["tasks"][0]["state"] == "RUNNING"
        })
        .await?;
    // Streaming has begun once a row written now reaches the topic.
    database.writer().await?.insert(WARM_UP_ID).await?;
    let topic = database.topic();
    worker
        .wait_for(&format!("/topics/{topic}"), Duration::from_secs(60), |t| {
            t["partitions"][0]["end_offset"].as_i64() > Some(0)
        })
        .await?;
    produce_probe(&worker, 0).await?;

    let total = args.seconds * args.rate;
    let probes = args.seconds * 1000 / PROBE_PERIOD.as_millis() as u64;
    let rows = Arc::new(Timeline::new(total as usize, clock.clone()));
    let probe_times = Arc::new(Timeline::new(probes as usize, clock.clone()));
    let stop = Arc::new(AtomicBool::new(false));
    let consumer = tokio::spawn(
        Consumer::new(&worker, topic, rows.clone(), stop.clone(), measure::row_id).run(),
    );
    let probe_consumer = tokio::spawn(
        Consumer::new(
            &worker,
            PROBE_TOPIC,
            probe_times.clone(),
            stop.clone(),
            measure::text_id,
        )
        .run(),
    );

    let steady_from = clock.now();
    let probing = tokio::spawn(run_probe(
        worker.server(),
        probes,
        probe_times.clone(),
        stop.clone(),
    ));
    let next = Arc::new(AtomicU64::new(0));
    let start = tokio::time::Instant::now();
    let mut writers = Vec::new();
    for _ in 0..args.connections {
        writers.push(tokio::spawn(measure::write_paced(
            database.writer().await?,
            next.clone(),
            total,
            args.rate,
            start,
            rows.clone(),
        )));
    }
    let mut lateness = Duration::ZERO;
    for writer in writers {
        lateness = lateness.max(writer.await??);
    }
    let write_time = start.elapsed();
    probing.await??;
    rows.wait_all_arrived(Duration::from_secs(120)).await;
    probe_times.wait_all_arrived(Duration::from_secs(10)).await;
    stop.store(true, Ordering::Relaxed);
    let polls = consumer.await??;
    let probe_polls = probe_consumer.await??;
    let steady_to = clock.now();
    let steady_hwm = measure::vm_hwm_kib(pid);

    let latencies = rows.latencies();
    let probe_latencies = probe_times.latencies();
    println!("\n== {} commit-to-topic latency ==", args.kind);
    println!(
        "rows: {total} single-row transactions over {} connections in {:.2?}: achieved {:.0} rows/s \
         (target {}/s); writers at most {:.1?} behind schedule",
        args.connections,
        write_time,
        total as f64 / write_time.as_secs_f64(),
        args.rate,
        lateness
    );
    println!(
        "arrived: {} of {total}; latency ms {}",
        latencies.len(),
        percentiles_ms(&latencies)
    );
    println!(
        "latency p99 per 10 s window (ms): {}",
        rows.windowed_p99(10)
    );
    println!(
        "consumer path alone (REST produce ack → same consumer, {} probes): ms {}",
        probe_latencies.len(),
        percentiles_ms(&probe_latencies)
    );
    println!("consumer polls: {polls}");
    println!("probe consumer polls: {probe_polls}");
    println!(
        "worker RSS during the steady run: max {:.1} MiB sampled every 100 ms (VmHWM {:.1} MiB)",
        rss.max_kib(steady_from, steady_to) as f64 / 1024.0,
        steady_hwm as f64 / 1024.0
    );

    drain(&worker, &database, &args, &rss, &clock, pid).await?;
    println!("finished {} UTC; load {}", utc_now(), load_average());
    Ok(())
}

/// Pauses the connector, writes `drain_rows` rows, resumes it and samples RSS until the topic
/// holds them all.
async fn drain(
    worker: &SluiceProcess,
    database: &Database,
    args: &Args,
    rss: &RssSampler,
    clock: &Clock,
    pid: u32,
) -> anyhow::Result<()> {
    let from = clock.now();
    let http = reqwest::Client::new();
    http.put(worker.url("/connectors/bench/pause"))
        .send()
        .await?;
    worker
        .wait_for("/connectors/bench/status", Duration::from_secs(60), |s| {
            s["tasks"][0]["state"] == "PAUSED"
        })
        .await?;
    let topic = format!("/topics/{}", database.topic());
    let before = worker.get(&topic).await?["partitions"][0]["end_offset"]
        .as_i64()
        .unwrap_or(0);
    let written = tokio::time::Instant::now();
    let mut first = DRAIN_FIRST_ID;
    while first < DRAIN_FIRST_ID + args.drain_rows {
        let last = (first + DRAIN_CHUNK).min(DRAIN_FIRST_ID + args.drain_rows) - 1;
        database.bulk_insert(first, last).await?;
        first = last + 1;
    }
    let write_time = written.elapsed();
    let resumed = tokio::time::Instant::now();
    http.put(worker.url("/connectors/bench/resume"))
        .send()
        .await?;
    worker
        .wait_for(&topic, Duration::from_secs(1800), |t| {
            t["partitions"][0]["end_offset"].as_i64() >= Some(before + args.drain_rows)
        })
        .await?;
    let drain_time = resumed.elapsed();
    let to = clock.now();
    println!(
        "\n== drain: {} rows written in {:.1?} while paused, then drained in {:.2?} ({:.0} rows/s) ==",
        args.drain_rows,
        write_time,
        drain_time,
        args.drain_rows as f64 / drain_time.as_secs_f64()
    );
    println!(
        "worker RSS during the drain: max {:.1} MiB sampled every 100 ms (VmHWM over the whole run {:.1} MiB)",
        rss.max_kib(from, to) as f64 / 1024.0,
        measure::vm_hwm_kib(pid) as f64 / 1024.0
    );
    Ok(())
}

/// Produces probe record `n` (key = its number as text) and returns once it is durable.
async fn produce_probe(worker: &SluiceProcess, n: u64) -> anyhow::Result<()> {
    let body = serde_json::json!([{"key": n.to_string(), "value": "probe"}]);
    let (status, answer) = worker
        .post(&format!("/topics/{PROBE_TOPIC}/records"), &body)
        .await?;
    anyhow::ensure!(status == 200, "producing a probe record: {status} {answer}");
    Ok(())
}

/// One probe record every [`PROBE_PERIOD`]; the answer's instant counts as its commit.
async fn run_probe(
    server: String,
    count: u64,
    times: Arc<Timeline>,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let url = format!("{server}/topics/{PROBE_TOPIC}/records");
    let mut tick = tokio::time::interval(PROBE_PERIOD);
    for n in 1..=count {
        tick.tick().await;
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let body = serde_json::json!([{"key": n.to_string(), "value": "probe"}]);
        let response = http.post(&url).json(&body).send().await?;
        anyhow::ensure!(
            response.status().is_success(),
            "probe produce failed: {}",
            response.status()
        );
        times.committed(n as i64);
    }
    Ok(())
}

fn utc_now() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M:%S"])
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .unwrap_or_default()
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}
