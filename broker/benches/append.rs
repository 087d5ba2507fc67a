//! Append and fetch throughput of the storage core, each measured next to a reference in the
//! same run on the same disk: raw sequential `write` + `fdatasync` of the same payload bytes in
//! the same batch sizes (fdatasync after every batch, or once per second for the interval
//! policy, like the broker).
//!
//! Run: `CARGO_TARGET_DIR=... cargo bench -p sluice-broker --bench append`, then
//! `python3 bench/broker-ratios.py <target-dir>/criterion` for the ratio table.
//! Files go to a temp dir under `SLUICE_BENCH_DIR` (default `/work`), not `/tmp`, which may be
//! memory-backed.

use std::fs::{File, OpenOptions};
use std::hint::black_box;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sluice_broker::codec::batch::decode_records;
use sluice_broker::log::retention::RetentionLimits;
use sluice_broker::log::{LogConfig, PartitionLog};
use sluice_broker::{FsyncPolicy, Offset, Record};

/// Keep benchmark files bounded: trim logs and truncate raw files past this size.
const MAX_ON_DISK: u64 = 256 << 20;

fn bench_dir() -> tempfile::TempDir {
    let base = std::env::var("SLUICE_BENCH_DIR").unwrap_or_else(|_| "/work".into());
    tempfile::Builder::new()
        .prefix("broker-bench-")
        .tempdir_in(base)
        .expect("create bench dir")
}

fn log_config(fsync: FsyncPolicy) -> LogConfig {
    LogConfig {
        segment_bytes: 64 << 20,
        segment_age: Duration::from_secs(3600),
        index_interval_bytes: 4096,
        fsync,
        max_batch_bytes: 16 << 20,
        codec: sluice_broker::Codec::None,
    }
}

fn records(record_bytes: usize, batch: usize) -> Vec<Record> {
    (0..batch)
        .map(|i| Record {
            key: None,
            value: Some(Bytes::from(vec![(i % 251) as u8; record_bytes])),
            headers: Vec::new(),
            timestamp_ms: 1_700_000_000_000,
        })
        .collect()
}

#[derive(Debug, Clone, Copy)]
enum Sync {
    PerBatch,
    Interval,
}

impl Sync {
    const INTERVAL: Duration = Duration::from_millis(1000);

    /// Whether the raw reference fdatasyncs now: after every batch, or once per interval like
    /// the broker's interval policy.
    fn raw_sync_due(self, last_sync: &mut Instant) -> bool {
        match self {
            Sync::PerBatch => true,
            Sync::Interval if last_sync.elapsed() >= Sync::INTERVAL => {
                *last_sync = Instant::now();
                true
            }
            Sync::Interval => false,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Sync::PerBatch => "fsync_per_batch",
            Sync::Interval => "fsync_interval",
        }
    }

    fn policy(self) -> FsyncPolicy {
        match self {
            Sync::PerBatch => FsyncPolicy::EveryAppend,
            Sync::Interval => FsyncPolicy::Interval(Sync::INTERVAL),
        }
    }
}

fn append(c: &mut Criterion) {
    let dir = bench_dir();
    let mut group = c.benchmark_group("append");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(3));
    for sync in [Sync::PerBatch, Sync::Interval] {
        for record_bytes in [100usize, 1024] {
            for batch in [1usize, 100] {
                let payload = (record_bytes * batch) as u64;
                group.throughput(Throughput::Bytes(payload));
                let id = format!("{}/{record_bytes}B/batch{batch}", sync.name());
                let batch_records = records(record_bytes, batch);

                let log_dir = dir.path().join(format!("log-{}", id.replace('/', "-")));
                let log = PartitionLog::open(&log_dir, "bench-0".into(), log_config(sync.policy()))
                    .unwrap();
                group.bench_function(BenchmarkId::new("broker", &id), |b| {
                    b.iter_custom(|iters| {
                        let started = Instant::now();
                        for _ in 0..iters {
                            black_box(log.append(&batch_records).unwrap());
                        }
                        let elapsed = started.elapsed();
                        let limits = RetentionLimits {
                            max_age_ms: None,
                            max_bytes: Some(MAX_ON_DISK),
                        };
                        log.apply_retention(limits, 0).unwrap();
                        elapsed
                    })
                });

                let raw_path = dir.path().join(format!("raw-{}", id.replace('/', "-")));
                let mut raw = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&raw_path)
                    .unwrap();
                let mut last_sync = Instant::now();
                let bytes = vec![7u8; payload as usize];
                group.bench_function(BenchmarkId::new("raw", &id), |b| {
                    b.iter_custom(|iters| {
                        let started = Instant::now();
                        for _ in 0..iters {
                            raw.write_all(&bytes).unwrap();
                            if sync.raw_sync_due(&mut last_sync) {
                                raw.sync_data().unwrap();
                            }
                        }
                        let elapsed = started.elapsed();
                        truncate_if_large(&raw, &raw_path);
                        elapsed
                    })
                });
            }
        }
    }
    group.finish();
}

