//! Rebalancing: entering `PreparingRebalance`, forming the next generation from the members
//! that rejoined, choosing protocol and leader, and the coordinator's own range assignment.

use std::collections::{BTreeMap, BTreeSet};

use super::{Assigner, Ctx, Member, Membership};
use crate::error::Error;
use crate::group::api::{GroupState, JoinResponse, JoinedMember, MemberKind};
use crate::group::clock::Millis;
use crate::group::consumer_protocol::{ConsumerAssignment, ConsumerSubscription};
use crate::group::range::range_assign;
use crate::group::{MemberId, TopicMetadata};

impl Membership {
    pub(super) fn transition(&mut self, state: GroupState, now: Millis) {
        self.state = state;
        self.state_since = now;
    }

    pub(super) fn prepare_rebalance(&mut self, ctx: Ctx<'_>) {
        if self.state == GroupState::CompletingRebalance {
            for member in self.members.values_mut() {
                member.assignment.clear();
                if let Some(waiter) = member.sync_waiter.take() {
                    let _ = waiter.send(Err(Error::RebalanceInProgress {
                        group: self.group.clone(),
                    }));
                }
            }
        }
        let timeout = self
            .members
            .values()
            .map(|m| i64::from(m.rebalance_timeout_ms))
            .max()
            .unwrap_or(0);
        self.transition(GroupState::PreparingRebalance, ctx.now);
        self.rebalance_deadline = Some(ctx.now.plus_ms(timeout));
        self.maybe_complete_join(ctx);
    }

    pub(super) fn maybe_complete_join(&mut self, ctx: Ctx<'_>) {
        if self.state == GroupState::PreparingRebalance
            && self.members.values().all(|m| m.join_waiter.is_some())
        {
            self.complete_join(ctx);
        }
    }

    /// Forms the next generation from the members that rejoined; the others are removed.
    pub(super) fn complete_join(&mut self, ctx: Ctx<'_>) {
        self.members.retain(|_, m| m.join_waiter.is_some());
        self.generation = self.generation.next();
        self.rebalance_deadline = None;
        self.snapshot_due = true;
        if self.members.is_empty() {
            self.protocol_name = None;
            self.leader = None;
            self.transition(GroupState::Empty, ctx.now);
            return;
        }
        self.protocol_name = Some(self.select_protocol());
        self.assigner = if self
            .members
            .values()
            .all(|m| m.kind == MemberKind::InProcess)
        {
            Assigner::Coordinator
        } else {
            Assigner::Leader
        };
        self.leader = Some(self.choose_leader());
        for member in self.members.values_mut() {
            member.refresh_session(ctx.now);
            member.assignment.clear();
        }
        match self.assigner {
            Assigner::Coordinator => {
                self.assign_ranges(ctx.topics);
                self.transition(GroupState::Stable, ctx.now);
            }
            Assigner::Leader => self.transition(GroupState::CompletingRebalance, ctx.now),
        }
        let ids: Vec<MemberId> = self.members.keys().cloned().collect();
        for id in ids {
            let response = self.join_response_for(&id);
            if let Some(waiter) = self.members.get_mut(&id).and_then(|m| m.join_waiter.take()) {
                let _ = waiter.send(Ok(response));
            }
        }
    }

    /// Kafka's vote: among protocols every member supports, each member votes for its
    /// most preferred one; most votes wins (ties go to the smaller name, for determinism).
    pub(super) fn select_protocol(&self) -> String {
        let common = common_protocols(self.members.values());
        let mut votes: BTreeMap<&str, usize> = BTreeMap::new();
        for member in self.members.values() {
            if let Some(p) = member
                .protocols
                .iter()
                .find(|p| common.contains(p.name.as_str()))
            {
                *votes.entry(p.name.as_str()).or_default() += 1;
            }
        }
        let best = votes.values().copied().max().unwrap_or(0);
        votes
            .into_iter()
            .find(|(_, count)| *count == best)
            .map(|(name, _)| name.to_owned())
            .or_else(|| {
                let first = self.members.values().next()?;
                Some(first.protocols.first()?.name.clone())
            })
            .unwrap_or_default()
    }

    pub(super) fn choose_leader(&self) -> MemberId {
        let eligible = |m: &&Member| match self.assigner {
            Assigner::Coordinator => true,
            Assigner::Leader => m.kind == MemberKind::KafkaClient,
        };
        if let Some(leader) = self.leader.as_ref().and_then(|id| self.members.get(id))
            && eligible(&leader)
        {
            return leader.id.clone();
        }
        self.members
            .values()
            .filter(eligible)
            .min_by_key(|m| m.join_seq)
            .map(|m| m.id.clone())
            .expect("complete_join only chooses a leader for a non-empty group")
    }

    /// Whether the coordinator assigns this group and a member subscribes to `topic`.
    pub(in crate::group) fn assigns_topic(&self, topic: &str) -> bool {
        self.assigner == Assigner::Coordinator
            && self.state != GroupState::Empty
            && self.members.values().any(|m| {
                ConsumerSubscription::decode(&m.metadata_for(self.protocol_name.as_deref()))
                    .is_ok_and(|s| s.topics.iter().any(|t| t == topic))
            })
    }

    pub(super) fn assign_ranges(&mut self, topics: &dyn TopicMetadata) {
        let protocol = self.protocol_name.as_deref();
        let subscriptions: BTreeMap<MemberId, Vec<String>> = self
            .members
            .values()
            .map(|m| {
                // In-process members' metadata is ours; a decoding failure cannot happen, and
                // would leave that member with nothing rather than fail the group.
                let topics = ConsumerSubscription::decode(&m.metadata_for(protocol))
                    .map(|s| s.topics)
                    .unwrap_or_default();
                (m.id.clone(), topics)
            })
            .collect();
        let assignment = range_assign(&subscriptions, |t| topics.partition_count(t));
        for (id, partitions) in assignment {
            if let Some(member) = self.members.get_mut(&id) {
                member.assignment = ConsumerAssignment {
                    partitions,
                    user_data: None,
                }
                .encode();
            }
        }
    }

    pub(super) fn join_response_for(&self, id: &MemberId) -> JoinResponse {
        let leader = self.leader.clone().unwrap_or_else(|| id.clone());
        let members = if self.assigner == Assigner::Leader && &leader == id {
            self.members
                .values()
                .map(|m| JoinedMember {
                    member_id: m.id.clone(),
                    group_instance_id: m.group_instance_id.clone(),
                    metadata: m.metadata_for(self.protocol_name.as_deref()),
                })
                .collect()
        } else {
            Vec::new()
        };
        JoinResponse {
            generation: self.generation,
            protocol_type: self.protocol_type.clone(),
            protocol_name: self.protocol_name.clone(),
            leader,
            member_id: id.clone(),
            members,
        }
    }
}

/// Protocol names every given member supports.
pub(super) fn common_protocols<'a>(members: impl Iterator<Item = &'a Member>) -> BTreeSet<&'a str> {
    let mut common: Option<BTreeSet<&str>> = None;
    for member in members {
        let names: BTreeSet<&str> = member.protocols.iter().map(|p| p.name.as_str()).collect();
        common = Some(match common {
            None => names,
            Some(c) => c.intersection(&names).copied().collect(),
        });
    }
    common.unwrap_or_default()
}
