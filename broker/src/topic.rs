//! Topics: Kafka-compatible name validation, per-topic config persisted as `topic.json` in the
//! topic directory, and the set of partition logs of one topic.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use serde::{Deserialize, Serialize};

use crate::codec::CompressionType;
use crate::config::BrokerConfig;
use crate::error::{Error, Result};
use crate::log::retention::RetentionLimits;
use crate::log::{LogConfig, PartitionLog, io_error, sync_dir};
use crate::partitioner::RoundRobin;
use crate::types::PartitionId;

/// The longest topic name Kafka accepts.
pub const MAX_TOPIC_NAME_LEN: usize = 249;
const CONFIG_FILE: &str = "topic.json";

/// Checks a topic name like Kafka: 1–249 characters from `[a-zA-Z0-9._-]`, not `.` or `..`.
pub fn validate_topic_name(name: &str) -> Result<()> {
    let invalid = |reason| {
        Err(Error::InvalidTopicName {
            name: name.to_owned(),
            reason,
        })
    };
    if name.is_empty() {
        return invalid("it is empty");
    }
    if name == "." || name == ".." {
        return invalid("'.' and '..' are reserved");
    }
    if name.len() > MAX_TOPIC_NAME_LEN {
        return invalid("it is longer than 249 characters");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return invalid("only ASCII letters, digits, '.', '_' and '-' are allowed");
    }
    Ok(())
}

/// What happens to old data (Kafka's `cleanup.policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum CleanupPolicy {
    /// Delete whole segments by `retention.ms` / `retention.bytes`.
    #[default]
    #[serde(rename = "delete")]
    Delete,
    /// Keep the latest record per key.
    #[serde(rename = "compact")]
    Compact,
    /// Both: compact, and delete by retention.
    #[serde(rename = "compact,delete")]
    CompactDelete,
}

impl CleanupPolicy {
    /// Parses Kafka's spelling: `delete`, `compact`, `compact,delete` (either order).
    pub fn parse(value: &str) -> Result<CleanupPolicy> {
        let mut parts: Vec<&str> = value.split(',').map(str::trim).collect();
        parts.sort_unstable();
        match parts.as_slice() {
            ["delete"] => Ok(CleanupPolicy::Delete),
            ["compact"] => Ok(CleanupPolicy::Compact),
            ["compact", "delete"] => Ok(CleanupPolicy::CompactDelete),
            _ => Err(Error::InvalidConfig {
                key: "cleanup.policy".into(),
                reason: format!("{value:?} is not one of delete, compact, compact,delete"),
            }),
        }
    }

    pub fn deletes(self) -> bool {
        matches!(self, CleanupPolicy::Delete | CleanupPolicy::CompactDelete)
    }

    pub fn compacts(self) -> bool {
        matches!(self, CleanupPolicy::Compact | CleanupPolicy::CompactDelete)
    }
}

/// Per-topic settings, named and defaulted like Kafka's topic configs. `-1` for
/// `retention_ms` / `retention_bytes` means unlimited. Keys missing from a `topic.json` take
/// their defaults (files written before a key existed still load); unknown keys are refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TopicConfig {
    pub partitions: u32,
    #[serde(rename = "cleanup.policy")]
    pub cleanup_policy: CleanupPolicy,
    #[serde(rename = "retention.ms")]
    pub retention_ms: i64,
    #[serde(rename = "retention.bytes")]
    pub retention_bytes: i64,
    #[serde(rename = "segment.bytes")]
    pub segment_bytes: u64,
    #[serde(rename = "segment.ms")]
    pub segment_ms: u64,
    #[serde(rename = "delete.retention.ms")]
    pub delete_retention_ms: i64,
    /// How appended batches are stored (`producer`, `uncompressed` or `lz4`).
    #[serde(rename = "compression.type")]
    pub compression_type: CompressionType,
}

impl Default for TopicConfig {
    fn default() -> Self {
        TopicConfig {
            partitions: 1,
            cleanup_policy: CleanupPolicy::Delete,
            retention_ms: 7 * 24 * 3600 * 1000,
            retention_bytes: -1,
            segment_bytes: 1 << 30,
            segment_ms: 7 * 24 * 3600 * 1000,
            delete_retention_ms: 24 * 3600 * 1000,
            compression_type: CompressionType::Producer,
        }
    }
}

