//! Retention (by time and by size, sealed segments only, log start moves) and compaction
//! (latest value per key, tombstones dropped after delete.retention.ms, offsets preserved),
//! through both the storage core and the Broker's cleaner.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{keyed, open_log, read_all};
use sluice_broker::log::retention::RetentionLimits;
use sluice_broker::{
    Broker, BrokerConfig, CleanupPolicy, Error, FetchLimits, Offset, PartitionChoice, PartitionId,
    Record, TopicConfig,
};

fn filler(timestamp_ms: i64) -> Record {
    Record {
        key: None,
        value: Some(Bytes::from(vec![b'f'; 200])),
        headers: Vec::new(),
        timestamp_ms,
    }
}

#[test]
fn retention_by_time_deletes_only_old_sealed_segments() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path(), 2_048);
    // 40 old records then 40 new ones; roughly 8 records per segment.
    for i in 0..80 {
        let ts = if i < 40 { 1_000 } else { 1_000_000 };
        log.append(&[filler(ts)]).unwrap();
    }
    let limits = RetentionLimits {
        max_age_ms: Some(500_000),
        max_bytes: None,
    };
    let deleted = log.apply_retention(limits, 1_000_001).unwrap();
    assert!(deleted >= 3, "old segments go: {deleted}");
    let start = log.log_start_offset();
    assert!(
        start.0 > 0 && start.0 <= 40,
        "log start moved to a segment boundary: {start}"
    );
    // Everything from the new log start is intact; older offsets are out of range.
    let records = read_all(&log, start).unwrap();
    assert_eq!(records.len() as i64, 80 - start.0);
    assert!(matches!(
        log.read(Offset(0), 1),
        Err(Error::OffsetOutOfRange { .. })
    ));
    // Nothing newer than the limit is touched, even when everything is old the active
    // segment stays.
    assert_eq!(log.apply_retention(limits, 1_000_001).unwrap(), 0);
    log.apply_retention(limits, i64::MAX).unwrap();
    assert!(log.size_bytes() > 0, "the active segment is never deleted");
    assert_eq!(log.high_watermark(), Offset(80));
}

#[test]
fn segments_roll_by_age() {
    let dir = tempfile::tempdir().unwrap();
    let config = sluice_broker::log::LogConfig {
        segment_age: Duration::from_millis(20),
        ..common::log_config(1 << 30)
    };
    let log = sluice_broker::log::PartitionLog::open(dir.path(), "t-0".into(), config).unwrap();
    let segments = || {
        std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "log")
            })
            .count()
    };
    log.append(&[filler(0)]).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while segments() < 3 {
        assert!(std::time::Instant::now() < deadline, "never rolled by age");
        log.append(&[filler(0)]).unwrap();
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(
        read_all(&log, Offset(0)).unwrap().len() as i64,
        log.high_watermark().0
    );
}

#[test]
fn retention_by_bytes_keeps_the_partition_under_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path(), 2_048);
    for _ in 0..100 {
        log.append(&[filler(0)]).unwrap();
    }
    let before = log.size_bytes();
    let limits = RetentionLimits {
        max_age_ms: None,
        max_bytes: Some(6_000),
    };
    log.apply_retention(limits, 0).unwrap();
    let after = log.size_bytes();
    assert!(after < before);
    assert!(
        after >= 6_000,
        "deletes only while the rest still meets the limit: {after}"
    );
    assert!(
        after < 6_000 + 2_048,
        "at most one segment above the limit: {after}"
    );
    // Reopening keeps the new log start.
    let start = log.log_start_offset();
    drop(log);
    assert_eq!(open_log(dir.path(), 2_048).log_start_offset(), start);
}

