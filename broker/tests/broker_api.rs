//! The async Broker API end to end: topic admin, produce/fetch, long-poll, ListOffsets,
//! Kafka-compatible key routing, persistence across reopen, and many producers and consumers
//! at once.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use sluice_broker::partitioner::partition_for_key;
use sluice_broker::{
    AutoCreateTopics, Broker, BrokerConfig, Error, FetchLimits, Header, Offset, OffsetSpec,
    PartitionChoice, PartitionId, Record, TopicConfig,
};

fn topic_config(partitions: u32) -> TopicConfig {
    TopicConfig {
        partitions,
        ..TopicConfig::default()
    }
}

fn record(value: &str) -> Record {
    Record::new(None, Some(Bytes::copy_from_slice(value.as_bytes())))
}

fn quick(max_wait_ms: u64) -> FetchLimits {
    FetchLimits {
        max_wait: Duration::from_millis(max_wait_ms),
        ..FetchLimits::default()
    }
}

#[tokio::test]
async fn topic_admin_create_describe_add_delete_and_validation() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::open(dir.path(), BrokerConfig::default())
        .await
        .unwrap();
    broker
        .create_topic("orders", topic_config(3))
        .await
        .unwrap();
    broker
        .create_topic("a.b_c-1", topic_config(1))
        .await
        .unwrap();
    assert!(matches!(
        broker.create_topic("orders", topic_config(1)).await,
        Err(Error::TopicExists(_))
    ));
    let err = broker
        .create_topic("bad/name", topic_config(1))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("bad/name"), "{err}");
    assert!(matches!(
        broker.create_topic("..", topic_config(1)).await,
        Err(Error::InvalidTopicName { .. })
    ));
    assert!(matches!(
        broker.create_topic("zero", topic_config(0)).await,
        Err(Error::InvalidConfig { .. })
    ));
    assert_eq!(broker.list_topics(), ["a.b_c-1", "orders"]);

    let described = broker.describe_topic("orders").unwrap();
    assert_eq!(described.partitions.len(), 3);
    assert_eq!(described.config.partitions, 3);

    broker.add_partitions("orders", 5).await.unwrap();
    assert!(
        broker.add_partitions("orders", 4).await.is_err(),
        "topics never shrink"
    );
    let ack = broker
        .produce(
            "orders",
            PartitionChoice::Explicit(PartitionId(4)),
            vec![record("x")],
        )
        .await
        .unwrap();
    assert_eq!(ack.partition, PartitionId(4));
    assert!(matches!(
        broker
            .produce(
                "orders",
                PartitionChoice::Explicit(PartitionId(5)),
                vec![record("x")]
            )
            .await,
        Err(Error::UnknownPartition { .. })
    ));

    broker.delete_topic("a.b_c-1").await.unwrap();
    assert!(matches!(
        broker.describe_topic("a.b_c-1"),
        Err(Error::UnknownTopic(_))
    ));
    drop(broker);

    // Topics, their configs (including added partitions) and data survive a reopen.
    let reopened = Broker::open(dir.path(), BrokerConfig::default())
        .await
        .unwrap();
    assert_eq!(reopened.list_topics(), ["orders"]);
    let described = reopened.describe_topic("orders").unwrap();
    assert_eq!(described.config.partitions, 5);
    assert_eq!(described.partitions[4].high_watermark, Offset(1));
}

#[tokio::test]
async fn a_data_dir_is_opened_by_one_broker_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let first = Broker::open(dir.path(), BrokerConfig::default())
        .await
        .unwrap();
    let err = Broker::open(dir.path(), BrokerConfig::default())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("in use by another broker"),
        "{err}"
    );
    drop(first);
    Broker::open(dir.path(), BrokerConfig::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn auto_create_follows_the_broker_config() {
    let dir = tempfile::tempdir().unwrap();
    let config = BrokerConfig {
        auto_create_topics: AutoCreateTopics::Disabled,
        ..BrokerConfig::default()
    };
    let broker = Broker::open(dir.path(), config).await.unwrap();
    let err = broker
        .produce("new", PartitionChoice::RoundRobin, vec![record("a")])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownTopic(_)), "{err}");
    assert!(err.to_string().contains("auto-create"));

    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::open(dir.path(), BrokerConfig::default())
        .await
        .unwrap();
    broker
        .produce("new", PartitionChoice::RoundRobin, vec![record("a")])
        .await
        .unwrap();
    assert_eq!(broker.list_topics(), ["new"]);
}

