//! One group's membership state machine, modelled on Kafka's classic group coordinator.
//!
//! It is synchronous and deterministic: every call gets the current time in a [`Ctx`], and
//! answers to JoinGroup/SyncGroup go out through oneshot channels when the generation forms
//! or the leader's assignment arrives. The coordinator drives it under its lock and never
//! awaits while holding it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use tokio::sync::oneshot;

use super::api::{
    GroupDescription, GroupState, JoinRequest, JoinResponse, JoinedMember, MemberDescription,
    MemberKind, Protocol, SyncResponse,
};
use super::clock::Millis;
use super::consumer_protocol::{ConsumerAssignment, ConsumerSubscription};
use super::range::range_assign;
use super::records::{GroupMetadataValue, MemberMetadataRecord};
use super::{GenerationId, MemberId, TopicMetadata};
use crate::error::{Error, Result};

/// What every state transition needs from outside: the time and the topic table.
#[derive(Clone, Copy)]
pub(super) struct Ctx<'a> {
    pub now: Millis,
    pub topics: &'a dyn TopicMetadata,
}

pub(super) type JoinTicket = oneshot::Receiver<Result<JoinResponse>>;
pub(super) type SyncTicket = oneshot::Receiver<Result<SyncResponse>>;

/// Who computes the current generation's assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Assigner {
    /// The coordinator (all members are in-process): range assignment at join completion.
    Coordinator,
    /// The leader, a Kafka client, through SyncGroup.
    Leader,
}

#[derive(Debug)]
struct Member {
    id: MemberId,
    group_instance_id: Option<String>,
    client_id: String,
    client_host: String,
    kind: MemberKind,
    session_timeout_ms: i32,
    rebalance_timeout_ms: i32,
    protocols: Vec<Protocol>,
    assignment: Vec<u8>,
    /// Join order; the earliest eligible member becomes leader, as in Kafka.
    join_seq: u64,
    session_deadline: Millis,
    join_waiter: Option<oneshot::Sender<Result<JoinResponse>>>,
    sync_waiter: Option<oneshot::Sender<Result<SyncResponse>>>,
}

impl Member {
    fn metadata_for(&self, protocol: Option<&str>) -> Vec<u8> {
        protocol
            .and_then(|name| self.protocols.iter().find(|p| p.name == name))
            .map(|p| p.metadata.clone())
            .unwrap_or_default()
    }

    /// A member waiting for a JoinGroup or SyncGroup answer is alive by definition; its
    /// session timer restarts when the answer goes out.
    fn is_waiting(&self) -> bool {
        self.join_waiter.is_some() || self.sync_waiter.is_some()
    }

    fn refresh_session(&mut self, now: Millis) {
        self.session_deadline = now.plus_ms(i64::from(self.session_timeout_ms));
    }
}

/// The membership of one group.
#[derive(Debug)]
pub struct Membership {
    group: String,
    state: GroupState,
    generation: GenerationId,
    protocol_type: Option<String>,
    protocol_name: Option<String>,
    leader: Option<MemberId>,
    assigner: Assigner,
    members: BTreeMap<MemberId, Member>,
    rebalance_deadline: Option<Millis>,
    state_since: Millis,
    next_join_seq: u64,
    /// Set when the generation or assignment changed and a GroupMetadata record is owed.
    snapshot_due: bool,
}

impl Membership {
    pub(super) fn new(group: &str, now: Millis) -> Self {
        Self {
            group: group.to_owned(),
            state: GroupState::Empty,
            generation: GenerationId(0),
            protocol_type: None,
            protocol_name: None,
            leader: None,
            assigner: Assigner::Coordinator,
            members: BTreeMap::new(),
            rebalance_deadline: None,
            state_since: now,
            next_join_seq: 0,
            snapshot_due: false,
        }
    }

    /// A group restored from its last GroupMetadata record. Members are not restored: after
    /// a restart in-process consumers join afresh, and Kafka clients learn from
    /// UNKNOWN_MEMBER_ID that they must rejoin; the generation carries on.
    pub(super) fn restored(group: &str, snapshot: &GroupMetadataValue, now: Millis) -> Self {
        let mut membership = Self::new(group, now);
        membership.generation = snapshot.generation;
        if !snapshot.protocol_type.is_empty() {
            membership.protocol_type = Some(snapshot.protocol_type.clone());
        }
        membership
    }