impl TopicConfig {
    /// Rejects values Kafka would reject, naming the key and the allowed range.
    pub fn validate(&self) -> Result<()> {
        let bad = |key: &str, reason: &str| {
            Err(Error::InvalidConfig {
                key: key.into(),
                reason: reason.into(),
            })
        };
        if self.partitions == 0 || self.partitions > i32::MAX as u32 {
            return bad("partitions", "must be at least 1");
        }
        if self.retention_ms < -1 {
            return bad("retention.ms", "must be -1 (unlimited) or >= 0");
        }
        if self.retention_bytes < -1 {
            return bad("retention.bytes", "must be -1 (unlimited) or >= 0");
        }
        if !(14..=i32::MAX as u64).contains(&self.segment_bytes) {
            return bad("segment.bytes", "must be between 14 and 2147483647");
        }
        if self.segment_ms == 0 {
            return bad("segment.ms", "must be at least 1");
        }
        if self.delete_retention_ms < 0 {
            return bad("delete.retention.ms", "must be >= 0");
        }
        Ok(())
    }

    /// Retention limits to apply, or `None` when the policy does not delete.
    pub fn retention_limits(&self) -> Option<RetentionLimits> {
        self.cleanup_policy.deletes().then(|| RetentionLimits {
            max_age_ms: (self.retention_ms >= 0).then_some(self.retention_ms),
            max_bytes: (self.retention_bytes >= 0).then_some(self.retention_bytes as u64),
        })
    }

    fn log_config(&self, broker: &BrokerConfig) -> LogConfig {
        LogConfig {
            segment_bytes: self.segment_bytes,
            segment_age: Duration::from_millis(self.segment_ms),
            index_interval_bytes: broker.index_interval_bytes,
            fsync: broker.fsync,
            max_batch_bytes: broker.max_batch_bytes,
            codec: self.compression_type.codec(),
        }
    }
}

/// One topic: its config and partition logs.
#[derive(Debug)]
pub struct Topic {
    name: String,
    dir: PathBuf,
    config: RwLock<TopicConfig>,
    partitions: RwLock<Arc<Vec<Arc<PartitionLog>>>>,
    log_config: LogConfig,
    round_robin: RoundRobin,
}

impl Topic {
    /// Creates the topic directory, writes `topic.json` and opens every partition.
    pub fn create(
        dir: PathBuf,
        name: &str,
        config: TopicConfig,
        broker: &BrokerConfig,
    ) -> Result<Topic> {
        config.validate()?;
        std::fs::create_dir_all(&dir).map_err(io_error(format!("creating {}", dir.display())))?;
        write_config(&dir, &config)?;
        if let Some(parent) = dir.parent() {
            sync_dir(parent)?;
        }
        Topic::open_with(dir, name, config, broker)
    }

    /// Opens an existing topic directory (recovering every partition).
    pub fn open(dir: PathBuf, name: &str, broker: &BrokerConfig) -> Result<Topic> {
        let path = dir.join(CONFIG_FILE);
        let text = std::fs::read(&path).map_err(io_error(format!("reading {}", path.display())))?;
        let config: TopicConfig =
            serde_json::from_slice(&text).map_err(|source| Error::ConfigFile { path, source })?;
        config.validate()?;
        Topic::open_with(dir, name, config, broker)
    }

