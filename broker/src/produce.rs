//! Producing: choosing the partition (explicit, Kafka's key hash, or round-robin), appending
//! on the blocking pool, and acknowledging once the batch is durable per the fsync policy.

use bytes::Bytes;

use crate::broker::{Broker, blocking};
use crate::error::{Error, Result};
use crate::partitioner::partition_for_key;
use crate::types::{Offset, PartitionId, Record};

/// Which partition a produce call writes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartitionChoice {
    /// Exactly this partition.
    Explicit(PartitionId),
    /// The partition Kafka's default partitioner picks for this key (murmur2).
    ByKey(Bytes),
    /// The next partition in round-robin order (for keyless data; the whole call stays together).
    RoundRobin,
}

/// Where a produced batch was stored. Returned only once it is durable per the fsync policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProduceAck {
    pub partition: PartitionId,
    pub base_offset: Offset,
    pub last_offset: Offset,
}

impl Broker {
    /// Appends `records` as one batch to one partition of `topic` (auto-creating the topic if
    /// configured). Records keep their order and get consecutive offsets.
    pub async fn produce(
        &self,
        topic: &str,
        choice: PartitionChoice,
        records: Vec<Record>,
    ) -> Result<ProduceAck> {
        if records.is_empty() {
            return Err(Error::EmptyBatch);
        }
        let topic = self.topic_or_create(topic).await?;
        let partitions = topic.partition_count();
        let partition = match choice {
            PartitionChoice::Explicit(p) => p,
            PartitionChoice::ByKey(key) => partition_for_key(&key, partitions),
            PartitionChoice::RoundRobin => topic.round_robin().next_partition(partitions),
        };
        let log = topic.partition(partition)?;
        let bytes = crate::traffic::payload_bytes(&records);
        let info = blocking(move || log.append(&records)).await?;
        self.inner.traffic.appended(bytes);
        Ok(ProduceAck {
            partition,
            base_offset: info.base_offset,
            last_offset: info.last_offset,
        })
    }

    /// Routes each record like a Kafka producer: keyed records to their key's partition,
    /// keyless ones together to one round-robin partition. One batch per partition is
    /// appended (concurrently); acks come back in partition order. Order is kept within each
    /// partition.
    pub async fn produce_keyed(
        &self,
        topic: &str,
        records: Vec<Record>,
    ) -> Result<Vec<ProduceAck>> {
        if records.is_empty() {
            return Err(Error::EmptyBatch);
        }
        let topic_handle = self.topic_or_create(topic).await?;
        let partitions = topic_handle.partition_count();
        let mut keyless_partition = None;
        let mut groups: Vec<(PartitionId, Vec<Record>)> = Vec::new();
        for record in records {
            let partition = match &record.key {
                Some(key) => partition_for_key(key, partitions),
                None => *keyless_partition
                    .get_or_insert_with(|| topic_handle.round_robin().next_partition(partitions)),
            };
            match groups.iter_mut().find(|(p, _)| *p == partition) {
                Some((_, batch)) => batch.push(record),
                None => groups.push((partition, vec![record])),
            }
        }
        groups.sort_by_key(|(p, _)| *p);
        let bytes: u64 = groups
            .iter()
            .map(|(_, batch)| crate::traffic::payload_bytes(batch))
            .sum();
        let appends = groups.into_iter().map(|(partition, batch)| {
            let log = topic_handle.partition(partition);
            async move {
                let log = log?;
                let info = blocking(move || log.append(&batch)).await?;
                Ok(ProduceAck {
                    partition,
                    base_offset: info.base_offset,
                    last_offset: info.last_offset,
                })
            }
        });
        let mut acks = Vec::new();
        let handles: Vec<_> = appends.map(tokio::spawn).collect();
        for handle in handles {
            acks.push(handle.await.map_err(Error::Task)??);
        }
        self.inner.traffic.appended(bytes);
        Ok(acks)
    }
}