    pub(super) fn state(&self) -> GroupState {
        self.state
    }

    pub(super) fn generation(&self) -> GenerationId {
        self.generation
    }

    pub(super) fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    fn unknown_member(&self, member: &MemberId) -> Error {
        Error::UnknownMember {
            group: self.group.clone(),
            member: member.to_string(),
        }
    }

    fn rebalance_in_progress(&self) -> Error {
        Error::RebalanceInProgress {
            group: self.group.clone(),
        }
    }

    fn check_generation(&self, member: &MemberId, generation: GenerationId) -> Result<()> {
        if generation == self.generation {
            return Ok(());
        }
        Err(Error::IllegalGeneration {
            group: self.group.clone(),
            member: member.to_string(),
            requested: generation.0,
            current: self.generation.0,
        })
    }

    /// JoinGroup. `new_member_id` is used when the request carries no member id.
    pub(super) fn join(
        &mut self,
        request: JoinRequest,
        new_member_id: MemberId,
        ctx: Ctx<'_>,
    ) -> Result<JoinTicket> {
        self.check_protocols(&request)?;
        let (tx, rx) = oneshot::channel();
        match request.member_id.clone() {
            None => self.add_member(new_member_id, request, tx, ctx),
            Some(id) => self.rejoin(&id, request, tx, ctx)?,
        }
        Ok(rx)
    }

    fn check_protocols(&self, request: &JoinRequest) -> Result<()> {
        let inconsistent = |reason: String| Error::InconsistentGroupProtocol {
            group: self.group.clone(),
            reason,
        };
        if request.protocols.is_empty() || request.protocol_type.is_empty() {
            return Err(inconsistent(
                "the join request names no protocol type or no protocols".into(),
            ));
        }
        let others: Vec<&Member> = self
            .members
            .values()
            .filter(|m| Some(&m.id) != request.member_id.as_ref())
            .collect();
        if others.is_empty() {
            return Ok(());
        }
        let group_type = self.protocol_type.as_deref().unwrap_or_default();
        if request.protocol_type != group_type {
            return Err(inconsistent(format!(
                "protocol type `{}` differs from the group's `{group_type}`",
                request.protocol_type
            )));
        }
        let common = common_protocols(others.iter().copied());
        if !request
            .protocols
            .iter()
            .any(|p| common.contains(p.name.as_str()))
        {
            return Err(inconsistent(format!(
                "none of the protocols {:?} is supported by every member (they share {:?})",
                request
                    .protocols
                    .iter()
                    .map(|p| &p.name)
                    .collect::<Vec<_>>(),
                common
            )));
        }
        Ok(())
    }

    fn add_member(
        &mut self,
        id: MemberId,
        request: JoinRequest,
        waiter: oneshot::Sender<Result<JoinResponse>>,
        ctx: Ctx<'_>,
    ) {
        if self.members.is_empty() {
            self.protocol_type = Some(request.protocol_type.clone());
        }
        let mut member = Member {
            id: id.clone(),
            group_instance_id: request.group_instance_id,
            client_id: request.client_id,
            client_host: request.client_host,
            kind: request.kind,
            session_timeout_ms: request.session_timeout_ms,
            rebalance_timeout_ms: request.rebalance_timeout_ms,
            protocols: request.protocols,
            assignment: Vec::new(),
            join_seq: self.next_join_seq,
            session_deadline: ctx.now,
            join_waiter: Some(waiter),
            sync_waiter: None,
        };
        member.refresh_session(ctx.now);
        self.next_join_seq += 1;
        self.members.insert(id, member);
        match self.state {
            GroupState::PreparingRebalance => self.maybe_complete_join(ctx),
            _ => self.prepare_rebalance(ctx),
        }
    }

