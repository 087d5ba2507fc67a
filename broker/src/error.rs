//! The errors of sluice-broker, one enum for the crate; each variant keeps its cause.

use std::io;
use std::path::PathBuf;

use crate::codec::DecodeError;
use crate::types::{Offset, PartitionId};

/// Everything that can go wrong in sluice-broker.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O operation failed; `context` says what was being done.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    /// Stored log bytes failed validation (length, magic, CRC); they are never served.
    #[error("corrupt log data in {path} at byte {position}: {source}")]
    Corrupt {
        path: PathBuf,
        position: u64,
        #[source]
        source: DecodeError,
    },
    /// A topic name breaks Kafka's naming rules.
    #[error("invalid topic name {name:?}: {reason}")]
    InvalidTopicName { name: String, reason: &'static str },
    /// The topic does not exist.
    #[error("unknown topic {0:?}: create it first or enable auto-create in BrokerConfig")]
    UnknownTopic(String),
    /// A topic with this name already exists.
    #[error("topic {0:?} already exists")]
    TopicExists(String),
    /// The partition number is outside the topic's partitions.
    #[error("topic {topic:?} has no partition {partition}; it has {partitions} partitions")]
    UnknownPartition {
        topic: String,
        partition: PartitionId,
        partitions: u32,
    },
    /// A topic or broker setting has an unusable value.
    #[error("invalid config {key}: {reason}")]
    InvalidConfig { key: String, reason: String },
    /// A topic's persisted config file could not be parsed or written.
    #[error("topic config file {path}: {source}")]
    ConfigFile {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// A produce request encodes to a batch larger than allowed.
    #[error(
        "batch of {size} bytes exceeds the limit of {limit} bytes (BrokerConfig::max_batch_bytes)"
    )]
    BatchTooLarge { size: usize, limit: usize },
    /// A produce request carried no records.
    #[error("produce needs at least one record")]
    EmptyBatch,
    /// A fetch or seek asked for an offset the partition does not hold.
    #[error(
        "offset {requested} is out of range for {log}: valid offsets are {log_start}..={high_watermark}"
    )]
    OffsetOutOfRange {
        log: String,
        requested: Offset,
        log_start: Offset,
        high_watermark: Offset,
    },
    /// An earlier write or fsync failed, so the partition refuses writes until reopened.
    #[error(
        "partition {log} refuses writes after an earlier write or fsync failure; reopen the broker to recover it"
    )]
    PartitionFailed { log: String },
    /// A blocking storage task could not complete.
    #[error("storage task failed: {0}")]
    Task(#[source] tokio::task::JoinError),
    /// A consumer-group request named a member the group does not know (UNKNOWN_MEMBER_ID).
    #[error(
        "group {group:?} has no member {member:?}; it was removed (left, timed out or the broker restarted): rejoin with an empty member id"
    )]
    UnknownMember { group: String, member: String },
    /// A request carried an old generation (ILLEGAL_GENERATION), e.g. a commit after a rebalance.
    #[error(
        "member {member:?} of group {group:?} sent generation {requested} but the group is at generation {current}; rejoin the group to get the current generation and assignment"
    )]
    IllegalGeneration {
        group: String,
        member: String,
        requested: i32,
        current: i32,
    },
    /// The group is rebalancing; the member must rejoin (REBALANCE_IN_PROGRESS).
    #[error("group {group:?} is rebalancing; rejoin the group")]
    RebalanceInProgress { group: String },
    /// A joining member's protocols do not fit the group's (INCONSISTENT_GROUP_PROTOCOL).
    #[error("cannot join group {group:?}: {reason}")]
    InconsistentGroupProtocol { group: String, reason: String },
    /// A member asked for a session timeout outside the coordinator's limits.
    #[error(
        "session timeout {requested_ms} ms for group {group:?} is outside the allowed {min_ms}..={max_ms} ms (GroupConfig min/max_session_timeout)"
    )]
    InvalidSessionTimeout {
        group: String,
        requested_ms: i32,
        min_ms: i32,
        max_ms: i32,
    },
    /// A group id is unusable (INVALID_GROUP_ID).
    #[error("invalid group id {group:?}: {reason}")]
    InvalidGroupId { group: String, reason: &'static str },
    /// The group does not exist (GROUP_ID_NOT_FOUND).
    #[error("consumer group {group:?} does not exist")]
    GroupNotFound { group: String },
    /// Only a group without members can be deleted (NON_EMPTY_GROUP).
    #[error("consumer group {group:?} still has members; stop its consumers before deleting it")]
    NonEmptyGroup { group: String },
    /// An offset commit's metadata string is too long (OFFSET_METADATA_TOO_LARGE).
    #[error(
        "offset metadata for {partition} in group {group:?} is {len} bytes; at most {max} are allowed (GroupConfig::max_offset_metadata_bytes)"
    )]
    OffsetMetadataTooLarge {
        group: String,
        partition: String,
        len: usize,
        max: usize,
    },
    /// Bytes of a `__consumer_offsets` record or of the consumer protocol do not decode.
    #[error("malformed {what}: {reason}")]
    MalformedGroupData { what: &'static str, reason: String },
    /// Replaying `__consumer_offsets` met a record it cannot read.
    #[error("cannot replay record #{index} of __consumer_offsets")]
    GroupReplay {
        index: usize,
        #[source]
        source: Box<Error>,
    },
    /// A JoinGroup/SyncGroup wait ended without an answer.
    #[error(
        "member {member:?} of group {group:?} stopped waiting for the rebalance: a newer join from the same member replaced this one, or the coordinator shut down"
    )]
    GroupWaitAbandoned { group: String, member: String },
    /// Appending to `__consumer_offsets` failed; every commit in the failed batch gets it.
    #[error("writing to __consumer_offsets failed; the offsets were not committed")]
    GroupLogWrite {
        #[source]
        source: std::sync::Arc<Error>,
    },
    /// The task writing to `__consumer_offsets` ended (the runtime is shutting down).
    #[error("the __consumer_offsets writer stopped before the write completed")]
    GroupLogWriterStopped,
    /// A new member must join again with the id given here (MEMBER_ID_REQUIRED, KIP-394).
    #[error("join group {group:?} again with member id {member:?}")]
    MemberIdRequired { group: String, member: String },
}

/// Result alias used throughout sluice-broker.
pub type Result<T, E = Error> = std::result::Result<T, E>;