#[test]
fn compaction_keeps_latest_per_key_preserves_offsets_and_drops_old_tombstones() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path(), 1_024);
    let now = 10_000_000;
    let mut expected = std::collections::BTreeMap::new();
    for round in 0..20 {
        for key in 0..5 {
            let value = format!("k{key}-v{round}");
            let offset = log
                .append(&[keyed(&format!("k{key}"), Some(&value), now - 1_000)])
                .unwrap();
            expected.insert(format!("k{key}"), (offset.base_offset, Some(value)));
        }
    }
    // k0 is deleted with an old tombstone, k1 with a fresh one.
    let old = log.append(&[keyed("k0", None, now - 100_000)]).unwrap();
    let fresh = log.append(&[keyed("k1", None, now)]).unwrap();
    expected.insert("k0".into(), (old.base_offset, None));
    expected.insert("k1".into(), (fresh.base_offset, None));
    // Push everything above into sealed segments.
    for i in 0..10 {
        log.append(&[keyed("pad", Some(&"p".repeat(300)), now + i)])
            .unwrap();
    }
    let hw = log.high_watermark();
    let report = log.compact(50_000, now).unwrap();
    assert!(
        report.segments_rewritten > 0 && report.records_removed > 90,
        "{report:?}"
    );
    assert_eq!(log.high_watermark(), hw, "compaction never moves the end");
    let again = log.compact(50_000, now).unwrap();
    assert_eq!(
        again.segments_rewritten, 0,
        "nothing new was sealed: the pass is skipped"
    );

    let records = read_all(&log, Offset(0)).unwrap();
    let mut seen = std::collections::BTreeMap::new();
    let mut previous = Offset(-1);
    for r in &records {
        assert!(r.offset > previous, "offsets stay increasing");
        previous = r.offset;
        let key = String::from_utf8(r.record.key.clone().unwrap().to_vec()).unwrap();
        let value = r
            .record
            .value
            .as_ref()
            .map(|v| String::from_utf8(v.to_vec()).unwrap());
        seen.insert(key, (r.offset, value));
    }
    // Every key's latest record is kept at its original offset.
    for key in ["k2", "k3", "k4", "k1"] {
        assert_eq!(seen[key], expected[key], "{key}");
    }
    assert!(
        !seen.contains_key("k0"),
        "the old tombstone and every k0 value are gone"
    );
    let k2_versions = records
        .iter()
        .filter(|r| r.record.key.as_deref() == Some(&b"k2"[..]))
        .count();
    assert_eq!(k2_versions, 1);

    // A reopen finds the compacted segments consistent (indexes rebuilt, gaps allowed).
    drop(log);
    let reopened = open_log(dir.path(), 1_024);
    assert_eq!(read_all(&reopened, Offset(0)).unwrap(), records);
}

#[tokio::test]
async fn broker_cleaner_applies_topic_policies() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::open(dir.path(), BrokerConfig::default())
        .await
        .unwrap();
    let small = TopicConfig {
        segment_bytes: 1_024,
        ..TopicConfig::default()
    };
    broker
        .create_topic(
            "compacted",
            TopicConfig {
                cleanup_policy: CleanupPolicy::Compact,
                retention_ms: 1,
                ..small.clone()
            },
        )
        .await
        .unwrap();
    broker
        .create_topic(
            "expiring",
            TopicConfig {
                retention_ms: 1_000,
                ..small
            },
        )
        .await
        .unwrap();
    let p0 = PartitionChoice::Explicit(PartitionId(0));
    for i in 0..40 {
        broker
            .produce(
                "compacted",
                p0.clone(),
                vec![keyed("same", Some(&format!("{i:0>200}")), 0)],
            )
            .await
            .unwrap();
        broker
            .produce("expiring", p0.clone(), vec![filler(0)])
            .await
            .unwrap();
    }
    let report = broker.run_cleaner().await.unwrap();
    assert!(
        report.segments_compacted > 0 && report.segments_deleted > 0,
        "{report:?}"
    );

    let limits = FetchLimits {
        max_bytes: 1 << 20,
        max_records: 1_000,
        max_wait: Duration::ZERO,
    };
    let start = broker.describe_topic("compacted").unwrap().partitions[0].log_start_offset;
    assert_eq!(start, Offset(0), "compact-only topics ignore retention.ms");
    let compacted = broker
        .fetch("compacted", PartitionId(0), start, limits)
        .await
        .unwrap();
    let same: Vec<_> = compacted
        .records
        .iter()
        .filter(|r| r.record.key.as_deref() == Some(&b"same"[..]))
        .collect();
    // Sealed segments hold no older version; only the active segment may still repeat the key.
    assert_eq!(same.last().unwrap().offset, Offset(39));
    assert!(same.len() < 10, "{} versions left", same.len());
    // Fetching from inside a compacted-away range skips the gap.
    let removed = Offset(1);
    assert!(compacted.records.iter().all(|r| r.offset != removed));
    let one = FetchLimits {
        max_records: 1,
        ..limits
    };
    let after_gap = broker
        .fetch("compacted", PartitionId(0), removed, one)
        .await
        .unwrap();
    assert_eq!(after_gap.records.len(), 1);
    assert!(after_gap.records[0].offset > removed);
    assert_eq!(after_gap.next_offset, after_gap.records[0].offset.plus(1));

    let expiring = broker.describe_topic("expiring").unwrap().partitions[0];
    assert!(expiring.log_start_offset > Offset(0));
    assert_eq!(expiring.high_watermark, Offset(40));
}
