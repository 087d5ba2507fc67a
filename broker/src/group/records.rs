//! The key/value records of the compacted `__consumer_offsets` topic, byte-compatible with
//! Kafka's: an offset commit is keyed by (group, topic, partition) and a group's metadata by
//! its id; a null value (tombstone) deletes the key.
//!
//! Keys start with an int16 record type (0 and 1: offset commit, 2: group metadata). Values
//! start with an int16 version; we write offset commits as version 3 and group metadata as
//! version 3, and read versions 0 to 3 of both.

use super::wire::{WireReader, WireWriter};
use super::{GenerationId, MemberId, TopicPartition};
use crate::error::Result;
use crate::types::PartitionId;

/// Name of the internal topic that holds these records.
pub const CONSUMER_OFFSETS_TOPIC: &str = "__consumer_offsets";

const OFFSET_COMMIT_KEY_TYPE: i16 = 1;
const LEGACY_OFFSET_COMMIT_KEY_TYPE: i16 = 0;
const GROUP_METADATA_KEY_TYPE: i16 = 2;
const OFFSET_COMMIT_VALUE_VERSION: i16 = 3;
const GROUP_METADATA_VALUE_VERSION: i16 = 3;

/// The key of a `__consumer_offsets` record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupRecordKey {
    /// The committed offset of one partition for one group.
    OffsetCommit {
        group: String,
        partition: TopicPartition,
    },
    /// The membership snapshot of one group.
    GroupMetadata { group: String },
}

impl GroupRecordKey {
    /// The group the record belongs to.
    pub fn group(&self) -> &str {
        match self {
            Self::OffsetCommit { group, .. } | Self::GroupMetadata { group } => group,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = WireWriter::new();
        match self {
            Self::OffsetCommit { group, partition } => {
                w.i16(OFFSET_COMMIT_KEY_TYPE)
                    .string(group)
                    .string(&partition.topic)
                    .i32(partition.partition.0);
            }
            Self::GroupMetadata { group } => {
                w.i16(GROUP_METADATA_KEY_TYPE).string(group);
            }
        }
        w.into_bytes()
    }

    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = WireReader::new(bytes, "__consumer_offsets key");
        let key = match r.i16()? {
            OFFSET_COMMIT_KEY_TYPE | LEGACY_OFFSET_COMMIT_KEY_TYPE => Self::OffsetCommit {
                group: r.string()?,
                partition: TopicPartition::new(r.string()?, PartitionId(r.i32()?)),
            },
            GROUP_METADATA_KEY_TYPE => Self::GroupMetadata { group: r.string()? },
            other => {
                return Err(r.malformed(format!(
                    "record type {other} is not an offset commit (0, 1) or group metadata (2); \
                     records of newer Kafka group protocols are not supported"
                )));
            }
        };
        if !r.is_at_end() {
            return Err(r.malformed("trailing bytes after the key"));
        }
        Ok(key)
    }
}

/// A committed offset as stored (OffsetCommitValue).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetCommitValue {
    /// The next offset the group will consume from the partition.
    pub offset: i64,
    /// Leader epoch of the committed record, -1 when unknown.
    pub leader_epoch: i32,
    /// Free text the committer attached.
    pub metadata: String,
    /// Commit time, milliseconds since the Unix epoch.
    pub commit_timestamp_ms: i64,
}

impl OffsetCommitValue {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = WireWriter::new();
        w.i16(OFFSET_COMMIT_VALUE_VERSION)
            .i64(self.offset)
            .i32(self.leader_epoch)
            .string(&self.metadata)
            .i64(self.commit_timestamp_ms);
        w.into_bytes()
    }

    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = WireReader::new(bytes, "OffsetCommitValue");
        let version = r.i16()?;
        if !(0..=3).contains(&version) {
            return Err(r.malformed(format!("version {version} is not one of 0 to 3")));
        }
        let offset = r.i64()?;
        let leader_epoch = if version >= 3 { r.i32()? } else { -1 };
        let metadata = r.string()?;
        let commit_timestamp_ms = r.i64()?;
        if version == 1 {
            let _expire_timestamp = r.i64()?;
        }
        Ok(Self {
            offset,
            leader_epoch,
            metadata,
            commit_timestamp_ms,
        })
    }
}

/// One member inside a [`GroupMetadataValue`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberMetadataRecord {
    pub member_id: MemberId,
    pub group_instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub rebalance_timeout_ms: i32,
    pub session_timeout_ms: i32,
    /// The member's metadata for the group's selected protocol.
    pub subscription: Vec<u8>,
    /// The member's assignment in the current generation.
    pub assignment: Vec<u8>,
}

