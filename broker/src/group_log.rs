//! Backs the consumer-group coordinator ([`crate::group`]) with the broker's own storage: its
//! records live in the compacted internal topic `__consumer_offsets` (one partition, so every
//! key keeps its append order), and topic metadata and log end offsets come from the live
//! topic map.

use std::sync::{Arc, Weak};
use std::time::Duration;

use bytes::Bytes;

use crate::broker::{Broker, BrokerInner};
use crate::codec::batch::decode_records;
use crate::error::{Error, Result};
use crate::group::{
    CONSUMER_OFFSETS_TOPIC, GroupConfig, GroupCoordinator, GroupLog, GroupLogRecord, LogEndOffsets,
    SystemClock, TopicMetadata, TopicPartition,
};
use crate::log::PartitionLog;
use crate::topic::{CleanupPolicy, TopicConfig};
use crate::types::{Offset, PartitionId, Record, now_ms};

/// How often expired group members are removed.
const GROUP_EXPIRY_INTERVAL: Duration = Duration::from_secs(1);

/// The config of `__consumer_offsets`: compacted, one partition, small segments so compaction
/// has sealed segments to work on.
pub fn consumer_offsets_config() -> TopicConfig {
    TopicConfig {
        partitions: 1,
        cleanup_policy: CleanupPolicy::Compact,
        segment_bytes: 16 << 20,
        ..TopicConfig::default()
    }
}

/// [`GroupLog`] on partition 0 of `__consumer_offsets`.
#[derive(Debug)]
pub struct ConsumerOffsetsLog {
    log: Arc<PartitionLog>,
}

impl GroupLog for ConsumerOffsetsLog {
    fn append(&self, records: Vec<GroupLogRecord>) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let timestamp_ms = now_ms();
        let records: Vec<Record> = records
            .into_iter()
            .map(|r| Record {
                key: Some(Bytes::from(r.key)),
                value: r.value.map(Bytes::from),
                headers: Vec::new(),
                timestamp_ms,
            })
            .collect();
        self.log.append(&records).map(drop)
    }

    fn replay(&self) -> Result<Vec<GroupLogRecord>> {
        let mut out = Vec::new();
        let mut offset = self.log.log_start_offset();
        let end = self.log.high_watermark();
        while offset < end {
            let read = self.log.read(offset, 4 << 20)?;
            for batch in read.batches {
                let records = decode_records(&batch.bytes).map_err(|source| Error::Corrupt {
                    path: self.log.name().into(),
                    position: batch.position,
                    source,
                })?;
                out.extend(records.into_iter().filter(|r| r.offset >= offset).map(|r| {
                    GroupLogRecord {
                        key: r.record.key.map(|k| k.to_vec()).unwrap_or_default(),
                        value: r.record.value.map(|v| v.to_vec()),
                    }
                }));
                offset = batch.header.last_offset().plus(1);
            }
        }
        Ok(out)
    }
}

/// [`TopicMetadata`] from the broker's topic map (weak, so the coordinator does not keep the
/// broker alive).
#[derive(Debug)]
struct LiveTopics {
    broker: Weak<BrokerInner>,
}

impl TopicMetadata for LiveTopics {
    fn partition_count(&self, topic: &str) -> Option<i32> {
        let inner = self.broker.upgrade()?;
        let topics = inner.topics.read();
        topics.get(topic).map(|t| t.partition_count() as i32)
    }
}

impl LogEndOffsets for Broker {
    fn log_end_offset(&self, partition: &TopicPartition) -> Option<Offset> {
        self.partition_log(&partition.topic, partition.partition)
            .ok()
            .map(|log| log.high_watermark())
    }
}

/// Creates `__consumer_offsets` if needed and opens the coordinator over it (replaying it).
/// Blocking.
pub(crate) fn open_coordinator(broker: &Broker) -> Result<GroupCoordinator> {
    let topic = match broker.topic(CONSUMER_OFFSETS_TOPIC) {
        Ok(topic) => topic,
        Err(Error::UnknownTopic(_)) => {
            broker.create_topic_blocking(CONSUMER_OFFSETS_TOPIC, consumer_offsets_config())?
        }
        Err(e) => return Err(e),
    };
    let log = Arc::new(ConsumerOffsetsLog {
        log: topic.partition(PartitionId(0))?,
    });
    let topics = Arc::new(LiveTopics {
        broker: Arc::downgrade(&broker.inner),
    });
    GroupCoordinator::open(
        log,
        topics,
        Arc::new(SystemClock::new()),
        GroupConfig::default(),
    )
}

/// Starts the coordinator's session-expiry task (it stops when the coordinator is dropped).
pub(crate) fn spawn_group_expiry(coordinator: &GroupCoordinator) {
    if tokio::runtime::Handle::try_current().is_ok() {
        drop(coordinator.spawn_expiry_task(GROUP_EXPIRY_INTERVAL));
    }
}
