//! A group's committed offsets per partition, and its lag behind each partition's log end.

use std::collections::{BTreeMap, BTreeSet};

use super::records::OffsetCommitValue;
use super::{LogEndOffsets, MemberId, TopicPartition};
use crate::types::Offset;

/// A committed position of a group in one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedOffset {
    /// The next offset the group will consume.
    pub offset: Offset,
    pub leader_epoch: Option<i32>,
    pub metadata: String,
    /// When the commit was accepted, milliseconds since the Unix epoch.
    pub commit_timestamp_ms: i64,
}

impl CommittedOffset {
    pub(super) fn to_record(&self) -> OffsetCommitValue {
        OffsetCommitValue {
            offset: self.offset.0,
            leader_epoch: self.leader_epoch.unwrap_or(-1),
            metadata: self.metadata.clone(),
            commit_timestamp_ms: self.commit_timestamp_ms,
        }
    }

    pub(super) fn from_record(value: OffsetCommitValue) -> Self {
        Self {
            offset: Offset(value.offset),
            leader_epoch: (value.leader_epoch >= 0).then_some(value.leader_epoch),
            metadata: value.metadata,
            commit_timestamp_ms: value.commit_timestamp_ms,
        }
    }
}

/// How far a group is behind in one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionLag {
    pub partition: TopicPartition,
    /// `None` when the group never committed in this partition.
    pub committed: Option<Offset>,
    /// `None` when the partition does not exist (any more).
    pub log_end: Option<Offset>,
    /// `log_end - committed`, never negative; `None` when either is unknown (Kafka's tools
    /// print "-").
    pub lag: Option<i64>,
    /// The member the partition is assigned to in the current generation, if any.
    pub owner: Option<MemberId>,
}

/// The committed offsets of one group.
#[derive(Debug, Default)]
pub(super) struct OffsetTable {
    by_partition: BTreeMap<TopicPartition, CommittedOffset>,
}

impl OffsetTable {
    /// Records a commit, or forgets the partition for `None` (a tombstone).
    pub(super) fn apply(&mut self, partition: TopicPartition, committed: Option<CommittedOffset>) {
        match committed {
            Some(committed) => {
                self.by_partition.insert(partition, committed);
            }
            None => {
                self.by_partition.remove(&partition);
            }
        }
    }

    pub(super) fn get(&self, partition: &TopicPartition) -> Option<&CommittedOffset> {
        self.by_partition.get(partition)
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (&TopicPartition, &CommittedOffset)> {
        self.by_partition.iter()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.by_partition.is_empty()
    }

    /// Lag for every partition the group committed in or has assigned, in partition order.
    pub(super) fn lag(
        &self,
        owners: &BTreeMap<TopicPartition, MemberId>,
        log_end: &dyn LogEndOffsets,
    ) -> Vec<PartitionLag> {
        let partitions: BTreeSet<&TopicPartition> =
            self.by_partition.keys().chain(owners.keys()).collect();
        partitions
            .into_iter()
            .map(|partition| {
                let committed = self.by_partition.get(partition).map(|c| c.offset);
                let end = log_end.log_end_offset(partition);
                let lag = match (committed, end) {
                    (Some(committed), Some(end)) => Some((end.0 - committed.0).max(0)),
                    _ => None,
                };
                PartitionLag {
                    partition: partition.clone(),
                    committed,
                    log_end: end,
                    lag,
                    owner: owners.get(partition).cloned(),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::PartitionId;

    fn tp(topic: &str, partition: i32) -> TopicPartition {
        TopicPartition::new(topic, PartitionId(partition))
    }

    fn committed(offset: i64) -> Option<CommittedOffset> {
        Some(CommittedOffset {
            offset: Offset(offset),
            leader_epoch: None,
            metadata: String::new(),
            commit_timestamp_ms: 0,
        })
    }

    #[test]
    fn lag_covers_committed_and_assigned_partitions() {
        let mut table = OffsetTable::default();
        table.apply(tp("t", 0), committed(40));
        table.apply(tp("t", 1), committed(100));
        table.apply(tp("gone", 0), committed(5));
        let owners: BTreeMap<TopicPartition, MemberId> = [
            (tp("t", 0), MemberId::from("a")),
            (tp("t", 2), MemberId::from("b")),
        ]
        .into_iter()
        .collect();
        let ends = |p: &TopicPartition| match (p.topic.as_str(), p.partition.0) {
            ("t", 0) => Some(Offset(100)),
            ("t", 1) => Some(Offset(100)),
            ("t", 2) => Some(Offset(7)),
            _ => None,
        };
        let lag = table.lag(&owners, &ends);
        type Row<'a> = (String, Option<i64>, Option<i64>, Option<&'a str>);
        let summary: Vec<Row> = lag
            .iter()
            .map(|l| {
                (
                    l.partition.to_string(),
                    l.committed.map(|o| o.0),
                    l.lag,
                    l.owner.as_ref().map(MemberId::as_str),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("gone-0".into(), Some(5), None, None),
                ("t-0".into(), Some(40), Some(60), Some("a")),
                ("t-1".into(), Some(100), Some(0), None),
                ("t-2".into(), None, None, Some("b")),
            ]
        );
    }

    #[test]
    fn lag_is_never_negative_after_truncation() {
        let mut table = OffsetTable::default();
        table.apply(tp("t", 0), committed(50));
        let lag = table.lag(&BTreeMap::new(), &|_: &TopicPartition| Some(Offset(10)));
        assert_eq!(lag[0].lag, Some(0));
    }

    #[test]
    fn tombstone_forgets_partition() {
        let mut table = OffsetTable::default();
        table.apply(tp("t", 0), committed(1));
        table.apply(tp("t", 0), None);
        assert!(table.is_empty());
    }
}