/// A group's membership snapshot (GroupMetadataValue).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMetadataValue {
    pub protocol_type: String,
    pub generation: GenerationId,
    pub protocol: Option<String>,
    pub leader: Option<MemberId>,
    /// When the group entered its current state, milliseconds since the Unix epoch.
    pub current_state_timestamp_ms: i64,
    pub members: Vec<MemberMetadataRecord>,
}

impl GroupMetadataValue {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = WireWriter::new();
        w.i16(GROUP_METADATA_VALUE_VERSION)
            .string(&self.protocol_type)
            .i32(self.generation.0)
            .nullable_string(self.protocol.as_deref())
            .nullable_string(self.leader.as_ref().map(MemberId::as_str))
            .i64(self.current_state_timestamp_ms)
            .array_len(self.members.len());
        for m in &self.members {
            w.string(m.member_id.as_str())
                .nullable_string(m.group_instance_id.as_deref())
                .string(&m.client_id)
                .string(&m.client_host)
                .i32(m.rebalance_timeout_ms)
                .i32(m.session_timeout_ms)
                .bytes(&m.subscription)
                .bytes(&m.assignment);
        }
        w.into_bytes()
    }

    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = WireReader::new(bytes, "GroupMetadataValue");
        let version = r.i16()?;
        if !(0..=3).contains(&version) {
            return Err(r.malformed(format!("version {version} is not one of 0 to 3")));
        }
        let protocol_type = r.string()?;
        let generation = GenerationId(r.i32()?);
        let protocol = r.nullable_string()?;
        let leader = r.nullable_string()?.map(MemberId::from);
        let current_state_timestamp_ms = if version >= 2 { r.i64()? } else { -1 };
        // The smallest member: four empty strings-ish fields plus timeouts and two byte arrays.
        let count = r.array_len(2 + 2 + 2 + 4 + 4 + 4)?;
        let mut members = Vec::with_capacity(count);
        for _ in 0..count {
            let member_id = MemberId::from(r.string()?);
            let group_instance_id = if version >= 3 {
                r.nullable_string()?
            } else {
                None
            };
            let client_id = r.string()?;
            let client_host = r.string()?;
            let session_first = version == 0;
            let (rebalance_timeout_ms, session_timeout_ms) = if session_first {
                let session = r.i32()?;
                (session, session)
            } else {
                (r.i32()?, r.i32()?)
            };
            members.push(MemberMetadataRecord {
                member_id,
                group_instance_id,
                client_id,
                client_host,
                rebalance_timeout_ms,
                session_timeout_ms,
                subscription: r.bytes()?,
                assignment: r.bytes()?,
            });
        }
        Ok(Self {
            protocol_type,
            generation,
            protocol,
            leader,
            current_state_timestamp_ms,
            members,
        })
    }
}

/// A decoded `__consumer_offsets` record; `None` values are tombstones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupRecord {
    OffsetCommit {
        group: String,
        partition: TopicPartition,
        value: Option<OffsetCommitValue>,
    },
    GroupMetadata {
        group: String,
        value: Option<GroupMetadataValue>,
    },
}

impl GroupRecord {
    /// Decodes a raw key/value pair as stored in the topic.
    pub fn decode(key: &[u8], value: Option<&[u8]>) -> Result<Self> {
        Ok(match GroupRecordKey::decode(key)? {
            GroupRecordKey::OffsetCommit { group, partition } => Self::OffsetCommit {
                group,
                partition,
                value: value.map(OffsetCommitValue::decode).transpose()?,
            },
            GroupRecordKey::GroupMetadata { group } => Self::GroupMetadata {
                group,
                value: value.map(GroupMetadataValue::decode).transpose()?,
            },
        })
    }

