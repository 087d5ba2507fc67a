//! The consumer-group coordinator wired to the broker: assignments over real topics,
//! committed offsets stored in the compacted `__consumer_offsets` topic and replayed after a
//! reopen, and lag against real high watermarks.

use std::time::Duration;

use bytes::Bytes;
use sluice_broker::group::{CONSUMER_OFFSETS_TOPIC, ConsumerJoin, OffsetCommit, TopicPartition};
use sluice_broker::{
    Broker, BrokerConfig, CleanupPolicy, Offset, PartitionChoice, PartitionId, Record, TopicConfig,
};

#[tokio::test]
async fn committed_offsets_live_in_consumer_offsets_and_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::open(dir.path(), BrokerConfig::default())
        .await
        .unwrap();
    let internal = broker.describe_topic(CONSUMER_OFFSETS_TOPIC).unwrap();
    assert_eq!(internal.config.cleanup_policy, CleanupPolicy::Compact);
    assert!(
        !broker
            .list_topics()
            .contains(&CONSUMER_OFFSETS_TOPIC.to_string()),
        "internal topics are hidden"
    );
    assert!(broker.delete_topic(CONSUMER_OFFSETS_TOPIC).await.is_err());

    broker
        .create_topic(
            "orders",
            TopicConfig {
                partitions: 3,
                ..TopicConfig::default()
            },
        )
        .await
        .unwrap();
    for _ in 0..10 {
        broker
            .produce(
                "orders",
                PartitionChoice::Explicit(PartitionId(0)),
                vec![Record::new(None, Some(Bytes::from_static(b"o")))],
            )
            .await
            .unwrap();
    }
    let join = ConsumerJoin {
        session_timeout: Duration::from_secs(10),
        ..ConsumerJoin::new("billing", "worker-1", vec!["orders".into()])
    };
    let assignment =
        tokio::time::timeout(Duration::from_secs(30), broker.groups().join_consumer(join))
            .await
            .expect("a lone member's join completes")
            .unwrap();
    assert_eq!(assignment.partitions.len(), 3, "{assignment:?}");

    let p0 = TopicPartition::new("orders", PartitionId(0));
    broker
        .groups()
        .commit_offsets(
            "billing",
            Some(&assignment.member_id),
            assignment.generation,
            vec![OffsetCommit::new(p0.clone(), Offset(4))],
        )
        .await
        .unwrap();
    let lag = broker.groups().lag("billing", &broker).unwrap();
    let p0_lag = lag.iter().find(|l| l.partition == p0).unwrap();
    assert_eq!((p0_lag.log_end, p0_lag.lag), (Some(Offset(10)), Some(6)));
    let stored = broker
        .describe_topic(CONSUMER_OFFSETS_TOPIC)
        .unwrap()
        .partitions[0]
        .high_watermark;
    assert!(
        stored > Offset(0),
        "the commit was written to {CONSUMER_OFFSETS_TOPIC}"
    );
    drop(broker);

    let reopened = Broker::open(dir.path(), BrokerConfig::default())
        .await
        .unwrap();
    let committed = reopened
        .groups()
        .committed_offset("billing", &p0)
        .expect("replayed from the log");
    assert_eq!(committed.offset, Offset(4));
}