    fn open_with(
        dir: PathBuf,
        name: &str,
        config: TopicConfig,
        broker: &BrokerConfig,
    ) -> Result<Topic> {
        let log_config = config.log_config(broker);
        let partitions = (0..config.partitions)
            .map(|p| open_partition(&dir, name, PartitionId(p as i32), log_config).map(Arc::new))
            .collect::<Result<Vec<_>>>()?;
        Ok(Topic {
            name: name.to_owned(),
            dir,
            config: RwLock::new(config),
            partitions: RwLock::new(Arc::new(partitions)),
            log_config,
            round_robin: RoundRobin::default(),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn config(&self) -> TopicConfig {
        self.config.read().clone()
    }

    pub fn partition_count(&self) -> u32 {
        self.partitions.read().len() as u32
    }

    /// The partition logs, in partition order.
    pub fn partitions(&self) -> Arc<Vec<Arc<PartitionLog>>> {
        self.partitions.read().clone()
    }

    /// The log of `partition`, or [`Error::UnknownPartition`].
    pub fn partition(&self, partition: PartitionId) -> Result<Arc<PartitionLog>> {
        let partitions = self.partitions.read();
        usize::try_from(partition.0)
            .ok()
            .and_then(|i| partitions.get(i).cloned())
            .ok_or_else(|| Error::UnknownPartition {
                topic: self.name.clone(),
                partition,
                partitions: partitions.len() as u32,
            })
    }

    pub(crate) fn round_robin(&self) -> &RoundRobin {
        &self.round_robin
    }

    /// Grows the topic to `total` partitions (Kafka never shrinks a topic).
    pub fn add_partitions(&self, total: u32) -> Result<()> {
        let mut config = self.config.write();
        if total <= config.partitions {
            return Err(Error::InvalidConfig {
                key: "partitions".into(),
                reason: format!(
                    "topic {:?} has {} partitions; the new count {total} must be larger",
                    self.name, config.partitions
                ),
            });
        }
        let mut partitions = Vec::clone(&self.partitions.read());
        for p in config.partitions..total {
            partitions.push(Arc::new(open_partition(
                &self.dir,
                &self.name,
                PartitionId(p as i32),
                self.log_config,
            )?));
        }
        let mut updated = config.clone();
        updated.partitions = total;
        write_config(&self.dir, &updated)?;
        *config = updated;
        *self.partitions.write() = Arc::new(partitions);
        Ok(())
    }
}

fn open_partition(
    dir: &Path,
    topic: &str,
    partition: PartitionId,
    config: LogConfig,
) -> Result<PartitionLog> {
    PartitionLog::open(
        &dir.join(partition.0.to_string()),
        format!("{topic}-{partition}"),
        config,
    )
}

/// Writes `topic.json` atomically (temp file, fsync, rename, directory fsync).
fn write_config(dir: &Path, config: &TopicConfig) -> Result<()> {
    let path = dir.join(CONFIG_FILE);
    let tmp = dir.join(format!("{CONFIG_FILE}.tmp"));
    let text = serde_json::to_vec_pretty(config).map_err(|source| Error::ConfigFile {
        path: path.clone(),
        source,
    })?;
    std::fs::write(&tmp, &text)
        .and_then(|()| std::fs::File::open(&tmp)?.sync_all())
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(io_error(format!("writing {}", path.display())))?;
    sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kafka_name_rules_are_enforced() {
        for good in ["a", "orders.v1", "db_1-x", &"x".repeat(249)] {
            validate_topic_name(good).unwrap();
        }
        for bad in ["", ".", "..", "a b", "a/b", "é", &"x".repeat(250)] {
            let err = validate_topic_name(bad).unwrap_err();
            assert!(
                matches!(err, Error::InvalidTopicName { .. }),
                "{bad:?}: {err}"
            );
        }
    }

    #[test]
    fn cleanup_policy_parses_kafka_spellings() {
        assert_eq!(
            CleanupPolicy::parse("compact").unwrap(),
            CleanupPolicy::Compact
        );
        assert_eq!(
            CleanupPolicy::parse("delete, compact").unwrap(),
            CleanupPolicy::CompactDelete
        );
        assert!(
            CleanupPolicy::parse("purge")
                .unwrap_err()
                .to_string()
                .contains("cleanup.policy")
        );
    }

    #[test]
    fn config_round_trips_through_json_with_kafka_keys() {
        let config = TopicConfig {
            cleanup_policy: CleanupPolicy::Compact,
            ..TopicConfig::default()
        };
        let text = serde_json::to_string(&config).unwrap();
        assert!(text.contains("\"cleanup.policy\":\"compact\""), "{text}");
        assert_eq!(serde_json::from_str::<TopicConfig>(&text).unwrap(), config);
        let bad = TopicConfig {
            partitions: 0,
            ..TopicConfig::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("partitions")
        );
    }
}