    /// Encodes to the raw key/value pair stored in the topic.
    pub fn encode(&self) -> (Vec<u8>, Option<Vec<u8>>) {
        match self {
            Self::OffsetCommit {
                group,
                partition,
                value,
            } => (
                GroupRecordKey::OffsetCommit {
                    group: group.clone(),
                    partition: partition.clone(),
                }
                .encode(),
                value.as_ref().map(OffsetCommitValue::encode),
            ),
            Self::GroupMetadata { group, value } => (
                GroupRecordKey::GroupMetadata {
                    group: group.clone(),
                }
                .encode(),
                value.as_ref().map(GroupMetadataValue::encode),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use proptest::prelude::*;

    #[test]
    fn offset_commit_key_layout_matches_kafka() {
        let key = GroupRecordKey::OffsetCommit {
            group: "g".into(),
            partition: TopicPartition::new("t", PartitionId(7)),
        };
        // type 1, "g", "t", partition 7 — all big-endian.
        assert_eq!(key.encode(), vec![0, 1, 0, 1, b'g', 0, 1, b't', 0, 0, 0, 7]);
    }

    #[test]
    fn offset_commit_value_v3_layout_matches_kafka() {
        let value = OffsetCommitValue {
            offset: 5,
            leader_epoch: -1,
            metadata: "m".into(),
            commit_timestamp_ms: 9,
        };
        let mut expected = vec![0, 3];
        expected.extend_from_slice(&5i64.to_be_bytes());
        expected.extend_from_slice(&(-1i32).to_be_bytes());
        expected.extend_from_slice(&[0, 1, b'm']);
        expected.extend_from_slice(&9i64.to_be_bytes());
        assert_eq!(value.encode(), expected);
    }

    #[test]
    fn reads_offset_commit_value_v1_with_expire_timestamp() {
        let mut bytes = vec![0, 1];
        bytes.extend_from_slice(&42i64.to_be_bytes());
        bytes.extend_from_slice(&[0, 0]);
        bytes.extend_from_slice(&1000i64.to_be_bytes());
        bytes.extend_from_slice(&2000i64.to_be_bytes());
        let value = OffsetCommitValue::decode(&bytes).unwrap();
        assert_eq!(value.offset, 42);
        assert_eq!(value.leader_epoch, -1);
        assert_eq!(value.commit_timestamp_ms, 1000);
    }

    #[test]
    fn unknown_key_type_is_a_clear_error() {
        let err = GroupRecordKey::decode(&[0, 9, 0, 0]).unwrap_err();
        assert!(err.to_string().contains("record type 9"), "{err}");
    }

    #[test]
    fn truncated_value_is_a_clear_error() {
        let err = OffsetCommitValue::decode(&[0, 3, 0, 0]).unwrap_err();
        assert!(matches!(err, Error::MalformedGroupData { .. }));
        assert!(err.to_string().contains("OffsetCommitValue"), "{err}");
    }

    #[test]
    fn huge_member_count_is_rejected_without_allocating() {
        let mut w = WireWriter::new();
        w.i16(3)
            .string("consumer")
            .i32(1)
            .nullable_string(None)
            .nullable_string(None)
            .i64(0)
            .i32(i32::MAX);
        let err = GroupMetadataValue::decode(&w.into_bytes()).unwrap_err();
        assert!(err.to_string().contains("array claims"), "{err}");
    }

    fn text() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9._\\-é]{0,20}"
    }

    fn member() -> impl Strategy<Value = MemberMetadataRecord> {
        (
            text(),
            proptest::option::of(text()),
            text(),
            text(),
            any::<i32>(),
            any::<i32>(),
            proptest::collection::vec(any::<u8>(), 0..16),
            proptest::collection::vec(any::<u8>(), 0..16),
        )
            .prop_map(|(id, instance, client, host, rt, st, sub, asg)| {
                MemberMetadataRecord {
                    member_id: MemberId::from(id),
                    group_instance_id: instance,
                    client_id: client,
                    client_host: host,
                    rebalance_timeout_ms: rt,
                    session_timeout_ms: st,
                    subscription: sub,
                    assignment: asg,
                }
            })
    }

    fn record() -> impl Strategy<Value = GroupRecord> {
        let offset = (
            text(),
            text(),
            any::<i32>(),
            proptest::option::of((any::<i64>(), any::<i32>(), text(), any::<i64>())),
        )
            .prop_map(
                |(group, topic, partition, value)| GroupRecord::OffsetCommit {
                    group,
                    partition: TopicPartition::new(topic, PartitionId(partition)),
                    value: value.map(|(offset, leader_epoch, metadata, ts)| OffsetCommitValue {
                        offset,
                        leader_epoch,
                        metadata,
                        commit_timestamp_ms: ts,
                    }),
                },
            );
        let metadata = (
            text(),
            proptest::option::of((
                text(),
                any::<i32>(),
                proptest::option::of(text()),
                proptest::option::of(text()),
                any::<i64>(),
                proptest::collection::vec(member(), 0..4),
            )),
        )
            .prop_map(|(group, value)| GroupRecord::GroupMetadata {
                group,
                value: value.map(|(pt, generation, protocol, leader, ts, members)| {
                    GroupMetadataValue {
                        protocol_type: pt,
                        generation: GenerationId(generation),
                        protocol,
                        leader: leader.map(MemberId::from),
                        current_state_timestamp_ms: ts,
                        members,
                    }
                }),
            });
        prop_oneof![offset, metadata]
    }

    proptest! {
        #[test]
        fn records_round_trip(record in record()) {
            let (key, value) = record.encode();
            let decoded = GroupRecord::decode(&key, value.as_deref()).unwrap();
            prop_assert_eq!(decoded, record);
        }

        #[test]
        fn decoding_garbage_never_panics(key in proptest::collection::vec(any::<u8>(), 0..64),
                                         value in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = GroupRecord::decode(&key, Some(&value));
        }
    }
}
