//! JoinGroup: protocol checks, new members and rejoining members.

use tokio::sync::oneshot;

use super::rebalance::common_protocols;
use super::{Assigner, Ctx, JoinTicket, Member, Membership};
use crate::error::{Error, Result};
use crate::group::MemberId;
use crate::group::api::{GroupState, JoinRequest, JoinResponse, NewMemberPolicy};

impl Membership {
    /// JoinGroup. `new_member_id` is used when the request carries no member id.
    pub(in crate::group) fn join(
        &mut self,
        request: JoinRequest,
        new_member_id: MemberId,
        ctx: Ctx<'_>,
    ) -> Result<JoinTicket> {
        self.check_protocols(&request)?;
        let (tx, rx) = oneshot::channel();
        match request.member_id.clone() {
            None if request.new_member == NewMemberPolicy::RequireKnownId => {
                let deadline = ctx.now.plus_ms(i64::from(request.session_timeout_ms));
                self.reserve_id(new_member_id.clone(), deadline);
                return Err(Error::MemberIdRequired {
                    group: self.group.clone(),
                    member: new_member_id.to_string(),
                });
            }
            None => {
                self.replace_static_member(&request, ctx);
                self.add_member(new_member_id, request, tx, ctx);
            }
            Some(id) if self.pending_ids.remove(&id).is_some() => {
                self.replace_static_member(&request, ctx);
                self.add_member(id, request, tx, ctx);
            }
            Some(id) => self.rejoin(&id, request, tx, ctx)?,
        }
        Ok(rx)
    }

    pub(super) fn check_protocols(&self, request: &JoinRequest) -> Result<()> {
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

    /// A restarted static member (same `group.instance.id`, no member id yet) takes over
    /// from its old incarnation at once, instead of the group waiting a whole rebalance
    /// timeout for the old one. Its partitions still move through a normal rebalance.
    fn replace_static_member(&mut self, request: &JoinRequest, ctx: Ctx<'_>) {
        let Some(instance) = request.group_instance_id.as_deref() else {
            return;
        };
        let old: Vec<MemberId> = self
            .members
            .values()
            .filter(|m| m.group_instance_id.as_deref() == Some(instance))
            .map(|m| m.id.clone())
            .collect();
        if !old.is_empty() {
            self.remove_members(&old, ctx);
        }
    }

    pub(super) fn add_member(
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

    pub(super) fn rejoin(
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
}
