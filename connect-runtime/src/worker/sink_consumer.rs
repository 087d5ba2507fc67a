//! A sink task's consumer state: its assigned partitions, the next offset to `put` and the
//! last committed offset of each, and the fetchers that read exactly the assigned partitions
//! neither the worker nor the task paused. Partitions start at the group's committed offset,
//! else at the earliest offset (Kafka Connect's `auto.offset.reset=earliest`).

use std::collections::BTreeSet;

use sluice_broker::group::GroupAssignment;
use sluice_broker::{Broker, Offset, OffsetSpec};

use super::sink_context::SinkContext;
use super::sink_fetch::Fetchers;
use crate::api::{PartitionOffsets, TopicPartition};
use crate::error::{Error, Result};

/// The task's place in its assigned partitions.
#[derive(Debug)]
pub struct Consumer {
    pub fetchers: Fetchers,
    pub assigned: BTreeSet<TopicPartition>,
    /// Per assigned partition, the next offset to `put`.
    pub consumed: PartitionOffsets,
    /// Per partition, the offset last committed to the group.
    pub committed: PartitionOffsets,
    /// The whole task is paused (the connector is PAUSED).
    pub task_paused: bool,
}

impl Consumer {
    pub fn new(fetchers: Fetchers) -> Self {
        Self {
            fetchers,
            assigned: BTreeSet::new(),
            consumed: PartitionOffsets::new(),
            committed: PartitionOffsets::new(),
            task_paused: false,
        }
    }
}

/// Moves partitions the task repositioned; returns whether it asked for a commit.
pub fn apply_resets(consumer: &mut Consumer, context: &SinkContext) -> bool {
    let (resets, commit) = context.take_requests();
    for (partition, offset) in resets {
        if !consumer.assigned.contains(&partition) {
            tracing::warn!(%partition, "offset reset for a partition not assigned to the task; ignored");
            continue;
        }
        consumer.consumed.insert(partition.clone(), offset);
        // Restarted below by `sync_fetchers` from the new offset.
        consumer.fetchers.stop(&partition);
    }
    commit
}

/// Fetches exactly the assigned partitions that neither the worker nor the task paused.
pub fn sync_fetchers(consumer: &mut Consumer, context: &SinkContext) {
    let paused = context.paused();
    for partition in &consumer.assigned {
        let wanted = !consumer.task_paused && !paused.contains(partition);
        let fetching = consumer.fetchers.is_fetching(partition);
        if wanted && !fetching {
            let from = consumer
                .consumed
                .get(partition)
                .copied()
                .unwrap_or_default();
            consumer.fetchers.start(partition.clone(), from);
        } else if !wanted && fetching {
            consumer.fetchers.stop(partition);
        }
    }
}

/// Where to start reading a newly assigned partition, and its committed offset.
pub async fn start_offset(
    broker: &Broker,
    group: &str,
    partition: &TopicPartition,
) -> Result<(Offset, Option<Offset>)> {
    let committed = broker
        .groups()
        .committed_offset(group, &broker_partition(partition))
        .map(|c| c.offset);
    if let Some(offset) = committed {
        return Ok((offset, committed));
    }
    let earliest = broker
        .list_offsets(&partition.topic, partition.partition, OffsetSpec::Earliest)
        .await
        .map_err(|source| Error::Store {
            context: format!("cannot find the earliest offset of {partition}"),
            source,
        })?;
    Ok((earliest.unwrap_or_default(), None))
}

pub fn partitions_of(assignment: &GroupAssignment) -> BTreeSet<TopicPartition> {
    assignment
        .partitions
        .iter()
        .map(|p| TopicPartition {
            topic: p.topic.clone(),
            partition: p.partition,
        })
        .collect()
}

pub fn broker_partition(partition: &TopicPartition) -> sluice_broker::group::TopicPartition {
    sluice_broker::group::TopicPartition::new(partition.topic.clone(), partition.partition)
}
