//! The embedded durable log broker: topics, partitions, segments of Kafka RecordBatch v2, indexes, recovery, retention, compaction and consumer groups.
//!
//! # Using it
//!
//! [`Broker`] is the entry point: a cheaply clonable async handle (tokio). Produce calls return
//! a [`ProduceAck`] only once the batch is durable under the broker's [`FsyncPolicy`] (by
//! default fdatasync'ed, shared by concurrent appends). Fetch long-polls up to
//! [`FetchLimits::max_wait`] and returns decoded [`FetchedRecord`]s plus the raw stored batches
//! (for serving the Kafka Fetch protocol unchanged). Blocking file I/O runs on tokio's blocking
//! pool; the synchronous core ([`log::PartitionLog`]) can also be used directly.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::time::Duration;
//! use bytes::Bytes;
//! use sluice_broker::{Broker, BrokerConfig, FetchLimits, Offset, PartitionChoice, Record, TopicConfig};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let broker = Broker::open(dir.path(), BrokerConfig::default()).await?;
//! broker.create_topic("orders", TopicConfig { partitions: 3, ..TopicConfig::default() }).await?;
//!
//! let record = Record::new(Some(Bytes::from("order-1")), Some(Bytes::from(r#"{"total":5}"#)));
//! // Keyed: the partition a Kafka client's default partitioner would choose.
//! let ack = broker
//!     .produce("orders", PartitionChoice::ByKey(Bytes::from("order-1")), vec![record])
//!     .await?;
//!
//! let limits = FetchLimits { max_wait: Duration::from_millis(100), ..FetchLimits::default() };
//! let fetched = broker.fetch("orders", ack.partition, Offset(0), limits).await?;
//! assert_eq!(fetched.records[0].record.value.as_deref(), Some(&br#"{"total":5}"#[..]));
//! assert_eq!(fetched.next_offset, Offset(1));
//! # Ok::<(), sluice_broker::Error>(())
//! # }).unwrap();
//! ```
//!
//! On disk: `<data_dir>/topics/<topic>/topic.json` (the topic config, Kafka key names) and
//! `<data_dir>/topics/<topic>/<partition>/{base_offset:020}.{log,index,timeindex}`.
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
//! - [`traffic`]: bytes appended and served since open, for metrics.
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
pub mod traffic;
pub mod types;

pub use broker::{Broker, PartitionDescription, TopicDescription};
pub use cleaner::CleanerReport;
pub use codec::{Codec, CompressionType};
pub use config::{AutoCreateTopics, BrokerConfig, FsyncPolicy};
pub use error::{Error, Result};
pub use fetch::{FetchLimits, FetchResult, OffsetSpec};
pub use produce::{PartitionChoice, ProduceAck};
pub use topic::{CleanupPolicy, TopicConfig};
pub use traffic::TrafficTotals;
pub use types::{FetchedRecord, Header, Offset, PartitionId, Record};
