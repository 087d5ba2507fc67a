//! What a source task's context offers for a topic the task keeps as its own log (a
//! database source's schema history): reading one partition back, decoded by the task's
//! converters, and making sure such a topic exists and is never cleaned.

use std::time::Duration;

use sluice_broker::{Broker, CleanupPolicy, FetchLimits, Offset, PartitionId, TopicConfig};

use crate::api::{POSITION_HEADER, SourcePosition, TopicRecord};
use crate::converter::RecordConverters;
use crate::error::{Error, Result};

/// Bytes fetched per read while scanning a partition.
const READ_CHUNK_BYTES: usize = 4 * 1024 * 1024;

/// Every record of `topic`/`partition` from `from` (or the log start, when later) up to the
/// high watermark as it was when the read began; `None` when the topic does not exist.
pub async fn read_partition(
    broker: &Broker,
    converters: &RecordConverters,
    topic: &str,
    partition: i32,
    from: i64,
) -> Result<Option<Vec<TopicRecord>>> {
    let read_error = |source| Error::Store {
        context: format!("cannot read {topic}-{partition}"),
        source,
    };
    let description = match broker.describe_topic(topic) {
        Ok(description) => description,
        Err(sluice_broker::Error::UnknownTopic(_)) => return Ok(None),
        Err(source) => return Err(read_error(source)),
    };
    if description.partitions.len() <= partition.max(0) as usize || partition < 0 {
        // Let the broker name the missing partition and the topic's partition count.
        broker
            .partition_log(topic, PartitionId(partition))
            .map_err(read_error)?;
    }
    let state = description.partitions[partition as usize];
    let end = state.high_watermark;
    let mut offset = Offset(from.max(state.log_start_offset.0));
    let mut out = Vec::new();
    while offset < end {
        let limits = FetchLimits {
            max_bytes: READ_CHUNK_BYTES,
            max_records: usize::MAX,
            max_wait: Duration::ZERO,
        };
        let fetched = broker
            .fetch(topic, PartitionId(partition), offset, limits)
            .await
            .map_err(read_error)?;
        for fetched_record in fetched.records {
            if fetched_record.offset >= end {
                break;
            }
            let record = fetched_record.record;
            let key = converters.key.decode(topic, record.key.as_deref()).await?;
            let value = converters
                .value
                .decode(topic, record.value.as_deref())
                .await?;
            let position = record
                .headers
                .iter()
                .rev()
                .find(|h| h.key == POSITION_HEADER)
                .and_then(|h| h.value.as_ref())
                .map(SourcePosition::from_bytes);
            out.push(TopicRecord {
                offset: fetched_record.offset.0,
                key,
                value,
                position,
                timestamp_ms: record.timestamp_ms,
            });
        }
        if fetched.next_offset <= offset {
            break;
        }
        offset = fetched.next_offset;
    }
    Ok(Some(out))
}

/// The config of a history topic: one partition, deleted by nothing.
pub fn history_topic_config() -> TopicConfig {
    TopicConfig {
        partitions: 1,
        cleanup_policy: CleanupPolicy::Delete,
        retention_ms: -1,
        retention_bytes: -1,
        ..TopicConfig::default()
    }
}

