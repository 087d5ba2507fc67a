//! Kafka's consumer embedded protocol: the subscription a consumer sends as its JoinGroup
//! metadata and the assignment the leader hands out through SyncGroup (both prefixed by an
//! int16 version). In-process members speak it too, so a group can mix them with Kafka
//! clients and a Kafka leader can assign partitions to in-process members.

use super::TopicPartition;
use super::wire::{WireReader, WireWriter};
use crate::error::Result;
use crate::types::PartitionId;

/// The protocol type consumers join with.
pub const CONSUMER_PROTOCOL_TYPE: &str = "consumer";
/// The assignor name of Kafka's RangeAssignor, which in-process members ask for.
pub const RANGE_ASSIGNOR: &str = "range";

/// We write version 0; readers of newer versions parse the fields they know, as Kafka does.
const WRITE_VERSION: i16 = 0;

/// What a consumer subscribes to (ConsumerProtocolSubscription).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConsumerSubscription {
    pub topics: Vec<String>,
    pub user_data: Option<Vec<u8>>,
}

impl ConsumerSubscription {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = WireWriter::new();
        w.i16(WRITE_VERSION).array_len(self.topics.len());
        for topic in &self.topics {
            w.string(topic);
        }
        w.nullable_bytes(self.user_data.as_deref());
        w.into_bytes()
    }

    /// Decodes any version; fields added after version 0 (owned partitions, generation,
    /// rack) are not needed by the range assignor and are skipped.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = WireReader::new(bytes, "ConsumerProtocolSubscription");
        let version = r.i16()?;
        if version < 0 {
            return Err(r.malformed(format!("version {version} is negative")));
        }
        let count = r.array_len(2)?;
        let mut topics = Vec::with_capacity(count);
        for _ in 0..count {
            topics.push(r.string()?);
        }
        // Version 0 ends with user data; a truncated v0 from an old client has none.
        let user_data = if r.is_at_end() {
            None
        } else {
            r.nullable_bytes()?
        };
        Ok(Self { topics, user_data })
    }
}

/// The partitions handed to one consumer (ConsumerProtocolAssignment).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConsumerAssignment {
    /// Partitions, in the order they were assigned.
    pub partitions: Vec<TopicPartition>,
    pub user_data: Option<Vec<u8>>,
}

impl ConsumerAssignment {
    /// Encodes version 0; partitions of one topic are grouped under it in first-seen order.
    pub fn encode(&self) -> Vec<u8> {
        let mut topics: Vec<(&str, Vec<PartitionId>)> = Vec::new();
        for tp in &self.partitions {
            match topics.iter_mut().find(|(topic, _)| *topic == tp.topic) {
                Some((_, partitions)) => partitions.push(tp.partition),
                None => topics.push((&tp.topic, vec![tp.partition])),
            }
        }
        let mut w = WireWriter::new();
        w.i16(WRITE_VERSION).array_len(topics.len());
        for (topic, partitions) in topics {
            w.string(topic).array_len(partitions.len());
            for p in partitions {
                w.i32(p.0);
            }
        }
        w.nullable_bytes(self.user_data.as_deref());
        w.into_bytes()
    }

    /// Decodes any version; an empty byte string (what Kafka sends a member the leader left
    /// out) decodes as no partitions.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        if bytes.is_empty() {
            return Ok(Self::default());
        }
        let mut r = WireReader::new(bytes, "ConsumerProtocolAssignment");
        let version = r.i16()?;
        if version < 0 {
            return Err(r.malformed(format!("version {version} is negative")));
        }
        let topic_count = r.array_len(2 + 4)?;
        let mut partitions = Vec::new();
        for _ in 0..topic_count {
            let topic = r.string()?;
            let count = r.array_len(4)?;
            for _ in 0..count {
                partitions.push(TopicPartition::new(topic.clone(), PartitionId(r.i32()?)));
            }
        }
        let user_data = if r.is_at_end() {
            None
        } else {
            r.nullable_bytes()?
        };
        Ok(Self {
            partitions,
            user_data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn subscription_v0_layout_matches_kafka() {
        let sub = ConsumerSubscription {
            topics: vec!["a".into()],
            user_data: None,
        };
        assert_eq!(
            sub.encode(),
            vec![0, 0, 0, 0, 0, 1, 0, 1, b'a', 0xff, 0xff, 0xff, 0xff]
        );
    }

    #[test]
    fn reads_subscription_v1_with_owned_partitions() {
        let mut w = WireWriter::new();
        w.i16(1).array_len(1).string("orders").nullable_bytes(None);
        w.array_len(1).string("orders").array_len(1).i32(0);
        let sub = ConsumerSubscription::decode(&w.into_bytes()).unwrap();
        assert_eq!(sub.topics, vec!["orders".to_string()]);
    }

    #[test]
    fn empty_assignment_bytes_mean_no_partitions() {
        assert!(
            ConsumerAssignment::decode(&[])
                .unwrap()
                .partitions
                .is_empty()
        );
    }

    #[test]
    fn assignment_groups_partitions_by_topic() {
        let asg = ConsumerAssignment {
            partitions: vec![
                TopicPartition::new("a", PartitionId(0)),
                TopicPartition::new("b", PartitionId(1)),
                TopicPartition::new("a", PartitionId(2)),
            ],
            user_data: None,
        };
        let decoded = ConsumerAssignment::decode(&asg.encode()).unwrap();
        assert_eq!(
            decoded.partitions,
            vec![
                TopicPartition::new("a", PartitionId(0)),
                TopicPartition::new("a", PartitionId(2)),
                TopicPartition::new("b", PartitionId(1)),
            ]
        );
    }

    proptest! {
        #[test]
        fn subscription_round_trips(topics in proptest::collection::vec("[a-z0-9._-]{1,12}", 0..6),
                                    user_data in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..8))) {
            let sub = ConsumerSubscription { topics, user_data };
            prop_assert_eq!(ConsumerSubscription::decode(&sub.encode()).unwrap(), sub);
        }

        #[test]
        fn assignment_round_trips_when_grouped(topics in proptest::collection::btree_map("[a-z]{1,8}", proptest::collection::vec(any::<i32>(), 1..5), 0..4)) {
            let partitions: Vec<TopicPartition> = topics
                .iter()
                .flat_map(|(t, ps)| ps.iter().map(move |p| TopicPartition::new(t.clone(), PartitionId(*p))))
                .collect();
            let asg = ConsumerAssignment { partitions, user_data: Some(vec![1, 2]) };
            prop_assert_eq!(ConsumerAssignment::decode(&asg.encode()).unwrap(), asg);
        }
    }
}
