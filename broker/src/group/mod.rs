//! Consumer groups: membership, partition assignment and committed offsets, served by one
//! [`GroupCoordinator`] to in-process consumers (the Connect runtime's sink tasks, the CLI's
//! `consume --group`) and, through the same request/response types, to Kafka clients.
//!
//! The membership state machine follows Kafka's classic group coordinator: states `Empty`,
//! `PreparingRebalance`, `CompletingRebalance`, `Stable` (and `Dead` for a group that no
//! longer exists), generation ids, member ids, a leader, session and rebalance timeouts.
//! Groups made only of in-process members are assigned by the coordinator itself with
//! Kafka's RangeAssignor; as soon as a Kafka client is a member, a Kafka client leads and its
//! assignment is passed through as opaque bytes (in-process members decode it with the
//! consumer protocol, which they also speak).
//!
//! Committed offsets and group snapshots are records of Kafka's `__consumer_offsets` format,
//! written through the [`GroupLog`] trait and replayed on start.
//!
//! # Layout
//!
//! - [`coordinator`]: [`GroupCoordinator`] — state, replay on open, persistence; its API in
//!   `membership_api` (join/sync/heartbeat/leave/expiry, `join_consumer`) and `offsets_api`
//!   (commit/fetch/lag/delete).
//! - [`member`]: [`GroupMember`], an in-process consumer's membership with heartbeats,
//!   rebalance notice and leave-on-drop.
//! - [`membership`]: one group's state machine; `join` (JoinGroup), `rebalance` (forming
//!   generations, protocol and leader choice, range assignment), `snapshot` (records and
//!   descriptions).
//! - [`api`]: request/response types shared with the future Kafka listener.
//! - [`offsets`]: committed offsets per partition and lag.
//! - [`range`]: the RangeAssignor.
//! - [`records`]: `__consumer_offsets` key/value codec.
//! - [`consumer_protocol`]: Kafka's consumer subscription/assignment encoding.
//! - [`clock`]: injectable time.
//! - `wire`: Kafka primitive encoding used by the codecs.
//! - `tests` (with `test_support`): coordinator flows over a file-backed log and a manual clock.

pub mod api;
pub mod clock;
pub mod consumer_protocol;
pub mod coordinator;
pub mod member;
pub mod membership;
pub mod offsets;
pub mod range;
pub mod records;
mod wire;

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;

use std::fmt;

pub use api::{
    ConsumerJoin, GroupAssignment, GroupDescription, GroupListing, GroupState, GroupStatus,
    JoinRequest, JoinResponse, JoinedMember, MemberDescription, MemberKind, NewMemberPolicy,
    OffsetCommit, Protocol, SyncRequest, SyncResponse,
};
pub use clock::{Clock, ManualClock, Millis, SystemClock};
pub use coordinator::{GroupConfig, GroupCoordinator};
pub use member::GroupMember;
pub use offsets::{CommittedOffset, PartitionLag};
pub use records::CONSUMER_OFFSETS_TOPIC;

use crate::error::{Error, Result};
use crate::types::{Offset, PartitionId};

/// A member's id inside a group, assigned by the coordinator on first join.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MemberId(String);

impl MemberId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<String> for MemberId {
    fn from(id: String) -> Self {
        Self(id)
    }
}

impl From<&str> for MemberId {
    fn from(id: &str) -> Self {
        Self(id.to_owned())
    }
}

impl fmt::Display for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A group's generation: it grows by one with every completed rebalance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GenerationId(pub i32);

impl GenerationId {
    /// What a consumer outside any generation sends with an offset commit (Kafka's -1).
    pub const NONE: Self = Self(-1);

    pub fn next(self) -> Self {
        Self(self.0.wrapping_add(1).max(1))
    }
}

impl fmt::Display for GenerationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A partition of a topic.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TopicPartition {
    pub topic: String,
    pub partition: PartitionId,
}

impl TopicPartition {
    pub fn new(topic: impl Into<String>, partition: PartitionId) -> Self {
        Self {
            topic: topic.into(),
            partition,
        }
    }
}

impl fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

/// One raw `__consumer_offsets` record: a key and a value, `None` being a tombstone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupLogRecord {
    pub key: Vec<u8>,
    pub value: Option<Vec<u8>>,
}

/// Durable storage of the coordinator's records, backed by the compacted
/// `__consumer_offsets` topic. Calls block (the coordinator runs them on the blocking pool).
///
/// Contract: records with the same key must come back from [`GroupLog::replay`] in the order
/// they were appended (order across keys does not matter, so the implementation may
/// partition by key or by group); compaction may drop all but the latest record per key and
/// may drop tombstones once they are old.
pub trait GroupLog: Send + Sync + fmt::Debug {
    /// Appends `records` in order and returns once they are durable.
    fn append(&self, records: Vec<GroupLogRecord>) -> Result<()>;
    /// Every stored record, in append order per key.
    fn replay(&self) -> Result<Vec<GroupLogRecord>>;
}

/// How many partitions a topic has, for the coordinator's own range assignment.
pub trait TopicMetadata: Send + Sync + fmt::Debug {
    /// `None` when the topic does not exist (its subscribers get none of it).
    fn partition_count(&self, topic: &str) -> Option<i32>;
}

/// The log end offset (high watermark) of a partition, for lag.
pub trait LogEndOffsets {
    /// `None` when the partition does not exist.
    fn log_end_offset(&self, partition: &TopicPartition) -> Option<Offset>;
}

impl<F: Fn(&TopicPartition) -> Option<Offset>> LogEndOffsets for F {
    fn log_end_offset(&self, partition: &TopicPartition) -> Option<Offset> {
        self(partition)
    }
}

/// Checks a group id the way Kafka does: not empty. Kafka allows any other string, and so
/// do we, but a length cap keeps records readable (strings are int16-prefixed).
pub fn validate_group_id(group: &str) -> Result<()> {
    if group.is_empty() {
        return Err(Error::InvalidGroupId {
            group: group.to_owned(),
            reason: "a group id must not be empty",
        });
    }
    if group.len() > i16::MAX as usize {
        return Err(Error::InvalidGroupId {
            group: group.chars().take(64).collect(),
            reason: "a group id must be at most 32767 bytes",
        });
    }
    Ok(())
}

/// The Kafka protocol error code for a coordinator error, for the Kafka listener's responses.
pub fn kafka_error_code(error: &Error) -> i16 {
    match error {
        Error::OffsetMetadataTooLarge { .. } => 12,
        // COORDINATOR_NOT_AVAILABLE: retriable, as Kafka answers when its log append fails.
        Error::GroupLogWrite { .. } | Error::GroupLogWriterStopped => 15,
        Error::IllegalGeneration { .. } => 22,
        Error::InconsistentGroupProtocol { .. } => 23,
        Error::InvalidGroupId { .. } => 24,
        Error::UnknownMember { .. } | Error::GroupWaitAbandoned { .. } => 25,
        Error::InvalidSessionTimeout { .. } => 26,
        Error::RebalanceInProgress { .. } => 27,
        Error::NonEmptyGroup { .. } => 68,
        Error::MemberIdRequired { .. } => 79,
        Error::GroupNotFound { .. } => 69,
        // UNKNOWN_SERVER_ERROR: everything else.
        _ => -1,
    }
}
