//! Topics with `compression.type=lz4`: batches are stored as Kafka LZ4 batches (codec bits 3,
//! header in the clear), read back identically through fetch, after a reopen and after
//! compaction, take a fraction of the disk, and a torn compressed tail is cut on reopen like
//! any other.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{keyed, read_all};
use sluice_broker::codec::batch::decode_records;
use sluice_broker::log::{LogConfig, PartitionLog};
use sluice_broker::{
    Broker, BrokerConfig, Codec, CompressionType, FetchLimits, Header, Offset, PartitionChoice,
    PartitionId, Record, TopicConfig,
};

/// A change-event-like record: repetitive JSON, a key and two headers.
fn event(i: u64) -> Record {
    let value = format!(
        "{{\"schema\":{{\"type\":\"struct\",\"fields\":[{{\"type\":\"int64\",\"field\":\"id\"}}]}},\
         \"payload\":{{\"before\":null,\"after\":{{\"id\":{i},\"customer\":\"customer-{}\"}},\
         \"op\":\"c\",\"ts_ms\":{}}}}}",
        i % 97,
        1_700_000_000_000 + i
    );
    Record {
        key: Some(Bytes::from(format!("{{\"id\":{i}}}"))),
        value: Some(Bytes::from(value)),
        headers: vec![
            Header {
                key: "__sluice.task".into(),
                value: Some(Bytes::from_static(b"bench-0@1")),
            },
            Header {
                key: "empty".into(),
                value: None,
            },
        ],
        timestamp_ms: 1_700_000_000_000 + i as i64,
    }
}

fn topic(compression_type: CompressionType) -> TopicConfig {
    TopicConfig {
        compression_type,
        ..TopicConfig::default()
    }
}

async fn produce_all(broker: &Broker, topic: &str, records: &[Record]) {
    for chunk in records.chunks(250) {
        broker
            .produce(
                topic,
                PartitionChoice::Explicit(PartitionId(0)),
                chunk.to_vec(),
            )
            .await
            .unwrap();
    }
}

async fn fetch_all(broker: &Broker, topic: &str) -> Vec<Record> {
    let limits = FetchLimits {
        max_wait: Duration::from_millis(10),
        max_bytes: 64 << 20,
        ..FetchLimits::default()
    };
    let mut out = Vec::new();
    let mut offset = Offset(0);
    loop {
        let fetched = broker
            .fetch(topic, PartitionId(0), offset, limits)
            .await
            .unwrap();
        let Some(last) = fetched.records.last() else {
            return out;
        };
        offset = last.offset.plus(1);
        out.extend(fetched.records.into_iter().map(|r| r.record));
    }
}

fn size_of(broker: &Broker, topic: &str) -> u64 {
    broker.describe_topic(topic).unwrap().partitions[0].size_bytes
}

#[tokio::test]
async fn lz4_topics_round_trip_through_fetch_and_reopen_in_a_fraction_of_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let records: Vec<Record> = (0..3_000).map(event).collect();
    {
        let broker = Broker::open(dir.path(), BrokerConfig::default())
            .await
            .unwrap();
        broker
            .create_topic("packed", topic(CompressionType::Lz4))
            .await
            .unwrap();
        broker
            .create_topic("plain", topic(CompressionType::Producer))
            .await
            .unwrap();
        produce_all(&broker, "packed", &records).await;
        produce_all(&broker, "plain", &records).await;
        assert_eq!(fetch_all(&broker, "packed").await, records);
        let (packed, plain) = (size_of(&broker, "packed"), size_of(&broker, "plain"));
        assert!(
            packed * 4 < plain,
            "lz4 topic holds {packed} bytes, the uncompressed one {plain}"
        );
    }
    let broker = Broker::open(dir.path(), BrokerConfig::default())
        .await
        .unwrap();
    assert_eq!(
        broker
            .describe_topic("packed")
            .unwrap()
            .config
            .compression_type,
        CompressionType::Lz4,
        "the setting survives a reopen"
    );
    assert_eq!(fetch_all(&broker, "packed").await, records);
    assert_eq!(fetch_all(&broker, "plain").await, records);
}

fn lz4_log(dir: &std::path::Path, segment_bytes: u64) -> PartitionLog {
    let config = LogConfig {
        codec: Codec::Lz4,
        ..common::log_config(segment_bytes)
    };
    PartitionLog::open(dir, "t-0".into(), config).unwrap()
}

/// The codec bits of every stored batch from `from` on.
fn stored_codecs(log: &PartitionLog) -> Vec<i16> {
    let mut codecs = Vec::new();
    let mut offset = log.log_start_offset();
    while offset < log.high_watermark() {
        let read = log.read(offset, 1 << 20).unwrap();
        for batch in read.batches {
            codecs.push(batch.header.attributes & 0x07);
            offset = batch.header.last_offset().plus(1);
        }
    }
    codecs
}

#[test]
fn compaction_rewrites_lz4_batches_as_lz4() {
    let dir = tempfile::tempdir().unwrap();
    let log = lz4_log(dir.path(), 2_048);
    let now = 10_000_000;
    for round in 0..30 {
        let batch: Vec<Record> = (0..4)
            .map(|key| {
                let value = format!("k{key}-v{round}-{}", "x".repeat(60));
                keyed(&format!("k{key}"), Some(&value), now - 1_000)
            })
            .collect();
        log.append(&batch).unwrap();
    }
    let report = log.compact(50_000, now).unwrap();
    assert!(report.records_removed > 0, "{report:?}");
    assert!(stored_codecs(&log).iter().all(|&codec| codec == 3));
    let latest: std::collections::BTreeMap<Bytes, Bytes> = read_all(&log, Offset(0))
        .unwrap()
        .into_iter()
        .map(|r| (r.record.key.unwrap(), r.record.value.unwrap()))
        .collect();
    for key in 0..4 {
        let value = &latest[&Bytes::from(format!("k{key}"))];
        assert!(value.starts_with(format!("k{key}-v29-").as_bytes()));
    }
}

#[test]
fn a_torn_lz4_batch_at_the_tail_is_cut_on_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let batches: Vec<Vec<Record>> = (0..3)
        .map(|b| (0..50).map(|i| event(b * 50 + i)).collect())
        .collect();
    {
        let log = lz4_log(dir.path(), 1 << 30);
        for batch in &batches {
            log.append(batch).unwrap();
        }
    }
    let segment = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "log"))
        .unwrap();
    let len = std::fs::metadata(&segment).unwrap().len();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&segment)
        .unwrap();
    file.set_len(len - 7).unwrap();
    drop(file);

    let log = lz4_log(dir.path(), 1 << 30);
    assert_eq!(
        log.high_watermark(),
        Offset(100),
        "the torn third batch is gone"
    );
    let read = read_all(&log, Offset(0)).unwrap();
    let expected: Vec<&Record> = batches[..2].iter().flatten().collect();
    assert_eq!(read.iter().map(|r| &r.record).collect::<Vec<_>>(), expected);
    // The log goes on from there, still compressed.
    log.append(&batches[2]).unwrap();
    assert_eq!(stored_codecs(&log), [3, 3, 3]);
    let last = log.read(Offset(100), 1 << 20).unwrap();
    let decoded = decode_records(&last.batches[0].bytes).unwrap();
    assert_eq!(decoded.len(), 50);
}
