//! Durability: a real producing process is killed with SIGKILL and every record it saw
//! acknowledged must be readable afterwards; concurrent appends share fsyncs (group commit);
//! the interval policy acknowledges before fsync and flushes later.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use sluice_broker::{
    Broker, BrokerConfig, FetchLimits, FsyncPolicy, Offset, PartitionChoice, PartitionId, Record,
    TopicConfig,
};

const CHILD_DIR_ENV: &str = "SLUICE_BROKER_KILL_TEST_DIR";
const PRODUCERS: usize = 4;
const PARTITIONS: u32 = 2;

fn value(producer: usize, seq: u64, i: u64) -> String {
    format!(
        "p{producer}-s{seq}-r{i}-{}",
        "z".repeat((seq % 50) as usize)
    )
}

/// The child: produce from several tasks until killed, printing every ack once it returns.
fn run_child(dir: &str) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let broker = Broker::open(dir, BrokerConfig::default()).await.unwrap();
        let topic = TopicConfig {
            partitions: PARTITIONS,
            segment_bytes: 64 * 1024,
            ..TopicConfig::default()
        };
        broker.create_topic("crash", topic).await.unwrap();
        // A safety net in case the parent dies without killing us.
        let give_up = Instant::now() + Duration::from_secs(60);
        let mut tasks = Vec::new();
        for producer in 0..PRODUCERS {
            let broker = broker.clone();
            tasks.push(tokio::spawn(async move {
                let mut seq = 0u64;
                while Instant::now() < give_up {
                    let records = (0..1 + seq % 4)
                        .map(|i| Record::new(None, Some(Bytes::from(value(producer, seq, i)))))
                        .collect();
                    let partition = PartitionId((producer % PARTITIONS as usize) as i32);
                    let ack = broker
                        .produce("crash", PartitionChoice::Explicit(partition), records)
                        .await
                        .unwrap();
                    // One write per line so concurrent acks never interleave.
                    let line = format!(
                        "ACK {} {} {} {producer} {seq}\n",
                        ack.partition.0, ack.base_offset.0, ack.last_offset.0
                    );
                    let mut out = std::io::stdout().lock();
                    out.write_all(line.as_bytes()).unwrap();
                    out.flush().unwrap();
                    seq += 1;
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
    });
}

#[derive(Debug)]
struct Ack {
    partition: i32,
    base: i64,
    last: i64,
    producer: usize,
    seq: u64,
}

fn parse_ack(line: &str) -> Option<Ack> {
    let mut parts = line.strip_prefix("ACK ")?.split_whitespace();
    let mut next = || parts.next().and_then(|p| p.parse::<i64>().ok());
    Some(Ack {
        partition: next()? as i32,
        base: next()?,
        last: next()?,
        producer: next()? as usize,
        seq: next()? as u64,
    })
}

#[test]
fn sigkill_of_a_producing_process_loses_no_acknowledged_record() {
    if let Ok(dir) = std::env::var(CHILD_DIR_ENV) {
        run_child(&dir);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "sigkill_of_a_producing_process_loses_no_acknowledged_record",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    // Read acks on a thread; kill once enough arrived (or a deadline passed).
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 {
            // A line cut by the kill has no newline and is not a complete ack.
            if line.ends_with('\n') && tx.send(line.clone()).is_err() {
                break;
            }
            line.clear();
        }
    });
    let mut acks = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while acks.len() < 1500 {
        let remaining = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(remaining) {
            Ok(line) => acks.extend(parse_ack(&line)),
            Err(e) => panic!("child stopped producing after {} acks: {e}", acks.len()),
        }
    }
    child.kill().unwrap(); // SIGKILL, mid-stream: producers are still running.
    child.wait().unwrap();
    reader.join().unwrap();
    acks.extend(rx.try_iter().filter_map(|l| parse_ack(&l)));
    assert!(acks.len() >= 1500);

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(verify_acks(dir.path(), &acks));
}

async fn verify_acks(dir: &std::path::Path, acks: &[Ack]) {
    let broker = Broker::open(dir, BrokerConfig::default()).await.unwrap();
    for partition in 0..PARTITIONS as i32 {
        let fetched = broker
            .fetch(
                "crash",
                PartitionId(partition),
                Offset(0),
                FetchLimits {
                    max_bytes: 1 << 26,
                    max_records: usize::MAX,
                    max_wait: Duration::ZERO,
                },
            )
            .await
            .unwrap();
        let by_offset: std::collections::HashMap<i64, Bytes> = fetched
            .records
            .into_iter()
            .map(|r| (r.offset.0, r.record.value.unwrap()))
            .collect();
        for ack in acks.iter().filter(|a| a.partition == partition) {
            for (i, offset) in (ack.base..=ack.last).enumerate() {
                let stored = by_offset.get(&offset).unwrap_or_else(|| {
                    panic!("acknowledged offset {offset} of partition {partition} was lost")
                });
                assert_eq!(stored, value(ack.producer, ack.seq, i as u64).as_bytes());
            }
        }
    }
}

/// A temp dir under the target directory: group commit only shows when fsync takes real time,
/// which a memory-backed `/tmp` would not.
fn disk_tempdir() -> tempfile::TempDir {
    tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap()
}

#[test]
fn concurrent_appends_share_fsyncs() {
    let dir = disk_tempdir();
    let log = Arc::new(common::open_log(dir.path(), 1 << 30));
    const THREADS: usize = 8;
    const APPENDS: usize = 40;
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let log = log.clone();
            std::thread::spawn(move || {
                let mut last = Offset(-1);
                for i in 0..APPENDS {
                    let ack = log
                        .append(&[Record::new(None, Some(Bytes::from(format!("{t}-{i}"))))])
                        .unwrap();
                    assert!(ack.base_offset > last, "offsets grow per producer");
                    // Acked means durable means visible.
                    assert!(log.high_watermark() > ack.last_offset);
                    last = ack.base_offset;
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let total = (THREADS * APPENDS) as u64;
    assert_eq!(log.high_watermark(), Offset(total as i64));
    assert!(
        log.fsync_count() <= total,
        "never more than one fsync per append"
    );
    assert!(
        log.fsync_count() < total,
        "{} fsyncs for {total} concurrent appends: no group commit happened",
        log.fsync_count()
    );
}

#[tokio::test]
async fn interval_policy_acks_before_fsync_and_flushes_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let config = BrokerConfig {
        fsync: FsyncPolicy::Interval(Duration::from_millis(20)),
        ..BrokerConfig::default()
    };
    let broker = Broker::open(dir.path(), config).await.unwrap();
    let p0 = PartitionChoice::Explicit(PartitionId(0));
    let ack = broker
        .produce(
            "fast",
            p0,
            vec![Record::new(None, Some(Bytes::from_static(b"v")))],
        )
        .await
        .unwrap();
    let log = broker.partition_log("fast", PartitionId(0)).unwrap();
    assert!(
        log.high_watermark() > ack.last_offset,
        "visible once acknowledged"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while log.fsync_count() == 0 {
        assert!(
            Instant::now() < deadline,
            "the interval flusher never synced"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_async_producers_share_fsyncs_too() {
    let dir = disk_tempdir();
    let broker = Broker::open(dir.path(), BrokerConfig::default())
        .await
        .unwrap();
    broker
        .create_topic("gc", TopicConfig::default())
        .await
        .unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|t| {
            let broker = broker.clone();
            tokio::spawn(async move {
                for i in 0..20 {
                    let record = Record::new(None, Some(Bytes::from(format!("{t}-{i}"))));
                    broker
                        .produce(
                            "gc",
                            PartitionChoice::Explicit(PartitionId(0)),
                            vec![record],
                        )
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let log = broker.partition_log("gc", PartitionId(0)).unwrap();
    assert_eq!(log.high_watermark(), Offset(320));
    assert!(
        log.fsync_count() < 320,
        "{} fsyncs for 320 concurrent produce calls",
        log.fsync_count()
    );
}