#[tokio::test]
async fn produce_and_fetch_round_trip_with_headers_nulls_and_limits() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::open(dir.path(), BrokerConfig::default())
        .await
        .unwrap();
    let first = Record {
        key: Some(Bytes::from_static(b"k1")),
        value: None,
        headers: vec![
            Header {
                key: "trace".into(),
                value: Some(Bytes::from_static(b"abc")),
            },
            Header {
                key: "empty".into(),
                value: None,
            },
        ],
        timestamp_ms: 1_700_000_000_000,
    };
    let records: Vec<Record> = std::iter::once(first.clone())
        .chain((1..10).map(|i| record(&format!("v{i}"))))
        .collect();
    let ack = broker
        .produce(
            "t",
            PartitionChoice::Explicit(PartitionId(0)),
            records.clone(),
        )
        .await
        .unwrap();
    assert_eq!((ack.base_offset, ack.last_offset), (Offset(0), Offset(9)));
    let more = broker
        .produce(
            "t",
            PartitionChoice::Explicit(PartitionId(0)),
            vec![record("v10")],
        )
        .await
        .unwrap();
    assert_eq!(more.base_offset, Offset(10));

    let all = broker
        .fetch("t", PartitionId(0), Offset(0), quick(0))
        .await
        .unwrap();
    assert_eq!(all.records.len(), 11);
    assert_eq!(all.records[0].record, first);
    assert_eq!(all.high_watermark, Offset(11));
    assert_eq!(all.log_start_offset, Offset(0));
    assert_eq!(all.next_offset, Offset(11));
    assert_eq!(all.batches.len(), 2, "raw stored batches are exposed");

    // Mid-batch start and a record limit.
    let limited = broker
        .fetch(
            "t",
            PartitionId(0),
            Offset(3),
            FetchLimits {
                max_records: 4,
                ..quick(0)
            },
        )
        .await
        .unwrap();
    let offsets: Vec<i64> = limited.records.iter().map(|r| r.offset.0).collect();
    assert_eq!(offsets, [3, 4, 5, 6]);
    assert_eq!(limited.next_offset, Offset(7));

    // Beyond the end is an error naming the valid range.
    let err = broker
        .fetch("t", PartitionId(0), Offset(12), quick(0))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::OffsetOutOfRange { .. }), "{err}");
}

#[tokio::test]
async fn long_poll_is_woken_by_an_append_and_times_out_empty() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::open(dir.path(), BrokerConfig::default())
        .await
        .unwrap();
    broker.create_topic("poll", topic_config(1)).await.unwrap();

    let started = Instant::now();
    let empty = broker
        .fetch("poll", PartitionId(0), Offset(0), quick(200))
        .await
        .unwrap();
    assert!(empty.records.is_empty());
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "waited the full max_wait"
    );

    let waiter = {
        let broker = broker.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let result = broker
                .fetch("poll", PartitionId(0), Offset(0), quick(60_000))
                .await
                .unwrap();
            (result, started.elapsed())
        })
    };
    // Produce only once the fetch is parked waiting (no readers would mean nothing to wake).
    let log = broker.partition_log("poll", PartitionId(0)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while log.waiting_readers() < 1 {
        assert!(Instant::now() < deadline, "the fetch never started waiting");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    broker
        .produce(
            "poll",
            PartitionChoice::Explicit(PartitionId(0)),
            vec![record("wake")],
        )
        .await
        .unwrap();
    let (result, waited) = waiter.await.unwrap();
    assert_eq!(result.records.len(), 1);
    assert!(
        waited < Duration::from_secs(30),
        "woken by the append, not the 60 s deadline: {waited:?}"
    );
}

#[tokio::test]
async fn list_offsets_earliest_latest_and_by_timestamp() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::open(dir.path(), BrokerConfig::default())
        .await
        .unwrap();
    let p0 = PartitionChoice::Explicit(PartitionId(0));
    for batch in 0..50i64 {
        let records = (0..4)
            .map(|i| Record {
                timestamp_ms: 1_000 + batch * 10 + i,
                ..record("x")
            })
            .collect();
        broker.produce("ts", p0.clone(), records).await.unwrap();
    }
    let spec = |s| broker.list_offsets("ts", PartitionId(0), s);
    assert_eq!(spec(OffsetSpec::Earliest).await.unwrap(), Some(Offset(0)));
    assert_eq!(spec(OffsetSpec::Latest).await.unwrap(), Some(Offset(200)));
    assert_eq!(
        spec(OffsetSpec::Timestamp(0)).await.unwrap(),
        Some(Offset(0))
    );
    // Batch 20 holds timestamps 1200..=1203 at offsets 80..=83.
    assert_eq!(
        spec(OffsetSpec::Timestamp(1_202)).await.unwrap(),
        Some(Offset(82))
    );
    assert_eq!(
        spec(OffsetSpec::Timestamp(1_204)).await.unwrap(),
        Some(Offset(84))
    );
    assert_eq!(spec(OffsetSpec::Timestamp(99_999)).await.unwrap(), None);
}

