//! A key → value table kept in a compacted, single-partition broker topic: the shared
//! mechanism behind the offset, config and status stores (as Kafka Connect keeps them in
//! its `offset.storage.topic`, `config.storage.topic` and `status.storage.topic`).
//!
//! Opening replays the topic into memory; every write is appended (durably, per the
//! broker's fsync policy) before the in-memory table changes, so what readers see has
//! always reached the log. A `None` value is a tombstone: the key is deleted.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use parking_lot::RwLock;
use sluice_broker::{
    Broker, CleanupPolicy, FetchLimits, Offset, OffsetSpec, PartitionChoice, PartitionId, Record,
    TopicConfig,
};

use crate::error::{Error, Result};

const PARTITION: PartitionId = PartitionId(0);

/// An in-memory table mirrored from a compacted topic.
#[derive(Debug)]
pub struct CompactedTable {
    broker: Broker,
    topic: String,
    entries: RwLock<BTreeMap<Bytes, Bytes>>,
    /// Serialises appends so the table applies writes in log order.
    writer: tokio::sync::Mutex<()>,
}

impl CompactedTable {
    /// Opens (creating if needed) `topic` as a compacted, never-expiring, single-partition
    /// topic and replays it.
    pub async fn open(broker: &Broker, topic: &str) -> Result<Self> {
        if !broker.list_topics().iter().any(|name| name == topic) {
            let config = TopicConfig {
                partitions: 1,
                cleanup_policy: CleanupPolicy::Compact,
                retention_ms: -1,
                retention_bytes: -1,
                ..TopicConfig::default()
            };
            match broker.create_topic(topic, config).await {
                Ok(()) | Err(sluice_broker::Error::TopicExists(_)) => {}
                Err(source) => return Err(store_error(topic, "create", source)),
            }
        }
        let table = Self {
            broker: broker.clone(),
            topic: topic.to_string(),
            entries: RwLock::new(BTreeMap::new()),
            writer: tokio::sync::Mutex::new(()),
        };
        table.replay().await?;
        Ok(table)
    }

    async fn replay(&self) -> Result<()> {
        let start = self
            .broker
            .list_offsets(&self.topic, PARTITION, OffsetSpec::Earliest)
            .await
            .map_err(|source| store_error(&self.topic, "read", source))?
            .unwrap_or(Offset(0));
        let mut offset = start;
        let limits = FetchLimits {
            max_bytes: 4 * 1024 * 1024,
            max_records: 10_000,
            max_wait: Duration::ZERO,
        };
        let mut entries = BTreeMap::new();
        loop {
            let fetched = self
                .broker
                .fetch(&self.topic, PARTITION, offset, limits)
                .await
                .map_err(|source| store_error(&self.topic, "read", source))?;
            for fetched_record in fetched.records {
                let Some(key) = fetched_record.record.key else {
                    continue;
                };
                match fetched_record.record.value {
                    Some(value) => entries.insert(key, value),
                    None => entries.remove(&key),
                };
            }
            if fetched.next_offset >= fetched.high_watermark || fetched.next_offset == offset {
                break;
            }
            offset = fetched.next_offset;
        }
        *self.entries.write() = entries;
        Ok(())
    }

    /// Writes several keys as one batch (one append, so all or nothing reach the log).
    pub async fn put_all(&self, writes: Vec<(Bytes, Option<Bytes>)>) -> Result<()> {
        if writes.is_empty() {
            return Ok(());
        }
        let _writer = self.writer.lock().await;
        let records = writes
            .iter()
            .map(|(key, value)| Record::new(Some(key.clone()), value.clone()))
            .collect();
        self.broker
            .produce(&self.topic, PartitionChoice::Explicit(PARTITION), records)
            .await
            .map_err(|source| store_error(&self.topic, "write", source))?;
        let mut entries = self.entries.write();
        for (key, value) in writes {
            match value {
                Some(value) => entries.insert(key, value),
                None => entries.remove(&key),
            };
        }
        Ok(())
    }

    pub async fn put(&self, key: Bytes, value: Option<Bytes>) -> Result<()> {
        self.put_all(vec![(key, value)]).await
    }

    pub fn get(&self, key: &[u8]) -> Option<Bytes> {
        self.entries.read().get(key).cloned()
    }

    /// Every entry whose key starts with `prefix`, in key order.
    pub fn scan_prefix(&self, prefix: &[u8]) -> Vec<(Bytes, Bytes)> {
        self.entries
            .read()
            .range(Bytes::copy_from_slice(prefix)..)
            .take_while(|(key, _)| key.starts_with(prefix))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect()
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }
}

fn store_error(topic: &str, action: &str, source: sluice_broker::Error) -> Error {
    Error::Store {
        context: format!("cannot {action} internal topic {topic}"),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_broker::BrokerConfig;

    #[tokio::test]
    async fn writes_survive_reopen_and_tombstones_delete() {
        let dir = tempfile::tempdir().unwrap();
        {
            let broker = Broker::open(dir.path(), BrokerConfig::default())
                .await
                .unwrap();
            let table = CompactedTable::open(&broker, "__t").await.unwrap();
            table
                .put(Bytes::from("a"), Some(Bytes::from("1")))
                .await
                .unwrap();
            table
                .put_all(vec![
                    (Bytes::from("b"), Some(Bytes::from("2"))),
                    (Bytes::from("a"), Some(Bytes::from("3"))),
                    (Bytes::from("c"), Some(Bytes::from("4"))),
                ])
                .await
                .unwrap();
            table.put(Bytes::from("c"), None).await.unwrap();
            assert_eq!(table.get(b"a").unwrap(), "3");
            assert!(table.get(b"c").is_none());
        }
        let broker = Broker::open(dir.path(), BrokerConfig::default())
            .await
            .unwrap();
        let table = CompactedTable::open(&broker, "__t").await.unwrap();
        assert_eq!(table.get(b"a").unwrap(), "3");
        assert_eq!(table.get(b"b").unwrap(), "2");
        assert!(table.get(b"c").is_none());
        let description = broker.describe_topic("__t").unwrap();
        assert_eq!(description.config.cleanup_policy, CleanupPolicy::Compact);
        assert_eq!(table.scan_prefix(b"a").len(), 1);
    }
}