fn truncate_if_large(file: &File, path: &Path) {
    if file.metadata().unwrap().len() > MAX_ON_DISK {
        file.set_len(0)
            .unwrap_or_else(|e| panic!("truncating {}: {e}", path.display()));
    }
}

/// A partition of 1 KB records in batches of 100, at least `bytes` large, in a fresh bench dir
/// (deleted when the returned guard drops).
fn filled_log(bytes: u64) -> (tempfile::TempDir, PartitionLog) {
    let dir = bench_dir();
    let config = log_config(FsyncPolicy::Interval(Duration::from_secs(1)));
    let log = PartitionLog::open(dir.path(), "bench-0".into(), config).unwrap();
    let batch = records(1024, 100);
    while log.size_bytes() < bytes {
        log.append(&batch).unwrap();
    }
    log.flush().unwrap();
    (dir, log)
}

/// Sequential reads of a ~128 MiB partition that sits in the page cache.
fn fetch(c: &mut Criterion) {
    let (_dir, log) = filled_log(128 << 20);
    let total = log.size_bytes();
    let end = log.high_watermark();
    let read_all = |decode: bool| {
        let mut offset = Offset(0);
        let mut records = 0usize;
        while offset < end {
            let read = log.read(offset, 1 << 20).unwrap();
            for stored in &read.batches {
                if decode {
                    records += decode_records(&stored.bytes).unwrap().len();
                }
                offset = stored.header.last_offset().plus(1);
            }
        }
        records
    };
    read_all(false); // warm the page cache

    let mut group = c.benchmark_group("fetch");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(4));
    group.throughput(Throughput::Bytes(total));
    group.bench_function("raw_batches_1KB_records", |b| {
        b.iter(|| black_box(read_all(false)))
    });
    group.bench_function("decoded_1KB_records", |b| {
        b.iter(|| black_box(read_all(true)))
    });
    group.finish();
}

/// CPU time this thread has used, from the scheduler's accounting (ns precision).
fn thread_cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns = stat
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    Duration::from_nanos(ns)
}