#[tokio::test]
async fn keyed_records_land_where_kafka_would_put_them() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::open(dir.path(), BrokerConfig::default())
        .await
        .unwrap();
    broker.create_topic("keys", topic_config(10)).await.unwrap();
    let ack = broker
        .produce(
            "keys",
            PartitionChoice::ByKey(Bytes::from_static(b"foobar")),
            vec![record("v")],
        )
        .await
        .unwrap();
    assert_eq!(
        ack.partition,
        PartitionId(6),
        "(murmur2(foobar) & 0x7fffffff) % 10"
    );

    let records: Vec<Record> = (0..100)
        .map(|i| {
            Record::new(
                Some(Bytes::from(format!("key-{i}"))),
                Some(Bytes::from(format!("{i}"))),
            )
        })
        .collect();
    let acks = broker.produce_keyed("keys", records).await.unwrap();
    let total: i64 = acks
        .iter()
        .map(|a| a.last_offset.0 - a.base_offset.0 + 1)
        .sum();
    assert_eq!(total, 100);
    for ack in &acks {
        let fetched = broker
            .fetch(
                "keys",
                ack.partition,
                ack.base_offset,
                FetchLimits {
                    max_records: 1_000,
                    ..quick(0)
                },
            )
            .await
            .unwrap();
        for r in &fetched.records {
            let key = r.record.key.as_ref().unwrap();
            assert_eq!(partition_for_key(key, 10), ack.partition);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_producers_and_consumers_keep_order_and_lose_nothing() {
    const PRODUCERS: usize = 6;
    const BATCHES: usize = 60;
    const PARTITIONS: u32 = 3;
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::open(dir.path(), BrokerConfig::default())
        .await
        .unwrap();
    broker
        .create_topic(
            "load",
            TopicConfig {
                partitions: PARTITIONS,
                segment_bytes: 16 * 1024,
                ..TopicConfig::default()
            },
        )
        .await
        .unwrap();

    let mut producers = Vec::new();
    for producer in 0..PRODUCERS {
        let broker = broker.clone();
        producers.push(tokio::spawn(async move {
            let mut acks = Vec::new();
            for batch in 0..BATCHES {
                let partition = PartitionId(((producer + batch) % PARTITIONS as usize) as i32);
                let records: Vec<Record> = (0..3)
                    .map(|i| record(&format!("{producer}:{batch}:{i}")))
                    .collect();
                let ack = broker
                    .produce("load", PartitionChoice::Explicit(partition), records)
                    .await
                    .unwrap();
                acks.push((ack, producer, batch));
            }
            acks
        }));
    }
    let expected_total = PRODUCERS * BATCHES * 3;
    let mut consumers = Vec::new();
    for partition in 0..PARTITIONS {
        let broker = broker.clone();
        consumers.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut offset = Offset(0);
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let fetched = broker
                    .fetch(
                        "load",
                        PartitionId(partition as i32),
                        offset,
                        FetchLimits {
                            max_bytes: 2_000,
                            ..quick(300)
                        },
                    )
                    .await
                    .unwrap();
                for r in &fetched.records {
                    assert_eq!(
                        r.offset,
                        Offset(seen.len() as i64),
                        "dense, in order, no duplicates"
                    );
                    seen.push(r.record.value.clone().unwrap());
                }
                offset = fetched.next_offset;
                let done = seen.len() as i64
                    >= broker.describe_topic("load").unwrap().partitions[partition as usize]
                        .high_watermark
                        .0
                    && fetched.records.is_empty();
                if (done && seen.len() >= expected_total / PARTITIONS as usize / 2)
                    || Instant::now() > deadline
                {
                    break;
                }
            }
            seen
        }));
    }
    let mut acked: HashMap<(i32, i64), String> = HashMap::new();
    for handle in producers {
        for (ack, producer, batch) in handle.await.unwrap() {
            for i in 0..3 {
                acked.insert(
                    (ack.partition.0, ack.base_offset.0 + i),
                    format!("{producer}:{batch}:{i}"),
                );
            }
        }
    }
    assert_eq!(acked.len(), expected_total);
    let mut consumed = 0;
    for (partition, handle) in consumers.into_iter().enumerate() {
        let mut seen = handle.await.unwrap();
        // Consumers may have stopped early; finish reading what they missed.
        let fetched = broker
            .fetch(
                "load",
                PartitionId(partition as i32),
                Offset(seen.len() as i64),
                FetchLimits {
                    max_bytes: 1 << 24,
                    max_records: usize::MAX,
                    ..quick(0)
                },
            )
            .await
            .unwrap();
        seen.extend(fetched.records.into_iter().map(|r| r.record.value.unwrap()));
        for (offset, value) in seen.iter().enumerate() {
            assert_eq!(
                acked[&(partition as i32, offset as i64)].as_bytes(),
                &value[..]
            );
        }
        consumed += seen.len();
    }
    assert_eq!(consumed, expected_total);
}
