//! One group's membership state machine, modelled on Kafka's classic group coordinator.
//!
//! It is synchronous and deterministic: every call gets the current time in a `Ctx`, and
//! answers to JoinGroup/SyncGroup go out through oneshot channels when the generation forms
//! or the leader's assignment arrives. The coordinator drives it under its lock and never
//! awaits while holding it.

use std::collections::{BTreeMap, HashMap};

use tokio::sync::oneshot;

use super::api::{GroupState, GroupStatus, JoinResponse, MemberKind, Protocol, SyncResponse};
use super::clock::Millis;
use super::records::GroupMetadataValue;
use super::{GenerationId, MemberId, TopicMetadata};
use crate::error::{Error, Result};

mod join;
mod rebalance;
mod snapshot;

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
    /// Ids handed out with MEMBER_ID_REQUIRED, valid until their deadline.
    pending_ids: BTreeMap<MemberId, Millis>,
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
            pending_ids: BTreeMap::new(),
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

    pub(super) fn status(&self) -> GroupStatus {
        GroupStatus {
            state: self.state,
            generation: self.generation,
        }
    }

    pub(super) fn generation(&self) -> GenerationId {
        self.generation
    }

    pub(super) fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Hands out `id` for a member that will join with it before `deadline` (how
    /// MEMBER_ID_REQUIRED and in-process members that must be able to leave mid-join work).
    pub(super) fn reserve_id(&mut self, id: MemberId, deadline: Millis) {
        self.pending_ids.insert(id, deadline);
    }

    /// Whether ids handed out with MEMBER_ID_REQUIRED are still waiting to be used.
    pub(super) fn has_pending_ids(&self) -> bool {
        !self.pending_ids.is_empty()
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
        self.pending_ids.retain(|_, deadline| *deadline > ctx.now);
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
    pub(in crate::group) fn request_rebalance(&mut self, ctx: Ctx<'_>) {
        if matches!(
            self.state,
            GroupState::Stable | GroupState::CompletingRebalance
        ) {
            self.prepare_rebalance(ctx);
        }
    }

    pub(super) fn remove_members(&mut self, ids: &[MemberId], ctx: Ctx<'_>) {
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
}