    fn rejoin(
        &mut self,
        id: &MemberId,
        request: JoinRequest,
        waiter: oneshot::Sender<Result<JoinResponse>>,
        ctx: Ctx<'_>,
    ) -> Result<()> {
        let leader_rejoins = self.assigner == Assigner::Leader && self.leader.as_ref() == Some(id);
        let unknown = self.unknown_member(id);
        let member = self.members.get_mut(id).ok_or(unknown)?;
        let changed = member.protocols != request.protocols || member.kind != request.kind;
        member.protocols = request.protocols;
        member.kind = request.kind;
        member.client_id = request.client_id;
        member.client_host = request.client_host;
        member.group_instance_id = request.group_instance_id;
        member.session_timeout_ms = request.session_timeout_ms;
        member.rebalance_timeout_ms = request.rebalance_timeout_ms;
        member.refresh_session(ctx.now);
        match self.state {
            GroupState::PreparingRebalance => {
                member.join_waiter = Some(waiter);
                self.maybe_complete_join(ctx);
            }
            // The same member with the same metadata probably lost our JoinGroup answer:
            // repeat it rather than start another rebalance.
            GroupState::CompletingRebalance if !changed => {
                let _ = waiter.send(Ok(self.join_response_for(id)));
            }
            GroupState::Stable if !changed && !leader_rejoins => {
                let _ = waiter.send(Ok(self.join_response_for(id)));
            }
            GroupState::CompletingRebalance | GroupState::Stable => {
                member.join_waiter = Some(waiter);
                self.prepare_rebalance(ctx);
            }
            GroupState::Empty | GroupState::Dead => return Err(self.unknown_member(id)),
        }
        Ok(())
    }

    /// SyncGroup.
    pub(super) fn sync(
        &mut self,
        member_id: &MemberId,
        generation: GenerationId,
        assignments: Vec<(MemberId, Vec<u8>)>,
        now: Millis,
    ) -> Result<SyncTicket> {
        if !self.members.contains_key(member_id) {
            return Err(self.unknown_member(member_id));
        }
        self.check_generation(member_id, generation)?;
        let (tx, rx) = oneshot::channel();
        match self.state {
            GroupState::PreparingRebalance => return Err(self.rebalance_in_progress()),
            GroupState::Empty | GroupState::Dead => return Err(self.unknown_member(member_id)),
            GroupState::Stable => {
                let member = self.members.get_mut(member_id).expect("checked above");
                member.refresh_session(now);
                let _ = tx.send(Ok(SyncResponse {
                    protocol_type: self.protocol_type.clone(),
                    protocol_name: self.protocol_name.clone(),
                    assignment: member.assignment.clone(),
                }));
            }
            GroupState::CompletingRebalance => {
                let member = self.members.get_mut(member_id).expect("checked above");
                member.refresh_session(now);
                member.sync_waiter = Some(tx);
                if self.leader.as_ref() == Some(member_id) {
                    let mut given: HashMap<MemberId, Vec<u8>> = assignments.into_iter().collect();
                    for m in self.members.values_mut() {
                        m.assignment = given.remove(&m.id).unwrap_or_default();
                    }
                    self.transition(GroupState::Stable, now);
                    self.snapshot_due = true;
                    for m in self.members.values_mut() {
                        if let Some(waiter) = m.sync_waiter.take() {
                            let _ = waiter.send(Ok(SyncResponse {
                                protocol_type: self.protocol_type.clone(),
                                protocol_name: self.protocol_name.clone(),
                                assignment: m.assignment.clone(),
                            }));
                        }
                    }
                }
            }
        }
        Ok(rx)
    }

    /// Heartbeat: keeps the session alive and tells the member when it must rejoin.
    pub(super) fn heartbeat(
        &mut self,
        member_id: &MemberId,
        generation: GenerationId,
        now: Millis,
    ) -> Result<()> {
        let state = self.state;
        let generation_check = self.check_generation(member_id, generation);
        let unknown = self.unknown_member(member_id);
        let rebalancing = self.rebalance_in_progress();
        let member = self.members.get_mut(member_id).ok_or(unknown)?;
        match state {
            GroupState::PreparingRebalance => {
                member.refresh_session(now);
                Err(rebalancing)
            }
            GroupState::CompletingRebalance | GroupState::Stable => {
                generation_check?;
                member.refresh_session(now);
                Ok(())
            }
            GroupState::Empty | GroupState::Dead => Err(self.unknown_member(member_id)),
        }
    }

