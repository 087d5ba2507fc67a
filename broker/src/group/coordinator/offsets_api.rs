//! The offsets half of [`GroupCoordinator`]'s API: OffsetCommit (validated against the
//! member's generation, durable before it returns), OffsetFetch, lag and DeleteGroups.

use std::collections::BTreeMap;

use super::persist::Effect;
use super::{GroupCoordinator, group_not_found};
use crate::error::{Error, Result};
use crate::group::api::OffsetCommit;
use crate::group::consumer_protocol::{CONSUMER_PROTOCOL_TYPE, ConsumerAssignment};
use crate::group::offsets::{CommittedOffset, PartitionLag};
use crate::group::records::{GroupRecord, GroupRecordKey};
use crate::group::{
    GenerationId, GroupLogRecord, LogEndOffsets, MemberId, TopicPartition, validate_group_id,
};

impl GroupCoordinator {
    /// OffsetCommit: durable in the log before this returns. `member` and `generation`
    /// identify a group member; a consumer outside any group passes `None` and
    /// [`GenerationId::NONE`], which only a group without members accepts.
    pub async fn commit_offsets(
        &self,
        group: &str,
        member: Option<&MemberId>,
        generation: GenerationId,
        offsets: Vec<OffsetCommit>,
    ) -> Result<()> {
        validate_group_id(group)?;
        let max = self.inner.config.max_offset_metadata_bytes;
        if let Some(big) = offsets.iter().find(|c| c.metadata.len() > max) {
            return Err(Error::OffsetMetadataTooLarge {
                group: group.to_owned(),
                partition: big.partition.to_string(),
                len: big.metadata.len(),
                max,
            });
        }
        let now = self.inner.clock.now();
        {
            let ctx = self.ctx();
            let mut state = self.inner.state.lock();
            let result = state
                .entry(group, ctx)
                .membership
                .validate_commit(member, generation, now);
            state.settle(group);
            result?;
        }
        let commits: Vec<(TopicPartition, CommittedOffset)> = offsets
            .into_iter()
            .map(|c| {
                let committed = CommittedOffset {
                    offset: c.offset,
                    leader_epoch: c.leader_epoch,
                    metadata: c.metadata,
                    commit_timestamp_ms: now.0,
                };
                (c.partition, committed)
            })
            .collect();
        let records = commits
            .iter()
            .map(|(partition, committed)| {
                let (key, value) = GroupRecord::OffsetCommit {
                    group: group.to_owned(),
                    partition: partition.clone(),
                    value: Some(committed.to_record()),
                }
                .encode();
                GroupLogRecord { key, value }
            })
            .collect();
        let group = group.to_owned();
        self.write(records, Effect::Commit { group, commits }).await
    }

    /// OffsetFetch for one partition.
    pub fn committed_offset(
        &self,
        group: &str,
        partition: &TopicPartition,
    ) -> Option<CommittedOffset> {
        let state = self.inner.state.lock();
        state.groups.get(group)?.offsets.get(partition).cloned()
    }

    /// OffsetFetch for every partition the group committed in.
    pub fn committed_offsets(&self, group: &str) -> Vec<(TopicPartition, CommittedOffset)> {
        let state = self.inner.state.lock();
        state.groups.get(group).map_or_else(Vec::new, |entry| {
            entry
                .offsets
                .iter()
                .map(|(p, c)| (p.clone(), c.clone()))
                .collect()
        })
    }

    /// Lag per partition the group committed in or has assigned (assignments are read when
    /// the group speaks the consumer protocol).
    pub fn lag(&self, group: &str, log_end: &dyn LogEndOffsets) -> Result<Vec<PartitionLag>> {
        let state = self.inner.state.lock();
        let entry = state
            .groups
            .get(group)
            .ok_or_else(|| group_not_found(group))?;
        let mut owners = BTreeMap::new();
        if entry.membership.protocol_type() == Some(CONSUMER_PROTOCOL_TYPE) {
            for (member, bytes) in entry.membership.assignments() {
                // A Kafka leader's assignment we cannot read just leaves owners unknown.
                if let Ok(assignment) = ConsumerAssignment::decode(bytes) {
                    for partition in assignment.partitions {
                        owners.insert(partition, member.clone());
                    }
                }
            }
        }
        Ok(entry.offsets.lag(&owners, log_end))
    }

    /// DeleteGroups: only a group without members; writes tombstones for its offsets and
    /// its snapshot, so compaction removes it from the log.
    pub async fn delete_group(&self, group: &str) -> Result<()> {
        let partitions: Vec<TopicPartition> = {
            let state = self.inner.state.lock();
            let entry = state
                .groups
                .get(group)
                .ok_or_else(|| group_not_found(group))?;
            if !entry.membership.is_empty() {
                return Err(Error::NonEmptyGroup {
                    group: group.to_owned(),
                });
            }
            entry.offsets.iter().map(|(p, _)| p.clone()).collect()
        };
        let mut records: Vec<GroupLogRecord> = partitions
            .iter()
            .map(|partition| GroupLogRecord {
                key: GroupRecordKey::OffsetCommit {
                    group: group.to_owned(),
                    partition: partition.clone(),
                }
                .encode(),
                value: None,
            })
            .collect();
        records.push(GroupLogRecord {
            key: GroupRecordKey::GroupMetadata {
                group: group.to_owned(),
            }
            .encode(),
            value: None,
        });
        let group = group.to_owned();
        self.write(records, Effect::Delete { group, partitions })
            .await
    }
}
