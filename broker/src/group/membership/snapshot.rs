//! What a group looks like from outside: its GroupMetadata record for `__consumer_offsets`,
//! its DescribeGroups answer and its members' assignments.

use super::Membership;
use crate::group::MemberId;
use crate::group::api::{GroupDescription, MemberDescription};
use crate::group::records::{GroupMetadataValue, MemberMetadataRecord};

impl Membership {
    /// The GroupMetadata record owed since the last call, if any.
    pub(in crate::group) fn take_snapshot(&mut self) -> Option<GroupMetadataValue> {
        if !std::mem::take(&mut self.snapshot_due) {
            return None;
        }
        let protocol = self.protocol_name.as_deref();
        Some(GroupMetadataValue {
            protocol_type: self.protocol_type.clone().unwrap_or_default(),
            generation: self.generation,
            protocol: self.protocol_name.clone(),
            leader: self.leader.clone(),
            current_state_timestamp_ms: self.state_since.0,
            members: self
                .members
                .values()
                .map(|m| MemberMetadataRecord {
                    member_id: m.id.clone(),
                    group_instance_id: m.group_instance_id.clone(),
                    client_id: m.client_id.clone(),
                    client_host: m.client_host.clone(),
                    rebalance_timeout_ms: m.rebalance_timeout_ms,
                    session_timeout_ms: m.session_timeout_ms,
                    subscription: m.metadata_for(protocol),
                    assignment: m.assignment.clone(),
                })
                .collect(),
        })
    }

    /// Each member's current assignment bytes.
    pub(in crate::group) fn assignments(&self) -> impl Iterator<Item = (&MemberId, &[u8])> {
        self.members
            .values()
            .map(|m| (&m.id, m.assignment.as_slice()))
    }

    pub(in crate::group) fn protocol_type(&self) -> Option<&str> {
        self.protocol_type.as_deref()
    }

    pub(in crate::group) fn describe(&self) -> GroupDescription {
        let protocol = self.protocol_name.as_deref();
        GroupDescription {
            group: self.group.clone(),
            state: self.state,
            generation: self.generation,
            protocol_type: self.protocol_type.clone(),
            protocol_name: self.protocol_name.clone(),
            leader: self.leader.clone(),
            members: self
                .members
                .values()
                .map(|m| MemberDescription {
                    member_id: m.id.clone(),
                    group_instance_id: m.group_instance_id.clone(),
                    client_id: m.client_id.clone(),
                    client_host: m.client_host.clone(),
                    kind: m.kind,
                    metadata: m.metadata_for(protocol),
                    assignment: m.assignment.clone(),
                })
                .collect(),
        }
    }
}