    /// Checks that an offset commit may proceed (Kafka's rules): a consumer outside any
    /// generation may commit only to a group without members; members must be current.
    pub(super) fn validate_commit(
        &mut self,
        member_id: Option<&MemberId>,
        generation: GenerationId,
        now: Millis,
    ) -> Result<()> {
        if generation.0 < 0 && self.members.is_empty() {
            return Ok(());
        }
        let anonymous = MemberId::from("");
        let member_id = member_id.unwrap_or(&anonymous);
        if !self.members.contains_key(member_id) {
            return Err(self.unknown_member(member_id));
        }
        self.check_generation(member_id, generation)?;
        if self.state == GroupState::CompletingRebalance {
            return Err(self.rebalance_in_progress());
        }
        if let Some(member) = self.members.get_mut(member_id) {
            member.refresh_session(now);
        }
        Ok(())
    }

    /// LeaveGroup.
    pub(super) fn leave(&mut self, member_id: &MemberId, ctx: Ctx<'_>) -> Result<()> {
        if !self.members.contains_key(member_id) {
            return Err(self.unknown_member(member_id));
        }
        self.remove_members(std::slice::from_ref(member_id), ctx);
        Ok(())
    }

    /// Expires members whose session ran out and completes a rebalance whose deadline
    /// passed. Returns the expired members.
    pub(super) fn tick(&mut self, ctx: Ctx<'_>) -> Vec<MemberId> {
        let expired: Vec<MemberId> = self
            .members
            .values()
            .filter(|m| !m.is_waiting() && m.session_deadline <= ctx.now)
            .map(|m| m.id.clone())
            .collect();
        if !expired.is_empty() {
            self.remove_members(&expired, ctx);
        }
        if self.state == GroupState::PreparingRebalance
            && self.rebalance_deadline.is_some_and(|d| d <= ctx.now)
        {
            self.complete_join(ctx);
        }
        expired
    }

    /// Starts a rebalance, e.g. because a subscribed topic gained partitions.
    pub(super) fn request_rebalance(&mut self, ctx: Ctx<'_>) {
        if matches!(
            self.state,
            GroupState::Stable | GroupState::CompletingRebalance
        ) {
            self.prepare_rebalance(ctx);
        }
    }

    fn remove_members(&mut self, ids: &[MemberId], ctx: Ctx<'_>) {
        for id in ids {
            if let Some(mut member) = self.members.remove(id) {
                if let Some(waiter) = member.join_waiter.take() {
                    let _ = waiter.send(Err(self.unknown_member(id)));
                }
                if let Some(waiter) = member.sync_waiter.take() {
                    let _ = waiter.send(Err(self.unknown_member(id)));
                }
            }
        }
        match self.state {
            GroupState::Stable | GroupState::CompletingRebalance => self.prepare_rebalance(ctx),
            GroupState::PreparingRebalance => self.maybe_complete_join(ctx),
            GroupState::Empty | GroupState::Dead => {}
        }
    }

    fn transition(&mut self, state: GroupState, now: Millis) {
        self.state = state;
        self.state_since = now;
    }

    fn prepare_rebalance(&mut self, ctx: Ctx<'_>) {
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

    fn maybe_complete_join(&mut self, ctx: Ctx<'_>) {
        if self.state == GroupState::PreparingRebalance
            && self.members.values().all(|m| m.join_waiter.is_some())
        {
            self.complete_join(ctx);
        }
    }

    /// Forms the next generation from the members that rejoined; the others are removed.
    fn complete_join(&mut self, ctx: Ctx<'_>) {
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
    fn select_protocol(&self) -> String {
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

    fn choose_leader(&self) -> MemberId {
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

    fn assign_ranges(&mut self, topics: &dyn TopicMetadata) {
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

    fn join_response_for(&self, id: &MemberId) -> JoinResponse {
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

    /// The GroupMetadata record owed since the last call, if any.
    pub(super) fn take_snapshot(&mut self) -> Option<GroupMetadataValue> {
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
    pub(super) fn assignments(&self) -> impl Iterator<Item = (&MemberId, &[u8])> {
        self.members
            .values()
            .map(|m| (&m.id, m.assignment.as_slice()))
    }

    pub(super) fn protocol_type(&self) -> Option<&str> {
        self.protocol_type.as_deref()
    }

    pub(super) fn describe(&self) -> GroupDescription {
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

/// Protocol names every given member supports.
fn common_protocols<'a>(members: impl Iterator<Item = &'a Member>) -> BTreeSet<&'a str> {
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