/// Broker and raw reference measured in alternating blocks, so both see the same disk and CPU
/// conditions on a shared machine; prints a markdown table of the ratios.
fn paired_ratios(_: &mut Criterion) {
    let dir = bench_dir();
    println!(
        "\n| policy | record | batch | broker records/s | broker MB/s | raw MB/s | broker/raw |"
    );
    println!("|---|---|---|---:|---:|---:|---:|");
    for sync in [Sync::PerBatch, Sync::Interval] {
        for record_bytes in [100usize, 1024] {
            for batch in [1usize, 100] {
                let id = format!("{}-{record_bytes}-{batch}", sync.name());
                let log = PartitionLog::open(
                    &dir.path().join(format!("paired-log-{id}")),
                    "bench-0".into(),
                    log_config(sync.policy()),
                )
                .unwrap();
                let raw_path = dir.path().join(format!("paired-raw-{id}"));
                let mut raw = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&raw_path)
                    .unwrap();
                let batch_records = records(record_bytes, batch);
                let mut last_sync = Instant::now();
                let payload = vec![7u8; record_bytes * batch];
                let block = match sync {
                    Sync::PerBatch => 10,
                    Sync::Interval => 200,
                };
                let (mut broker_time, mut raw_time, mut blocks) =
                    (Duration::ZERO, Duration::ZERO, 0u32);
                let until = Instant::now() + Duration::from_secs(3);
                while Instant::now() < until {
                    let started = Instant::now();
                    for _ in 0..block {
                        black_box(log.append(&batch_records).unwrap());
                    }
                    broker_time += started.elapsed();
                    let started = Instant::now();
                    for _ in 0..block {
                        raw.write_all(&payload).unwrap();
                        if sync.raw_sync_due(&mut last_sync) {
                            raw.sync_data().unwrap();
                        }
                    }
                    raw_time += started.elapsed();
                    blocks += 1;
                    truncate_if_large(&raw, &raw_path);
                    let limits = RetentionLimits {
                        max_age_ms: None,
                        max_bytes: Some(MAX_ON_DISK),
                    };
                    log.apply_retention(limits, 0).unwrap();
                }
                let appends = f64::from(blocks * block);
                let bytes = appends * payload.len() as f64;
                let broker_mbs = bytes / broker_time.as_secs_f64() / 1e6;
                let raw_mbs = bytes / raw_time.as_secs_f64() / 1e6;
                let records_s = appends * batch as f64 / broker_time.as_secs_f64();
                println!(
                    "| {} | {record_bytes} B | {batch} | {records_s:.0} | {broker_mbs:.1} | {raw_mbs:.1} | {:.2} |",
                    sync.name(),
                    broker_mbs / raw_mbs
                );
            }
        }
    }
}

/// Sequential fetch throughput by wall clock and per CPU-second of the reading thread (the
/// latter is what the code costs when other processes compete for the cores).
fn fetch_cpu(_: &mut Criterion) {
    let (_dir, log) = filled_log(256 << 20);
    let total = log.size_bytes() as f64;
    let end = log.high_watermark();
    println!("\n| fetch, 1 KB records, page cache | wall GB/s | per CPU-second GB/s |");
    println!("|---|---:|---:|");
    for decode in [false, true] {
        let mut best = (0.0f64, 0.0f64);
        for _ in 0..4 {
            let (wall, cpu) = (Instant::now(), thread_cpu_time());
            let mut offset = Offset(0);
            while offset < end {
                for stored in log.read(offset, 1 << 20).unwrap().batches {
                    if decode {
                        black_box(decode_records(&stored.bytes).unwrap());
                    }
                    offset = stored.header.last_offset().plus(1);
                }
            }
            let wall = total / wall.elapsed().as_secs_f64() / 1e9;
            let cpu = total / (thread_cpu_time() - cpu).as_secs_f64() / 1e9;
            best = (best.0.max(wall), best.1.max(cpu));
        }
        let name = if decode {
            "read + decode records"
        } else {
            "read raw batches (CRC-checked)"
        };
        println!("| {name} | {:.2} | {:.2} |", best.0, best.1);
    }
}

/// Resident memory of this process in bytes (VmRSS).
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// RSS while one consumer reads a large partition end to end (`SLUICE_BENCH_RSS_GB`, default
/// 5): reads stream from disk in bounded chunks, so RSS must stay flat.
fn fetch_rss(_: &mut Criterion) {
    let gigabytes: u64 = std::env::var("SLUICE_BENCH_RSS_GB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let (_dir, log) = filled_log(gigabytes << 30);
    let end = log.high_watermark();
    let before = rss_bytes();
    let (mut peak, mut offset, mut records_read) = (before, Offset(0), 0usize);
    let started = Instant::now();
    while offset < end {
        for stored in log.read(offset, 1 << 20).unwrap().batches {
            records_read += decode_records(&stored.bytes).unwrap().len();
            offset = stored.header.last_offset().plus(1);
        }
        peak = peak.max(rss_bytes());
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "\n| consumer reads {:.1} GB ({records_read} records) | RSS before {:.0} MB | peak {:.0} MB | growth {:.1} MB | {:.2} GB/s |",
        log.size_bytes() as f64 / 1e9,
        before as f64 / 1e6,
        peak as f64 / 1e6,
        (peak - before) as f64 / 1e6,
        log.size_bytes() as f64 / elapsed / 1e9
    );
}

criterion_group!(benches, append, fetch, paired_ratios, fetch_cpu, fetch_rss);
criterion_main!(benches);