/// Creates `topic` with [`history_topic_config`] when missing; checks an existing one.
pub async fn ensure_history_topic(broker: &Broker, topic: &str) -> Result<()> {
    let store_error = |source| Error::Store {
        context: format!("cannot create the history topic {topic}"),
        source,
    };
    match broker.create_topic(topic, history_topic_config()).await {
        Ok(()) | Err(sluice_broker::Error::TopicExists(_)) => {}
        Err(source) => return Err(store_error(source)),
    }
    let config = broker.describe_topic(topic).map_err(store_error)?.config;
    let refuse = |key: &str, value: String, reason: &str| {
        Err(Error::InvalidConfig {
            key: format!("{key} of topic {topic}"),
            value,
            reason: format!(
                "a history topic must keep every record in one partition: {reason}; \
                 delete the topic and let the connector recreate it (and rebuild the history)"
            ),
        })
    };
    if config.partitions != 1 {
        return refuse(
            "partitions",
            config.partitions.to_string(),
            "it must have exactly 1",
        );
    }
    if config.cleanup_policy.compacts() {
        return refuse(
            "cleanup.policy",
            format!("{:?}", config.cleanup_policy),
            "compaction would drop all but the newest record per key",
        );
    }
    if config.retention_ms >= 0 {
        return refuse(
            "retention.ms",
            config.retention_ms.to_string(),
            "it must be -1 (unlimited)",
        );
    }
    if config.retention_bytes >= 0 {
        return refuse(
            "retention.bytes",
            config.retention_bytes.to_string(),
            "it must be -1 (unlimited)",
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {

    use bytes::Bytes;
    use sluice_broker::{BrokerConfig, PartitionChoice};
    use sluice_schemas::Value;
    use sluice_schemas::schema::STRING_SCHEMA;

    use super::*;
    use crate::api::{OffsetMap, SchemaAndValue, SourceRecord};
    use crate::worker::pipeline::SourcePipeline;
    use crate::worker::pipeline::tests::pipeline;

    /// Writes `texts` to `topic` exactly as a source task's records are stored.
    async fn write(broker: &Broker, pipeline: &SourcePipeline, topic: &str, texts: &[&str]) {
        let mut records = Vec::new();
        for (i, text) in texts.iter().enumerate() {
            let record = SourceRecord::new(
                OffsetMap::new(),
                OffsetMap::new(),
                topic,
                SchemaAndValue::null(),
                SchemaAndValue::with_schema(STRING_SCHEMA.clone(), text.to_string()),
            )
            .with_position(SourcePosition::from_parts(&[7, i as u64]));
            records.push(record);
        }
        let task = Bytes::from_static(b"t-0@0");
        let stored = pipeline
            .prepare_batch(records, &task, |error| panic!("{error}"))
            .await
            .unwrap()
            .into_iter()
            .map(|(prepared, _)| prepared.record)
            .collect();
        broker
            .produce(topic, PartitionChoice::Explicit(PartitionId(0)), stored)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn records_read_back_decoded_with_their_positions_up_to_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let broker = Broker::open(dir.path(), BrokerConfig::default())
            .await
            .unwrap();
        for settings in [
            vec![],
            vec![("value.converter.schemas.enable", "false")],
            vec![("value.converter", "string")],
        ] {
            let topic = format!(
                "history-{}",
                settings.len() + settings.iter().map(|s| s.1.len()).sum::<usize>()
            );
            let pipeline = pipeline(&settings);
            let converters = pipeline.converters();
            assert_eq!(
                read_partition(&broker, converters, &topic, 0, 0)
                    .await
                    .unwrap(),
                None,
                "a missing topic reads as None"
            );
            ensure_history_topic(&broker, &topic).await.unwrap();
            assert_eq!(
                read_partition(&broker, converters, &topic, 0, 0)
                    .await
                    .unwrap(),
                Some(Vec::new())
            );
            write(
                &broker,
                &pipeline,
                &topic,
                &["{\"a\":1}", "second", "third"],
            )
            .await;
            let all = read_partition(&broker, converters, &topic, 0, 0)
                .await
                .unwrap()
                .unwrap();
            let texts: Vec<_> = all.iter().map(|r| r.value.value.clone()).collect();
            assert_eq!(
                texts,
                [
                    Value::String("{\"a\":1}".into()),
                    Value::String("second".into()),
                    Value::String("third".into())
                ],
                "{settings:?}"
            );
            assert_eq!(all[2].offset, 2);
            assert_eq!(all[1].position, Some(SourcePosition::from_parts(&[7, 1])));
            assert!(all[0].key.value.is_null());
            let tail = read_partition(&broker, converters, &topic, 0, 2)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(tail.len(), 1);
            assert_eq!(tail[0].offset, 2);
            let missing = read_partition(&broker, converters, &topic, 3, 0).await;
            assert!(missing.unwrap_err().to_string().contains("partition"));
        }
    }

    #[tokio::test]
    async fn history_topics_are_created_unbounded_and_cleaned_ones_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let broker = Broker::open(dir.path(), BrokerConfig::default())
            .await
            .unwrap();
        ensure_history_topic(&broker, "h").await.unwrap();
        let config = broker.describe_topic("h").unwrap().config;
        assert_eq!(config, history_topic_config());
        assert_eq!(config.partitions, 1);
        assert_eq!((config.retention_ms, config.retention_bytes), (-1, -1));
        assert!(!config.cleanup_policy.compacts());
        // Existing and right: accepted again.
        ensure_history_topic(&broker, "h").await.unwrap();

        let cases = [
            (
                "three",
                TopicConfig {
                    partitions: 3,
                    ..history_topic_config()
                },
                "partitions",
            ),
            (
                "compacted",
                TopicConfig {
                    cleanup_policy: CleanupPolicy::Compact,
                    ..history_topic_config()
                },
                "cleanup.policy",
            ),
            ("week", TopicConfig::default(), "retention.ms"),
            (
                "sized",
                TopicConfig {
                    retention_bytes: 1 << 20,
                    ..history_topic_config()
                },
                "retention.bytes",
            ),
        ];
        for (name, config, key) in cases {
            broker.create_topic(name, config).await.unwrap();
            let error = ensure_history_topic(&broker, name)
                .await
                .unwrap_err()
                .to_string();
            assert!(
                error.contains(key) && error.contains(name) && error.contains("delete the topic"),
                "{error}"
            );
        }
    }
}
