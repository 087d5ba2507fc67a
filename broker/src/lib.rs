//! The embedded durable log broker: topics, partitions, segments of Kafka RecordBatch v2, indexes, recovery, retention, compaction and consumer groups.
//!
//! # Layout
//!
//! - [`types`]: offsets, partition ids, records and headers.
//! - [`codec`]: the Kafka RecordBatch v2 format (varints, batch encode/decode, CRC-32C).
//! - [`partitioner`]: Kafka's default partitioner (murmur2) and round-robin for keyless batches.
//! - [`config`]: broker-wide settings ([`FsyncPolicy`], topic auto-creation, limits).
//! - [`log`]: the synchronous storage core: segments, indexes, partition logs with group commit,
//!   recovery, retention, compaction.
//! - [`topic`]: topic name rules, per-topic config (`topic.json`) and a topic's partitions.
//! - [`broker`]: the async [`Broker`] handle: open, topic admin, flush.
//! - [`produce`]: produce with partition choice; acks once durable.
//! - [`fetch`]: fetch with limits and long-poll; ListOffsets.
//! - [`cleaner`]: background retention, compaction and interval flushing.
//! - [`group_log`]: backs the [`group`] coordinator with the `__consumer_offsets` topic
//!   ([`Broker::groups`]).
//! - [`error`]: the crate's error type and `Result` alias.
//! - [`group`]: consumer groups — membership, range assignment, rebalancing, committed offsets in
//!   `__consumer_offsets`, lag.

pub mod broker;
pub mod cleaner;
pub mod codec;
pub mod config;
pub mod error;
pub mod fetch;
pub mod group;
pub mod group_log;
pub mod log;
pub mod partitioner;
pub mod produce;
pub mod topic;
pub mod types;

pub use broker::{Broker, PartitionDescription, TopicDescription};
pub use cleaner::CleanerReport;
pub use config::{AutoCreateTopics, BrokerConfig, FsyncPolicy};
pub use error::{Error, Result};
pub use fetch::{FetchLimits, FetchResult, OffsetSpec};
pub use produce::{PartitionChoice, ProduceAck};
pub use topic::{CleanupPolicy, TopicConfig};
pub use types::{FetchedRecord, Header, Offset, PartitionId, Record};
