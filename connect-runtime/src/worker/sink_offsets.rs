//! A sink connector's offsets as KIP-875 shows and changes them: the committed offsets of
//! its consumer group `connect-<name>`, each as partition `{"kafka_topic": t,
//! "kafka_partition": p}` and offset `{"kafka_offset": o}` (the next offset to consume).
//! Changing them needs the connector STOPPED, so the group has no members.

use sluice_broker::group::{GenerationId, OffsetCommit, TopicPartition};
use sluice_broker::{Broker, Offset, PartitionId};

use super::sink_settings::group_id;
use crate::error::{Error, Result};
use crate::stores::JsonMap;

const TOPIC: &str = "kafka_topic";
const PARTITION: &str = "kafka_partition";
const OFFSET: &str = "kafka_offset";

/// The connector's committed offsets.
pub fn committed(broker: &Broker, connector: &str) -> Vec<(JsonMap, JsonMap)> {
    broker
        .groups()
        .committed_offsets(&group_id(connector))
        .into_iter()
        .map(|(partition, committed)| {
            let mut key = JsonMap::new();
            key.insert(TOPIC.into(), partition.topic.into());
            key.insert(PARTITION.into(), partition.partition.0.into());
            let mut offset = JsonMap::new();
            offset.insert(OFFSET.into(), committed.offset.0.into());
            (key, offset)
        })
        .collect()
}

/// Commits the given offsets to the connector's group (KIP-875 `PATCH`). Removing one
/// partition's offset (`null`) is refused: the coordinator deletes offsets only for a whole
/// group, which [`reset`] does.
pub async fn alter(
    broker: &Broker,
    connector: &str,
    offsets: &[(JsonMap, Option<JsonMap>)],
) -> Result<()> {
    let mut commits = Vec::with_capacity(offsets.len());
    for (index, (partition, offset)) in offsets.iter().enumerate() {
        let partition = parse_partition(index, partition)?;
        let Some(offset) = offset else {
            return Err(bad(
                index,
                "offset",
                "null",
                "removing a single partition's offset of a sink is not supported; \
                 set an offset, or reset them all with DELETE /connectors/{name}/offsets",
            ));
        };
        commits.push(OffsetCommit::new(partition, parse_offset(index, offset)?));
    }
    let group = group_id(connector);
    broker
        .groups()
        .commit_offsets(&group, None, GenerationId::NONE, commits)
        .await
        .map_err(|source| Error::Group {
            context: format!("cannot commit offsets to the consumer group {group}"),
            source,
        })
}

/// Deletes every committed offset of the connector's group (KIP-875 `DELETE`); its tasks
/// then start from the earliest offsets.
pub async fn reset(broker: &Broker, connector: &str) -> Result<()> {
    let group = group_id(connector);
    match broker.groups().delete_group(&group).await {
        Ok(()) | Err(sluice_broker::Error::GroupNotFound { .. }) => Ok(()),
        Err(source) => Err(Error::Group {
            context: format!("cannot delete the offsets of the consumer group {group}"),
            source,
        }),
    }
}

fn bad(index: usize, part: &str, value: &str, reason: &str) -> Error {
    Error::InvalidConfig {
        key: format!("offsets[{index}].{part}"),
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

fn parse_partition(index: usize, map: &JsonMap) -> Result<TopicPartition> {
    let shown = serde_json::Value::Object(map.clone()).to_string();
    let expected =
        "a sink partition is {\"kafka_topic\": \"<topic>\", \"kafka_partition\": <number>}";
    let topic = map
        .get(TOPIC)
        .and_then(|t| t.as_str())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| bad(index, "partition", &shown, expected))?;
    let partition = map
        .get(PARTITION)
        .and_then(|p| p.as_i64())
        .and_then(|p| i32::try_from(p).ok())
        .filter(|p| *p >= 0)
        .ok_or_else(|| bad(index, "partition", &shown, expected))?;
    Ok(TopicPartition::new(topic, PartitionId(partition)))
}

fn parse_offset(index: usize, map: &JsonMap) -> Result<Offset> {
    map.get(OFFSET)
        .and_then(|o| o.as_i64())
        .filter(|o| *o >= 0)
        .map(Offset)
        .ok_or_else(|| {
            let shown = serde_json::Value::Object(map.clone()).to_string();
            bad(
                index,
                "offset",
                &shown,
                "a sink offset is {\"kafka_offset\": <next offset to consume, 0 or more>}",
            )
        })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map(value: serde_json::Value) -> JsonMap {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn partitions_and_offsets_are_read_in_kafka_connect_shape() {
        let partition = parse_partition(0, &map(json!({"kafka_topic": "t", "kafka_partition": 2})));
        assert_eq!(partition.unwrap(), TopicPartition::new("t", PartitionId(2)));
        assert_eq!(
            parse_offset(0, &map(json!({"kafka_offset": 7}))).unwrap(),
            Offset(7)
        );
    }

    #[test]
    fn malformed_entries_name_the_entry_and_the_expected_shape() {
        let error = parse_partition(3, &map(json!({"topic": "t"}))).unwrap_err();
        assert!(
            matches!(&error, Error::InvalidConfig { key, .. } if key == "offsets[3].partition")
        );
        assert!(error.to_string().contains("kafka_partition"), "{error}");
        let negative = parse_offset(1, &map(json!({"kafka_offset": -1}))).unwrap_err();
        assert!(negative.to_string().contains("kafka_offset"), "{negative}");
    }
}
