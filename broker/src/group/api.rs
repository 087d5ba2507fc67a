//! Requests and responses of the coordinator, shaped after Kafka's JoinGroup, SyncGroup,
//! OffsetCommit and DescribeGroups so the Kafka listener can map them field by field.

use std::time::Duration;

use super::{GenerationId, MemberId, TopicPartition};
use crate::types::Offset;

/// The state of a group, as Kafka's classic coordinator names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupState {
    /// No members; the group may still hold committed offsets.
    Empty,
    /// Waiting for members to (re)join before the next generation.
    PreparingRebalance,
    /// The generation is formed; waiting for the leader's assignment.
    CompletingRebalance,
    /// Every member has its assignment.
    Stable,
    /// The group does not exist.
    Dead,
}

impl GroupState {
    /// The name Kafka's DescribeGroups/ListGroups report.
    pub fn kafka_name(self) -> &'static str {
        match self {
            Self::Empty => "Empty",
            Self::PreparingRebalance => "PreparingRebalance",
            Self::CompletingRebalance => "CompletingRebalance",
            Self::Stable => "Stable",
            Self::Dead => "Dead",
        }
    }
}

/// A group's state and generation, as [`GroupCoordinator::watch_group`] reports them.
///
/// [`GroupCoordinator::watch_group`]: super::GroupCoordinator::watch_group
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GroupStatus {
    pub state: GroupState,
    pub generation: GenerationId,
}

/// Who a member is, which decides who assigns partitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemberKind {
    /// A consumer inside this process; the coordinator assigns it (RangeAssignor) unless a
    /// Kafka client is in the group.
    InProcess,
    /// A Kafka client over the wire; when present, one of them leads and assigns.
    KafkaClient,
}

/// One assignment protocol a member supports, with its metadata (for consumers, an encoded
/// [`ConsumerSubscription`](super::consumer_protocol::ConsumerSubscription)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protocol {
    pub name: String,
    pub metadata: Vec<u8>,
}

/// JoinGroup.
#[derive(Debug, Clone)]
pub struct JoinRequest {
    pub group: String,
    /// `None` for a member joining for the first time; the coordinator assigns an id.
    pub member_id: Option<MemberId>,
    /// Kafka's static membership id (`group.instance.id`): a member joining without a
    /// member id replaces the old member with the same instance id at once. Otherwise
    /// membership is dynamic (no rebalance-free restarts).
    pub group_instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub session_timeout_ms: i32,
    pub rebalance_timeout_ms: i32,
    pub protocol_type: String,
    /// Supported protocols in order of preference.
    pub protocols: Vec<Protocol>,
    pub kind: MemberKind,
    /// How a member without an id is let in.
    pub new_member: NewMemberPolicy,
}

/// How the coordinator admits a member that joins without a member id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NewMemberPolicy {
    /// Give it an id and let it in (JoinGroup v0-v3, in-process consumers).
    JoinAtOnce,
    /// Answer MEMBER_ID_REQUIRED with a fresh id, and let it in when it joins again with that
    /// id (KIP-394, JoinGroup v4+): a client whose first join timed out then leaves no orphan
    /// member that stalls rebalances.
    RequireKnownId,
}

/// One member as the leader sees it in its JoinGroup response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinedMember {
    pub member_id: MemberId,
    pub group_instance_id: Option<String>,
    /// The member's metadata for the selected protocol.
    pub metadata: Vec<u8>,
}

/// JoinGroup's answer, sent when the generation forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinResponse {
    pub generation: GenerationId,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub leader: MemberId,
    pub member_id: MemberId,
    /// Every member, for a leader that must compute the assignment; empty otherwise.
    pub members: Vec<JoinedMember>,
}

/// SyncGroup.
#[derive(Debug, Clone)]
pub struct SyncRequest {
    pub group: String,
    pub member_id: MemberId,
    pub generation: GenerationId,
    /// The leader's assignment per member; empty from followers.
    pub assignments: Vec<(MemberId, Vec<u8>)>,
}

/// SyncGroup's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncResponse {
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    /// This member's assignment (for consumers, an encoded
    /// [`ConsumerAssignment`](super::consumer_protocol::ConsumerAssignment)).
    pub assignment: Vec<u8>,
}

/// An in-process consumer's request to join (or rejoin) a group.
#[derive(Debug, Clone)]
pub struct ConsumerJoin {
    pub group: String,
    /// `None` the first time; afterwards the id from the previous [`GroupAssignment`].
    pub member_id: Option<MemberId>,
    /// Names the consumer in member ids and descriptions, like Kafka's `client.id`.
    pub client_id: String,
    pub topics: Vec<String>,
    /// The member is removed when it neither heartbeats nor commits for this long.
    pub session_timeout: Duration,
    /// How long a rebalance waits for this member to rejoin.
    pub rebalance_timeout: Duration,
}

impl ConsumerJoin {
    /// A first join with Kafka's consumer defaults (45 s session, 5 min rebalance timeout).
    pub fn new(
        group: impl Into<String>,
        client_id: impl Into<String>,
        topics: Vec<String>,
    ) -> Self {
        Self {
            group: group.into(),
            member_id: None,
            client_id: client_id.into(),
            topics,
            session_timeout: Duration::from_secs(45),
            rebalance_timeout: Duration::from_secs(300),
        }
    }
}

/// What an in-process consumer owns in a generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupAssignment {
    pub member_id: MemberId,
    pub generation: GenerationId,
    pub partitions: Vec<TopicPartition>,
}

/// One partition's offset to commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetCommit {
    pub partition: TopicPartition,
    /// The next offset to consume.
    pub offset: Offset,
    pub leader_epoch: Option<i32>,
    pub metadata: String,
}

impl OffsetCommit {
    pub fn new(partition: TopicPartition, offset: Offset) -> Self {
        Self {
            partition,
            offset,
            leader_epoch: None,
            metadata: String::new(),
        }
    }
}

/// A member as DescribeGroups reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberDescription {
    pub member_id: MemberId,
    pub group_instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub kind: MemberKind,
    /// The member's metadata for the selected protocol.
    pub metadata: Vec<u8>,
    pub assignment: Vec<u8>,
}

/// A group as DescribeGroups reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDescription {
    pub group: String,
    pub state: GroupState,
    pub generation: GenerationId,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub leader: Option<MemberId>,
    pub members: Vec<MemberDescription>,
}

/// A group as ListGroups reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupListing {
    pub group: String,
    pub protocol_type: Option<String>,
    pub state: GroupState,
}
